"""Inbound callback URLs through the real app: minted for the person who asks, used once by
a tool with no other credentials, refused when forged, reused or stale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from placet.domain.models import TaskStatus
from tests.integration.web_helpers import WebWorld, web_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as opened:
        opened.add_user("alice", "requester")
        opened.add_user("rita", "reviewer")
        yield opened


def mint(world: WebWorld, who: str, task_id: str) -> dict[str, object]:
    answer = world.client_as(who).post(f"/api/v1/tasks/{task_id}/callback-url")
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


def path_of(minted: dict[str, object]) -> str:
    return urlsplit(str(minted["url"])).path


def test_a_tool_decides_once_as_the_person_who_minted_the_url(world: WebWorld) -> None:
    task = world.awaiting_review(requester="alice")
    minted = mint(world, "rita", task.id)
    assert (minted["decides_as"], minted["draft_id"]) == ("rita", task.current_draft_id)
    tool = world.client()  # no token, no cookie: the URL is the credential
    bad = tool.post(path_of(minted), json={"decision": "approve", "by": "alice", "x": 1})
    assert bad.status_code == 200, bad.text  # unknown fields are ignored, never believed
    assert bad.json() == {"task_id": task.id, "status": "approved", "decided_as": "rita"}
    (decision,) = world.engine.detail(task.id).decisions
    assert decision.actor == "rita"
    again = tool.post(path_of(minted), json={"decision": "approve"})
    assert again.status_code == 410 and "already used" in again.json()["detail"]


def test_a_reject_needs_its_reason_and_a_refusal_spends_nothing(world: WebWorld) -> None:
    task = world.awaiting_review(requester="alice")
    path = path_of(mint(world, "rita", task.id))
    tool = world.client()
    assert tool.post(path, json={"decision": "reject"}).status_code == 422
    assert tool.post(path, json={"decision": "maybe"}).status_code == 422
    done = tool.post(path, json={"decision": "reject", "reason": "Off topic."})
    assert done.status_code == 200 and done.json()["status"] == "rejected"


def test_forged_stale_and_unpermitted_urls_are_refused(world: WebWorld) -> None:
    task = world.awaiting_review(requester="alice")
    assert world.client_as("alice").post(f"/api/v1/tasks/{task.id}/callback-url").status_code == 403
    path = path_of(mint(world, "rita", task.id))
    tool = world.client()
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    assert tool.post(forged, json={"decision": "approve"}).status_code == 404
    revised = world.client_as("rita").post(
        f"/api/v1/tasks/{task.id}/decisions",
        json={
            "kind": "revise",
            "feedback": "Warmer, please.",
            "draft_id": task.current_draft_id,
            "version": task.version,
        },
    )
    assert revised.status_code == 200, revised.text
    world.draft(task.id)
    stale = tool.post(path, json={"decision": "approve"})
    assert stale.status_code == 410 and "earlier draft" in stale.json()["detail"]
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    decided = world.engine.detail(task.id)
    assert [d.kind.value for d in decided.decisions] == ["revise"]


def test_the_task_view_offers_a_callback_url_to_whoever_may_decide(world: WebWorld) -> None:
    task = world.awaiting_review(requester="alice")
    mine = world.client_as("rita").get(f"/api/v1/tasks/{task.id}").json()["callback_url"]
    assert mine.startswith("http") and "/api/v1/callbacks/" in mine
    theirs = world.client_as("alice").get(f"/api/v1/tasks/{task.id}").json()
    assert theirs["callback_url"] is None  # the requester may not decide their own task
    done = world.client().post(urlsplit(mine).path, json={"decision": "approve"})
    assert done.json()["decided_as"] == "rita"
    after = world.client_as("rita").get(f"/api/v1/tasks/{task.id}").json()
    assert after["callback_url"] is None  # nothing awaits review any more
