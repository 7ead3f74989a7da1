"""The kill switch: a pause stops drafting, approved calls and handlers; decisions go on.

Real stores (SQLite, and PostgreSQL for the claim), a slow fake provider for
the draft a pause interrupts, and a guarded call approved while paused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import placet
from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.policy import Role
from placet.engine import DecisionRequest, Engine
from placet.errors import InvalidInputError, PausedError, PermissionDeniedError, UnknownKindError
from placet.providers.base import Chunk, CompletionRequest
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person

NOTE = TaskKind(name="note", template="A note about {topic}.")
MEMO = TaskKind(name="memo", template="A memo about {topic}.")
ADMIN = person("ops", Role.ADMIN)


class SlowProvider(FakeProvider):
    """Streams one word every 20 ms for a long time, and counts the words it gave."""

    words = 1500  # 30 s if nothing stops it

    def __init__(self) -> None:
        super().__init__()
        self.given = 0
        self.started = threading.Event()

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        for _ in range(self.words):
            self.started.set()
            self.given += 1
            yield Chunk("word ")
            time.sleep(0.02)


def make_engine(url: str, provider: FakeProvider | None = None) -> Engine:
    made = provider or FakeProvider()
    settings = Settings(database_url=url, kinds={"note": NOTE, "memo": MEMO})
    return Engine(SqlStore(url), settings, provider_for=lambda _model: made)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    made = make_engine(url)
    yield made
    made.store.close()


def test_a_pause_stops_claims_of_everything_or_of_one_kind(engine: Engine) -> None:
    note = engine.submit("note", {"topic": "tea"}, "rita")
    memo = engine.submit("memo", {"topic": "jam"}, "rita")
    engine.pause(ADMIN, "the model leaks names")
    assert engine.claim("w") is None
    found = engine.controls.paused()
    assert found is not None and found.shown() == "paused by ops: the model leaks names"
    engine.resume(ADMIN)
    engine.pause(ADMIN, "notes only", kind="note")  # the older note is passed over
    claimed = engine.claim("w")
    assert claimed is not None and claimed.id == memo.id
    assert engine.claim("w") is None
    engine.resume(ADMIN, kind="note")
    claimed = engine.claim("w")
    assert claimed is not None and claimed.id == note.id


def test_decisions_are_still_recorded_while_paused(engine: Engine) -> None:
    task = engine.submit("note", {"topic": "tea"}, "rita", claim_as="w")
    engine.draft(task, "w")
    engine.pause(ADMIN, "audit")
    decided = engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("lena")))
    assert decided.status is TaskStatus.APPROVED


def test_who_may_pause_and_what_a_pause_needs(engine: Engine) -> None:
    with pytest.raises(PermissionDeniedError, match="only an admin may pause"):
        engine.pause(person("lena"), "because")
    refused = [e for e in engine.accounts.security_events("lena") if e.action == "pause"]
    assert refused and refused[0].outcome == "refused"
    with pytest.raises(InvalidInputError, match="needs a reason"):
        engine.pause(ADMIN, "  ")
    with pytest.raises(UnknownKindError):
        engine.pause(ADMIN, "typo", kind="nte")
    with pytest.raises(InvalidInputError, match="nothing is paused"):
        engine.resume(ADMIN)
    engine.pause(ADMIN, "checking")
    events = [(e.action, e.actor, e.detail) for e in engine.accounts.security_events("ops")]
    assert ("pause", "ops", "checking") in events


def test_a_draft_being_written_stops_and_its_task_goes_back_to_the_queue(url: str) -> None:
    slow = SlowProvider()
    drafting, operator = make_engine(url, slow), make_engine(url)  # two processes, in effect
    try:
        task = drafting.submit("note", {"topic": "tea"}, "rita", claim_as="w")
        failure: list[BaseException] = []

        def draft() -> None:
            try:
                drafting.draft(task, "w")
            except PausedError as exc:
                failure.append(exc)

        thread = threading.Thread(target=draft)
        thread.start()
        assert slow.started.wait(10)
        paused_at = time.monotonic()
        operator.pause(ADMIN, "stop everything")
        thread.join(30)
        stopped_after = time.monotonic() - paused_at
        assert failure, "the draft was not stopped"
        assert slow.given < SlowProvider.words  # stopped mid-stream, not at the end
        back = operator.get(task.id)
        assert back.status is TaskStatus.QUEUED and back.lease_owner is None
        print(f"drafting stopped {stopped_after:.2f} s after the pause")
    finally:
        drafting.store.close()
        operator.store.close()


def test_a_guarded_call_approved_while_paused_runs_only_after_resume(tmp_path: Path) -> None:
    calls: list[str] = []
    with placet.connect(
        f"sqlite:///{tmp_path / 'sdk.db'}",
        directory=str(tmp_path),
        requester="agent",
        provider_for=lambda _model: FakeProvider(),
    ) as client:

        @client.require_approval(kind="send_email", blocking=False)
        def send_email(to: str) -> str:
            calls.append(to)
            return f"sent to {to}"

        pending: Any = send_email("ceo@corp.example")
        client.engine.pause(ADMIN, "incident")
        client.engine.decide(DecisionRequest(pending.task_id, DecisionKind.APPROVE, person("rosa")))
        with pytest.raises(placet.Paused, match="did not run: paused by ops: incident"):
            pending.result(timeout=0)
        assert calls == []
        results: list[str] = []
        waiting = threading.Thread(target=lambda: results.append(pending.result()))
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive() and calls == []  # approved, and still held by the pause
        client.engine.resume(ADMIN)
        waiting.join(10)
        assert results == ["sent to ceo@corp.example"] and calls == ["ceo@corp.example"]


def test_the_api_and_the_dashboard_pause_and_show_it(tmp_path: Path) -> None:
    from tests.integration.web_helpers import web_world

    with web_world(tmp_path) as world:
        world.add_user("ada", "admin")
        world.add_user("rita", "reviewer")
        refused = world.client_as("rita").post("/api/v1/pause", json={"reason": "mine"})
        assert refused.status_code == 403
        made = world.client_as("ada").post("/api/v1/pause", json={"reason": "model incident"})
        assert made.status_code == 201 and made.json()["shown"] == "paused by ada: model incident"
        listed = world.client_as("rita").get("/api/v1/pauses").json()
        assert [p["scope"] for p in listed] == ["*"]
        rita, _ = world.session_client("rita")
        page = rita.get("/").text
        assert "paused by ada: model incident" in page and "/controls/resume" not in page
        ada, csrf = world.session_client("ada")
        assert "/controls/resume" in ada.get("/").text
        done = ada.post("/controls/resume", data={"csrf_token": csrf}, follow_redirects=False)
        assert done.status_code == 303 and world.client_as("ada").get("/api/v1/pauses").json() == []
        assert "Pause the AI" in ada.get("/").text
