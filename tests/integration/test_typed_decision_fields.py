"""Fields at decision time: a kind's decision_fields ask the approver for values (a refund
amount, a ticket number), checked once in the engine and returned with the outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.outcomes import outcome_of
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import InvalidInputError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person
from tests.integration.web_helpers import WebWorld, web_world

ASKED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "minimum": 0, "maximum": 500, "title": "Refund approved"},
        "ticket": {"type": "string", "pattern": "^T-[0-9]+$"},
    },
    "required": ["amount"],
    "additionalProperties": False,
}
REFUND = TaskKind(name="refund", template="Reply about the refund: {text}", decision_fields=ASKED)
NOTE = TaskKind(name="note", template="A note: {text}")


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds={"refund": REFUND, "note": NOTE})
    made = Engine(SqlStore(url), settings, provider_for=lambda _m: provider)
    yield made
    made.store.close()


def drafted(engine: Engine, kind: str = "refund") -> str:
    task = engine.submit(kind, {"text": "my order broke"}, "rita", claim_as="w")
    return engine.draft(task, "w").id


def approve(
    engine: Engine,
    task_id: str,
    fields: Any,
    kind: DecisionKind = DecisionKind.APPROVE,
    **more: Any,
) -> TaskStatus:
    request = DecisionRequest(task_id, kind, person("ana"), fields=fields, **more)
    return engine.decide(request).status


def test_the_values_given_are_recorded_and_returned_with_the_outcome(engine: Engine) -> None:
    task_id = drafted(engine)
    assert approve(engine, task_id, {"amount": 40, "ticket": "T-12"}) is TaskStatus.APPROVED
    detail = engine.detail(task_id)
    assert detail.events[-1].payload["fields"] == {"amount": 40, "ticket": "T-12"}
    outcome = outcome_of(detail.task, detail.decisions, detail.events)
    assert outcome.fields == {"amount": 40, "ticket": "T-12"}
    assert outcome.value is None  # a free-text kind: its text is the outcome
    assert verify_store(engine).ok


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        (None, "'amount' is a required property"),
        ({"amount": 900}, "amount: 900 is greater than the maximum of 500"),
        ({"amount": 1, "ticket": "12"}, "ticket: '12' does not match"),
        ({"amount": 1, "extra": 2}, "Additional properties are not allowed"),
    ],
)
def test_values_that_do_not_fit_are_refused_naming_them(
    engine: Engine, fields: Any, says: str
) -> None:
    task_id = drafted(engine)
    with pytest.raises(InvalidInputError, match=says):
        approve(engine, task_id, fields)
    assert engine.get(task_id).status is TaskStatus.AWAITING_REVIEW


def test_fields_go_with_an_approval_of_a_kind_that_asks_for_them(engine: Engine) -> None:
    task_id = drafted(engine)
    with pytest.raises(InvalidInputError, match="fields go with an approval, not reject"):
        approve(engine, task_id, {"amount": 1}, DecisionKind.REJECT, reason="no")
    assert approve(engine, task_id, None, DecisionKind.REJECT, reason="no") is TaskStatus.REJECTED
    note = drafted(engine, "note")
    with pytest.raises(InvalidInputError, match="asks for no fields"):
        approve(engine, note, {"amount": 1})


def test_the_dashboard_asks_for_the_fields_and_the_api_takes_them(tmp_path: Path) -> None:
    config = (
        '[kinds.refund]\ntemplate = "Reply about the refund: {text}"\n'
        f"decision_fields = {json.dumps(json.dumps(ASKED))}\n"
    )
    world: WebWorld
    with web_world(tmp_path, toml=config) as world:
        world.add_user("rita", "reviewer")
        first = world.awaiting_review(kind="refund", values={"text": "broke"})
        client, csrf = world.session_client("rita")
        html = client.get(f"/tasks/{first.id}").text
        assert 'id="asked-fields"' in html and "Refund approved" in html
        data = {
            "csrf_token": csrf,
            "verdict": "approve",
            "draft_id": first.current_draft_id or "",
            "version": str(first.version),
            "decision_name": ["amount", "ticket"],
            "decision_value": ["lots", ""],
        }
        refused = client.post(f"/tasks/{first.id}/decide", data=data, follow_redirects=False)
        assert (
            refused.status_code == 422 and "amount: &#39;lots&#39; is not a number" in refused.text
        )
        data["decision_value"] = ["25", "T-9"]
        answer = client.post(f"/tasks/{first.id}/decide", data=data, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        events = world.engine.detail(first.id).events
        assert events[-1].payload["fields"] == {"amount": 25, "ticket": "T-9"}

        second = world.awaiting_review(kind="refund", values={"text": "late"})
        api = world.client_as("rita")
        body = {"kind": "approve", "draft_id": second.current_draft_id, "version": second.version}
        missing = api.post(f"/api/v1/tasks/{second.id}/decisions", json=body)
        assert missing.status_code == 422 and "'amount' is a required property" in missing.text
        given = api.post(
            f"/api/v1/tasks/{second.id}/decisions", json={**body, "fields": {"amount": 3}}
        )
        assert given.status_code == 200, given.text
