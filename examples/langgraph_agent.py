"""A LangGraph agent whose email-sending tool needs a person's approval through Placet.

    pip install langgraph langgraph-checkpoint-sqlite
    python examples/langgraph_agent.py ada@example.com "the free trial"

The agent drafts an email with the local model (no key, no network; with
GROQ_API_KEY set, Groq drafts), then its send_email tool pauses the graph with
Placet's interrupt. The email waits in `placet ls`, the dashboard and
human_feedback/pending/; whatever a person decides is what the graph receives:
approve or edit sends the email as approved, revise sends the agent back to
redraft with the feedback, reject ends the run with the reason. The graph's
state lives in langgraph.db, Placet's in placet.db, both in this folder.
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from contextlib import closing
from typing import Any, TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

import placet
from placet.domain.models import TaskKind
from placet.integrations.langgraph import PlacetInterrupts
from placet.providers.base import CompletionRequest

client = placet.connect(requester="email-agent")
reviews = PlacetInterrupts(client, kind="send_email")


class Email(TypedDict, total=False):
    to: str
    topic: str
    body: str
    feedback: str
    outcome: str


def draft(state: Email) -> Email:
    """The model writes (or rewrites, with the reviewer's feedback) the email."""
    ask = f"Write a three-sentence email to {state['to']} about {state['topic']}."
    if "feedback" in state:
        ask += f" Reviewer's feedback on the last draft: {state['feedback']}"
    model = client.engine.settings.model_for(TaskKind("email", template=""))
    request = CompletionRequest([{"role": "user", "content": ask}], max_tokens=160, temperature=0.7)
    return {"body": client.engine.provider(model).complete(request).text.strip()}


def send_email(state: Email) -> Command[Any] | Email:
    """The risky tool: nothing before the review has side effects (the node re-runs)."""
    review = reviews.interrupt({"to": state["to"], "body": state["body"]}, title="Send email?")
    if review.approved:
        print(f"\nSENT to {review.value['to']}:\n{review.value['body']}")  # a real mailer here
        return {"outcome": f"sent ({review.action} by {review.reviewer})"}
    if review.action == "revise":
        return Command(goto="draft", update={"feedback": review.feedback})
    return {"outcome": f"not sent: {review.reason}"}


def main(to: str = "ada@example.com", topic: str = "the free trial") -> int:
    builder = StateGraph(Email)
    builder.add_node("draft", draft)
    builder.add_node("send_email", send_email)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "send_email")
    builder.add_edge("send_email", END)
    with closing(sqlite3.connect("langgraph.db", check_same_thread=False)) as conn:
        graph = builder.compile(checkpointer=SqliteSaver(conn))
        config: Any = {"configurable": {"thread_id": uuid.uuid4().hex}}
        result = graph.invoke({"to": to, "topic": topic}, config)
        while "__interrupt__" in result:  # a revision pauses again, with a new draft
            task_id = result["__interrupt__"][0].value["placet_task_id"]
            print(f"\nwaiting for a person to decide task {task_id}; in another terminal:")
            print(f"  placet show {task_id}")
            print(f"  placet approve {task_id}     (or edit / revise / reject, or placet review)")
            result = reviews.resume(graph, config)
    print(f"\n{result['outcome']}")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
