"""Choices on the dashboard and through the REST API: one key per choice, the pick sent
through the engine's decision path, the model's reason shown as text (the XSS corpus)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.models import DecisionKind, TaskStatus
from placet.testing import FakeTypedProvider
from tests.integration.test_pages import decide
from tests.integration.web_helpers import WebWorld, web_world
from tests.xss_corpus import CORPUS, assert_inert

MODERATION = """\
[kinds.moderate]
template = "Moderate this post: {post}"
choices = ["allow", "remove", "escalate"]

[kinds.labels]
template = "Label this post: {post}"
choices = ["spam", "abuse"]
multiple = true
"""
POST = {"post": "buy cheap pills"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, toml=MODERATION, provider=FakeTypedProvider()) as found:
        found.add_user("rita", "reviewer")
        found.add_user("alice", "requester")
        yield found


def test_the_task_page_has_one_key_per_choice_and_marks_the_proposal(world: WebWorld) -> None:
    task = world.awaiting_review(kind="moderate", values=POST)
    client, _ = world.session_client("rita")
    found = assert_inert(client.get(f"/tasks/{task.id}").text)
    html = client.get(f"/tasks/{task.id}").text
    for key, choice in enumerate(("allow", "remove", "escalate"), 1):
        assert f'value="{choice}" data-choice-key="{key}"' in html
    assert "The model proposes allow" in found.by_id["proposed-choice"]


def test_picking_another_choice_on_the_dashboard_approves_it_as_an_edit(world: WebWorld) -> None:
    task = world.awaiting_review(kind="moderate", values=POST)
    client, csrf = world.session_client("rita")
    answer = decide(client, csrf, task, "approve", choice="remove", reason="spam")
    assert answer.status_code == 303
    done = world.engine.get(task.id)
    assert done.status is TaskStatus.APPROVED
    assert json.loads(done.final_output or "") == {"choice": "remove", "reason": "spam"}
    decision = world.engine.detail(task.id).decisions[-1]
    assert decision.kind is DecisionKind.EDIT and decision.actor == "rita"


def test_a_choice_the_kind_lacks_is_shown_as_the_forms_error(world: WebWorld) -> None:
    task = world.awaiting_review(kind="moderate", values=POST)
    client, csrf = world.session_client("rita")
    answer = decide(client, csrf, task, "approve", choice="ban")
    assert answer.status_code == 422
    assert "pick one of: allow, remove, escalate" in answer.text
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_several_choices_are_boxes_sent_together(world: WebWorld) -> None:
    task = world.awaiting_review(kind="labels", values=POST)
    client, csrf = world.session_client("rita")
    html = client.get(f"/tasks/{task.id}").text
    assert 'type="checkbox" name="choice" value="spam" data-choice-key="1" checked' in html
    data = {
        "csrf_token": csrf,
        "verdict": "approve",
        "draft_id": task.current_draft_id or "",
        "version": str(task.version),
        "choice": ["spam", "abuse"],
    }
    answer = client.post(f"/tasks/{task.id}/decide", data=data, follow_redirects=False)
    assert answer.status_code == 303
    done = world.engine.get(task.id)
    assert json.loads(done.final_output or "")["choice"] == ["spam", "abuse"]


def test_the_api_takes_a_choice_and_refuses_one_the_kind_lacks(world: WebWorld) -> None:
    api = world.client_as("rita")
    first = world.awaiting_review(kind="moderate", values=POST)
    body = {"kind": "approve", "draft_id": first.current_draft_id, "version": first.version}
    refused = api.post(f"/api/v1/tasks/{first.id}/decisions", json={**body, "choice": ["ban"]})
    assert refused.status_code == 422 and "pick one of" in refused.text
    answer = api.post(f"/api/v1/tasks/{first.id}/decisions", json={**body, "choice": ["escalate"]})
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.json()["final_output"])["choice"] == "escalate"


def test_the_models_reason_is_shown_as_text_for_the_xss_corpus(world: WebWorld) -> None:
    provider = world.provider
    assert isinstance(provider, FakeTypedProvider)
    client, _ = world.session_client("rita")
    for payload in CORPUS:
        if len(payload.text) > 500:
            continue  # longer than a reason may be: the draft would be refused
        provider.answers = [json.dumps({"choice": "remove", "reason": payload.text})]
        task = world.awaiting_review(kind="moderate", values=POST)
        found = assert_inert(client.get(f"/tasks/{task.id}").text)
        assert payload.text.strip() in found.by_id["proposed-reason"], payload.name
