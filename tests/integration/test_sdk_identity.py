"""Who decides through the SDK and what resumes a LangGraph thread: the engine's one check."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

import placet
from placet.domain.models import TaskStatus
from placet.integrations.langgraph import PlacetInterrupts
from placet.sdk.client import Client, connect
from placet.testing import FakeProvider
from tests.integration.test_langgraph import Mailer, email_graph, paused, thread

PASSWORD = "s3cret-pass"
CONFIG = """
[kinds.note]
template = "Write a short note about {topic}."

[kinds.contract]
template = "Review the clause {topic}."
reviewers = ["lena"]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "placet.toml").write_text(CONFIG)
    return tmp_path


def client_as(folder: Path, name: str | None) -> Client:
    return connect(
        f"sqlite:///{folder / 'placet.db'}",
        directory=str(folder),
        requester=name,
        provider_for=lambda _model: FakeProvider(),
    )


@pytest.fixture
def people(folder: Path) -> Iterator[dict[str, Client]]:
    clients = {name: client_as(folder, name) for name in ("rita", "lena", "otto")}
    accounts = clients["rita"].engine.accounts
    accounts.add_user("rita", PASSWORD, "requester,reviewer")
    accounts.add_user("lena", PASSWORD, "reviewer")
    accounts.add_user("otto", PASSWORD, "reviewer")
    yield clients
    for client in clients.values():
        client.close()


def drafted(client: Client, kind: str = "note") -> str:
    engine = client.engine
    task = engine.submit(kind, {"topic": "tea"}, client.requester, claim_as="worker")
    return engine.draft(task, "worker").id


def test_the_requester_cannot_decide_their_own_task_through_the_sdk(
    people: dict[str, Client],
) -> None:
    task_id = drafted(people["rita"])
    with pytest.raises(placet.PermissionDeniedError, match="rita asked for task"):
        people["rita"].approve(task_id)
    with pytest.raises(placet.PermissionDeniedError, match="rita asked for task"):
        people["rita"].edit(task_id, "A text I like better.")
    assert people["rita"].task(task_id).refresh().status is TaskStatus.AWAITING_REVIEW
    decided = people["otto"].reject(task_id, "Not this one.")
    assert decided.status is TaskStatus.REJECTED
    outcome = people["rita"].wait(task_id, timeout=5)
    assert not outcome.approved and outcome.reason == "Not this one."


def test_a_reviewer_outside_the_kinds_list_cannot_decide_through_the_sdk(
    people: dict[str, Client],
) -> None:
    task_id = drafted(people["rita"], kind="contract")
    with pytest.raises(placet.PermissionDeniedError, match="otto does not review contract"):
        people["otto"].approve(task_id)
    assert people["lena"].approve(task_id).status is TaskStatus.APPROVED
    event = people["lena"].engine.detail(task_id).events[-1]
    assert event.actor == "lena" and event.payload["channel"] == "sdk"


def test_a_name_without_an_account_is_refused_and_recorded(
    folder: Path, people: dict[str, Client]
) -> None:
    task_id = drafted(people["rita"])
    refusal = pytest.raises(placet.PermissionDeniedError, match="mallory has no Placet account")
    with client_as(folder, "mallory") as mallory, refusal:
        mallory.approve(task_id)
    refused = people["rita"].engine.accounts.security_events(actor="mallory")
    assert refused and refused[0].outcome == "refused"


def test_single_user_mode_the_sdk_user_decides_their_own_task(folder: Path) -> None:
    with client_as(folder, None) as me:
        task_id = drafted(me)
        assert me.approve(task_id).status is TaskStatus.APPROVED
        payload = me.engine.detail(task_id).events[-1].payload
        assert payload["mode"] == "single_user" and payload["role"] == "single-user"


def test_a_langgraph_thread_resumes_only_on_a_decision_policy_allows(
    folder: Path, people: dict[str, Client]
) -> None:
    agent = people["rita"]  # the agent runs as rita, so rita asked for every review
    reviews = PlacetInterrupts(agent, kind="email_review")
    conn = sqlite3.connect(folder / "checkpoints.db", check_same_thread=False)
    mailer = Mailer()
    try:
        graph: Any = email_graph(reviews, SqliteSaver(conn), mailer, FakeProvider())
        config = thread("t1")
        task_id = paused(graph, config)
        with pytest.raises(placet.PermissionDeniedError, match="rita asked for task"):
            agent.approve(task_id)
        resumer = reviews.resumer(graph)
        assert resumer.resume_decided() == [] and mailer.sent == []
        people["otto"].approve(task_id)
        (resumed,) = resumer.resume_decided()
        assert resumed.thread_id == "t1" and len(mailer.sent) == 1
        assert resumer.resume_decided() == []  # once
    finally:
        conn.close()
