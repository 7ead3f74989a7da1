"""Typed LangGraph interrupts: a response of choices or a Pydantic model is a typed kind, the
reviewer picks or edits through the engine's checks, and the graph resumes with the value."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from placet.domain.models import DecisionKind
from placet.engine import DecisionRequest
from placet.errors import InvalidInputError, UsageError
from placet.integrations.langgraph import PlacetInterrupts
from placet.sdk.client import Client, connect
from placet.testing import FakeProvider, person


class Refund(BaseModel):
    amount: float
    note: str


class State(TypedDict, total=False):
    post: str
    verdict: Any
    refund: Any


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


def one_node_graph(saver: SqliteSaver, node: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("review", node)
    builder.add_edge(START, "review")
    builder.add_edge("review", END)
    return builder.compile(checkpointer=saver)


def waiting_task(client: Client, kind: str) -> str:
    (task,) = [t for t in client.engine.iter_tasks() if t.kind == kind]
    return task.id


def test_a_choice_interrupt_resumes_with_the_pick_the_reviewer_made(
    client: Client, saver: SqliteSaver
) -> None:
    reviews = PlacetInterrupts(client, kind="moderation", response=["allow", "remove", "escalate"])

    def moderate(state: State) -> State:
        proposal = {"choice": "allow", "reason": "looks fine"}
        review = reviews.interrupt({"post": state["post"]}, proposal=proposal)
        return {"verdict": [review.action, review.choice, review.value]}

    graph = one_node_graph(saver, moderate)
    config: Any = {"configurable": {"thread_id": "t1"}}
    assert "__interrupt__" in graph.invoke({"post": "buy pills"}, config)
    task_id = waiting_task(client, "moderation")
    with pytest.raises(InvalidInputError):  # the engine refuses a choice the kind lacks
        client.engine.decide(
            DecisionRequest(task_id, DecisionKind.APPROVE, person("rev"), choice=("ban",))
        )
    client.decide(task_id, DecisionKind.EDIT, choice="remove", reason="spam")
    result = graph.invoke(reviews.wait(graph, config, timeout=10), config)
    action, choice, value = result["verdict"]
    assert (action, choice) == ("edit", "remove")
    assert value == {"choice": "remove", "reason": "spam"}


def test_a_model_interrupt_resumes_with_an_instance_of_the_edited_object(
    client: Client, saver: SqliteSaver
) -> None:
    reviews = PlacetInterrupts(client, kind="refund_review", response=Refund)

    def refund(state: State) -> State:
        review = reviews.interrupt({"post": state["post"]}, proposal=Refund(amount=10, note="x"))
        return {"refund": review.value}

    graph = one_node_graph(saver, refund)
    config: Any = {"configurable": {"thread_id": "t2"}}
    graph.invoke({"post": "late parcel"}, config)
    task_id = waiting_task(client, "refund_review")
    with pytest.raises(InvalidInputError, match="amount"):
        client.decide(task_id, DecisionKind.EDIT, text='{"amount": "ten", "note": "y"}')
    client.decide(task_id, DecisionKind.EDIT, text='{"amount": 12.5, "note": "sorry"}')
    result = graph.invoke(reviews.wait(graph, config, timeout=10), config)
    assert result["refund"] == Refund(amount=12.5, note="sorry")


def test_a_typed_interrupt_without_a_proposal_is_refused_saying_how(client: Client) -> None:
    reviews = PlacetInterrupts(client, kind="moderation", response=["allow", "remove"])
    with pytest.raises(UsageError, match="give the proposed answer"):
        reviews.interrupt({"post": "x"})
    with pytest.raises(UsageError, match="list of choices, a JSON Schema"):
        PlacetInterrupts(client, kind="other", response=42)
