"""LangGraph interrupts reviewed in Placet: the real langgraph and its SQLite checkpointer."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command
from typer.testing import CliRunner

from placet.cli import app
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest
from placet.errors import InvalidInputError, UsageError
from placet.integrations.langgraph import (
    AlreadyResumed,
    Graph,
    PlacetInterrupts,
    Review,
)
from placet.providers.base import CompletionRequest
from placet.sdk.client import Client, connect
from placet.testing import FakeProvider, person

KIND = "email_review"


class EmailState(TypedDict, total=False):
    to: str
    body: str
    feedback: str
    outcome: str


@dataclass
class Mailer:
    """The side effect under guard, and how often the guarded node ran."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    node_runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def email_graph(reviews: PlacetInterrupts, saver: Any, mailer: Mailer, model: FakeProvider) -> Any:
    """draft -> send; send needs approval, a revision loops back to draft with the feedback."""

    def draft(state: EmailState) -> EmailState:
        ask = f"Email {state['to']}" + (
            f"; fix: {state['feedback']}" if "feedback" in state else ""
        )
        completion = model.complete(CompletionRequest([{"role": "user", "content": ask}], 64, 0.0))
        return {"body": completion.text}

    def send(state: EmailState) -> Command[Any] | EmailState:
        with mailer.lock:
            mailer.node_runs += 1
        review = reviews.interrupt({"to": state["to"], "body": state["body"]}, title="Send?")
        if review.approved:
            with mailer.lock:
                mailer.sent.append(review.value)
            return {"outcome": "sent"}
        if review.action == "revise":
            return Command(goto="draft", update={"feedback": review.feedback})
        return {"outcome": f"not sent: {review.reason}"}

    builder = StateGraph(EmailState)
    builder.add_node("draft", draft)
    builder.add_node("send", send)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "send")
    builder.add_edge("send", END)
    return builder.compile(checkpointer=saver)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with connect(
        f"sqlite:///{tmp_path / 'placet.db'}",
        directory=str(tmp_path),
        requester="agent",
        provider_for=lambda _model: FakeProvider(),
    ) as opened:
        yield opened


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    conn = sqlite3.connect(tmp_path / "checkpoints.db", check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


@pytest.fixture
def reviews(client: Client) -> PlacetInterrupts:
    return PlacetInterrupts(client, kind=KIND)


@pytest.fixture
def mailer() -> Mailer:
    return Mailer()


@pytest.fixture
def graph(reviews: PlacetInterrupts, saver: SqliteSaver, mailer: Mailer) -> Any:
    return email_graph(reviews, saver, mailer, FakeProvider())


def thread(name: str) -> RunnableConfig:
    return {"configurable": {"thread_id": name}}


def items(client: Client) -> list[Task]:
    """The review items, as ``placet ls`` lists them."""
    return client.engine.list_tasks(TaskFilter(kinds=(KIND,)))


def decide(client: Client, task_id: str, kind: DecisionKind, **fields: Any) -> None:
    client.engine.decide(DecisionRequest(task_id, kind, person("rosa"), **fields))


def paused(graph: Graph, config: RunnableConfig) -> str:
    """Run the thread to its interrupt; the id of the review item it made."""
    result = graph.invoke({"to": "ada@example.com"}, config)
    (interrupt,) = result["__interrupt__"]
    return str(interrupt.value["placet_task_id"])


def test_the_interrupt_is_a_review_item_with_its_payload(
    client: Client, reviews: PlacetInterrupts, graph: Graph
) -> None:
    task_id = paused(graph, thread("t-1"))
    (task,) = items(client)
    assert task.id == task_id and task.status is TaskStatus.AWAITING_REVIEW
    assert task.input["call"]["arguments"] == {
        "to": "ada@example.com",
        "body": "Draft 1: Email ada@example.com",
    }
    (pending,) = reviews.pending(graph, thread("t-1"))
    assert task.input["langgraph"]["thread_id"] == "t-1"
    assert task.input["langgraph"]["interrupt_id"] == pending.interrupt_id
    assert task.input["langgraph"]["node"] == "send" and task.input["title"] == "Send?"
    draft = client.engine.detail(task_id).current_draft
    assert draft is not None and json.loads(draft.output) == task.input["call"]["arguments"]


def test_approve_sends_the_original(
    client: Client, reviews: PlacetInterrupts, graph: Graph, mailer: Mailer
) -> None:
    task_id = paused(graph, thread("t-1"))
    decide(client, task_id, DecisionKind.APPROVE)
    result = graph.invoke(reviews.wait(graph, thread("t-1"), timeout=10), thread("t-1"))
    assert result["outcome"] == "sent"
    assert mailer.sent == [{"to": "ada@example.com", "body": "Draft 1: Email ada@example.com"}]


def test_edit_sends_the_edited_payload(
    client: Client, reviews: PlacetInterrupts, graph: Graph, mailer: Mailer
) -> None:
    task_id = paused(graph, thread("t-1"))
    edited = {"to": "ada@example.com", "body": "Welcome aboard, Ada!"}
    decide(client, task_id, DecisionKind.EDIT, text=json.dumps(edited))
    assert reviews.resume(graph, thread("t-1"), timeout=10)["outcome"] == "sent"
    assert mailer.sent == [edited]
    resumed = client.engine.detail(task_id).events[-1]
    assert resumed.type == "langgraph_resumed" and resumed.payload["action"] == "edit"


def test_an_edit_that_breaks_the_payload_is_refused_before_the_graph_sees_it(
    client: Client, graph: Graph
) -> None:
    task_id = paused(graph, thread("t-1"))
    with pytest.raises(InvalidInputError, match=r"'body' .* is required"):
        decide(client, task_id, DecisionKind.EDIT, text='{"to": "ada@example.com"}')
    assert client.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW


def test_revise_hands_the_feedback_to_the_graph_which_redrafts(
    client: Client, reviews: PlacetInterrupts, graph: Graph, mailer: Mailer
) -> None:
    config = thread("t-1")
    first = paused(graph, config)
    decide(client, first, DecisionKind.REVISE, feedback="Say hello")
    result = graph.invoke(reviews.wait(graph, config, timeout=10), config)
    assert result["feedback"] == "Say hello" and mailer.sent == []
    (interrupt,) = result["__interrupt__"]
    second = interrupt.value["placet_task_id"]
    assert second != first and [t.id for t in items(client)] == [first, second]
    assert interrupt.value["payload"]["body"] == "Draft 1: Email ada@example.com; fix: Say hello"
    decide(client, second, DecisionKind.APPROVE)
    graph.invoke(reviews.wait(graph, config, timeout=10), config)
    assert mailer.sent == [interrupt.value["payload"]]


def test_reject_ends_the_graph_without_sending_and_gives_the_reason(
    client: Client, reviews: PlacetInterrupts, graph: Graph, mailer: Mailer
) -> None:
    task_id = paused(graph, thread("t-1"))
    decide(client, task_id, DecisionKind.REJECT, reason="Wrong customer.")
    command = reviews.wait(graph, thread("t-1"), timeout=10)
    result = graph.invoke(command, thread("t-1"))
    assert result["outcome"] == "not sent: Wrong customer." and mailer.sent == []
    assert graph.get_state(thread("t-1")).next == ()
    assert isinstance(command.resume, dict)
    assert Review.from_resume(next(iter(command.resume.values()))).reviewer == "rosa"


def test_a_node_that_runs_again_makes_no_second_item(
    client: Client, reviews: PlacetInterrupts, graph: Graph, mailer: Mailer
) -> None:
    config = thread("t-1")
    task_id = paused(graph, config)
    rerun = graph.invoke(None, config)  # the paused node runs again from its start
    assert rerun["__interrupt__"][0].value["placet_task_id"] == task_id
    decide(client, task_id, DecisionKind.APPROVE)
    graph.invoke(reviews.wait(graph, config, timeout=10), config)
    assert mailer.node_runs == 3 and len(mailer.sent) == 1
    assert [t.id for t in items(client)] == [task_id]


def test_a_decision_is_handed_to_the_graph_once(
    client: Client, reviews: PlacetInterrupts, graph: Graph
) -> None:
    task_id = paused(graph, thread("t-1"))
    with pytest.raises(TimeoutError):
        reviews.wait(graph, thread("t-1"), timeout=0.2)
    decide(client, task_id, DecisionKind.APPROVE)
    reviews.wait(graph, thread("t-1"), timeout=10)
    with pytest.raises(AlreadyResumed):
        reviews.wait(graph, thread("t-1"), timeout=10)


def test_the_resumer_resumes_each_decided_thread_once(
    client: Client, reviews: PlacetInterrupts, graph: Graph, mailer: Mailer
) -> None:
    ids = {name: paused(graph, thread(name)) for name in ("a", "b", "c", "d")}
    decide(client, ids["a"], DecisionKind.APPROVE)
    decide(client, ids["b"], DecisionKind.REJECT, reason="No.")
    decide(client, ids["c"], DecisionKind.EDIT, text='{"to": "c@example.com", "body": "Hi"}')
    resumer = reviews.resumer(graph)
    passes: list[Any] = []
    workers = [
        threading.Thread(target=lambda: passes.append(resumer.resume_decided())) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert resumer.resume_decided() == [] and reviews.resumer(graph).resume_decided() == []
    resumed = sorted(entry.thread_id for entries in passes for entry in entries)
    assert resumed == ["a", "b", "c"] and mailer.node_runs == 4 + 3
    assert sorted(m["body"] for m in mailer.sent) == ["Draft 1: Email ada@example.com", "Hi"]
    assert graph.get_state(thread("b")).values["outcome"] == "not sent: No."
    assert graph.get_state(thread("d")).next == ("send",)  # undecided: still waiting
    events = [e.type for e in client.engine.detail(ids["a"]).events]
    assert events[-2:] == ["execution_started", "langgraph_resumed"]


def test_the_resumer_loop_wakes_on_a_decision(
    client: Client, reviews: PlacetInterrupts, graph: Graph, mailer: Mailer
) -> None:
    task_id = paused(graph, thread("t-1"))
    stop = threading.Event()
    loop = threading.Thread(target=reviews.resumer(graph).run, args=(stop, 0.05))
    loop.start()
    try:
        decide(client, task_id, DecisionKind.APPROVE)
        token = client.engine.store.change_token()
        for _ in range(200):
            if mailer.sent:
                break
            token = client.engine.store.wait_for_change(token, 0.05)
    finally:
        stop.set()
        loop.join()
    assert len(mailer.sent) == 1


def test_reviewers_use_the_cli_as_for_any_task(
    client: Client, graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id = paused(graph, thread("t-1"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLACET_DATABASE_URL", f"sqlite:///{tmp_path / 'placet.db'}")
    runner = CliRunner(env={"COLUMNS": "200"})  # wide enough for the whole kind name
    listed = runner.invoke(app, ["ls"])
    assert listed.exit_code == 0 and task_id in listed.output and KIND in listed.output
    shown = runner.invoke(app, ["show", task_id])
    assert shown.exit_code == 0 and "ada@example.com" in shown.output
    edited = '{"to": "ada@example.com", "body": "Hello Ada"}'
    assert runner.invoke(app, ["edit", task_id, "--text", edited, "--as", "rosa"]).exit_code == 0
    assert client.engine.get(task_id).final_output == edited


def test_a_ready_review_node_with_a_text_payload(client: Client) -> None:
    reviews = PlacetInterrupts(client, kind="answer_review")

    class State(TypedDict, total=False):
        answer: str
        review: dict[str, Any]

    builder = StateGraph(State)
    builder.add_node("review", reviews.node("answer"))
    builder.add_edge(START, "review")
    graph = builder.compile(checkpointer=InMemorySaver())
    result = graph.invoke({"answer": "42"}, thread("q"))
    task_id = result["__interrupt__"][0].value["placet_task_id"]
    assert client.engine.get(task_id).input["payload"] == "42"
    decide(client, task_id, DecisionKind.EDIT, text="forty-two")
    final = graph.invoke(reviews.wait(graph, thread("q"), timeout=10), thread("q"))
    review = Review.from_resume(final["review"])
    assert (review.action, review.value, review.reviewer) == ("edit", "forty-two", "rosa")


def test_a_payload_that_cannot_be_stored_fails_in_the_node(
    client: Client, reviews: PlacetInterrupts
) -> None:
    builder = StateGraph(EmailState)
    builder.add_node("send", lambda state: {"outcome": reviews.interrupt({"at": object()}).action})
    builder.add_edge(START, "send")
    graph = builder.compile(checkpointer=InMemorySaver())
    with pytest.raises(InvalidInputError, match="payload cannot be stored"):
        graph.invoke({"to": "x"}, thread("x"))
    assert items(client) == []


def _async_review_graph(reviews: PlacetInterrupts, pass_config: bool) -> Any:
    async def send(state: EmailState, config: RunnableConfig) -> EmailState:
        question = f"Send to {state['to']}?"
        if pass_config:
            review = await reviews.ainterrupt(question, config=config)
        else:
            review = await reviews.ainterrupt(question)
        return {"outcome": review.action}

    builder = StateGraph(EmailState)
    builder.add_node("send", send)
    builder.add_edge(START, "send")
    return builder.compile(checkpointer=InMemorySaver())


def _reject_through_async_graph(client: Client, reviews: PlacetInterrupts, graph: Any) -> Any:
    async def scenario() -> Any:
        result = await graph.ainvoke({"to": "x@example.com"}, thread("async"))
        task_id = result["__interrupt__"][0].value["placet_task_id"]
        await asyncio.to_thread(decide, client, task_id, DecisionKind.REJECT, reason="No.")
        command = await reviews.wait_async(graph, thread("async"), timeout=10)
        return await graph.ainvoke(command, thread("async"))

    return asyncio.run(scenario())


def test_async_nodes_that_pass_their_config_work_on_every_python(
    client: Client, reviews: PlacetInterrupts
) -> None:
    graph = _async_review_graph(reviews, pass_config=True)
    assert _reject_through_async_graph(client, reviews, graph)["outcome"] == "reject"


def test_async_nodes_without_their_config(client: Client, reviews: PlacetInterrupts) -> None:
    graph = _async_review_graph(reviews, pass_config=False)
    if sys.version_info >= (3, 11):  # asyncio passes the run's context to the node
        assert _reject_through_async_graph(client, reviews, graph)["outcome"] == "reject"
        return
    with pytest.raises(UsageError, match=r"ainterrupt\(payload, config=config\)"):
        _reject_through_async_graph(client, reviews, graph)
