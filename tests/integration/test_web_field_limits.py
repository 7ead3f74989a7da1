"""The dashboard's forms keep the REST API's field limits, defined once.

A reason, feedback or edited text over the API's limit is refused by the form
too, with a 422 page that says which field and by how much; nothing is
stored. A value at the limit is taken by both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placet.domain import limits
from placet.domain.models import Task, TaskStatus
from placet.web.api import schemas
from tests.integration.web_helpers import WebWorld, web_world

API = "/api/v1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as found:
        found.add_user("rita", "reviewer")
        found.add_user("alice", "requester")
        yield found


def decide_form(world: WebWorld, task: Task, verdict: str, **fields: str) -> Any:
    client, csrf = world.session_client("rita")
    data = {
        "csrf_token": csrf,
        "verdict": verdict,
        "draft_id": task.current_draft_id or "",
        "version": str(task.version),
        **fields,
    }
    return client.post(f"/tasks/{task.id}/decide", data=data, follow_redirects=False)


def decide_api(world: WebWorld, task: Task, kind: str, **fields: str) -> Any:
    body = {"kind": kind, "draft_id": task.current_draft_id, "version": task.version, **fields}
    return world.client_as("rita").post(f"{API}/tasks/{task.id}/decisions", json=body)


def test_a_huge_rejection_reason_is_refused_by_the_form_with_a_422_page(
    world: WebWorld,
) -> None:
    task = world.awaiting_review()
    response = decide_form(world, task, "reject", reason="x" * 900_000)
    assert response.status_code == 422
    assert "The reason is too long: 900,000 characters, at most 20,000." in response.text
    assert 'id="decision-error"' in response.text
    after = world.engine.detail(task.id)
    assert after.task.status is TaskStatus.AWAITING_REVIEW and after.decisions == []


@pytest.mark.parametrize(
    ("verdict", "field", "limit", "words"),
    [
        ("reject", "reason", limits.MAX_NOTE, "reason"),
        ("revise", "feedback", limits.MAX_NOTE, "feedback"),
        ("edit", "text", limits.MAX_TEXT, "edited text"),
    ],
)
def test_the_form_and_the_api_refuse_the_same_one_character_too_many(
    world: WebWorld, verdict: str, field: str, limit: int, words: str
) -> None:
    over = "y" * (limit + 1)
    task = world.awaiting_review()
    assert decide_api(world, task, verdict, **{field: over}).status_code == 422
    form = decide_form(world, task, verdict, **{field: over})
    assert form.status_code == 422 and f"The {words} is too long" in form.text
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


@pytest.mark.parametrize(
    ("verdict", "field", "limit"),
    [("reject", "reason", limits.MAX_NOTE), ("edit", "text", limits.MAX_TEXT)],
)
def test_a_value_at_the_limit_is_taken_by_the_form(
    world: WebWorld, verdict: str, field: str, limit: int
) -> None:
    task = world.awaiting_review()
    response = decide_form(world, task, verdict, **{field: "z" * limit})
    assert response.status_code == 303
    assert world.engine.get(task.id).status in (TaskStatus.REJECTED, TaskStatus.APPROVED)


def test_the_api_and_the_forms_use_one_definition() -> None:
    assert schemas.MAX_NOTE is limits.MAX_NOTE and schemas.MAX_TEXT is limits.MAX_TEXT
    assert schemas.MAX_NAME is limits.MAX_NAME


def test_a_version_the_api_would_refuse_is_refused_by_the_form(world: WebWorld) -> None:
    task = world.awaiting_review()
    too_big = str(limits.MAX_VERSION + 1)
    client, csrf = world.session_client("rita")
    data = {
        "csrf_token": csrf,
        "verdict": "approve",
        "draft_id": task.current_draft_id,
        "version": too_big,
    }
    assert client.post(f"/tasks/{task.id}/decide", data=data).status_code == 422


def test_the_forms_say_the_limits_to_the_browser(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, _csrf = world.session_client("rita")
    page = client.get(f"/tasks/{task.id}").text
    assert f'name="reason" rows="3" maxlength="{limits.MAX_NOTE}"' in page
    assert f'name="feedback" rows="4" maxlength="{limits.MAX_NOTE}"' in page
    assert f'maxlength="{limits.MAX_TEXT}"' in page


def test_a_token_label_over_the_limit_is_refused_not_cut(world: WebWorld) -> None:
    client, csrf = world.session_client("rita")
    label = "l" * (limits.MAX_NAME + 1)
    response = client.post("/tokens", data={"csrf_token": csrf, "label": label})
    assert response.status_code == 422 and "The label is too long" in response.text
    assert world.accounts.tokens("rita") == []
    assert world.client_as("rita").post(f"{API}/tokens", json={"label": label}).status_code == 422


def test_a_kind_name_over_the_limit_is_refused_by_the_submit_form(world: WebWorld) -> None:
    client, csrf = world.session_client("alice")
    data = {"csrf_token": csrf, "kind": "k" * (limits.MAX_NAME + 1), "input:name": "Ada"}
    response = client.post("/submit", data=data)
    assert response.status_code == 422 and "The kind is too long" in response.text
