"""Someone else's task answers exactly as a missing one (404), so ids cannot be probed.

A requester sees only their own tasks. Asking for another person's task,
through any route of the API or the dashboard, gives the same status and the
same body as asking for an id that does not exist; the refusal is still in
the security log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from placet.domain.ids import new_id
from placet.domain.models import Task, TaskStatus
from tests.integration.web_helpers import WebWorld, web_world

API = "/api/v1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as found:
        for name, role in [("alice", "requester"), ("bob", "requester"), ("vera", "viewer")]:
            found.add_user(name, role)
        yield found


def decision(task: Task) -> dict[str, Any]:
    return {"kind": "approve", "draft_id": task.current_draft_id, "version": task.version}


API_CALLS = [
    ("GET", "/tasks/{id}", None),
    ("GET", "/tasks/{id}/events", None),
    ("GET", "/tasks/{id}/deliveries", None),
    ("POST", "/tasks/{id}/decisions", "decision"),
    ("POST", "/tasks/{id}/cancel", None),
    ("POST", "/tasks/{id}/deliveries/retry", None),
]


def api_answer(client: TestClient, method: str, path: str, task_id: str, body: Any) -> Any:
    response = client.request(method, API + path.format(id=task_id), json=body)
    return response.status_code, response.text.replace(task_id, "<ID>")


@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
def test_the_api_answers_anothers_task_as_a_missing_one(
    world: WebWorld, method: str, path: str, body: str | None
) -> None:
    theirs = world.awaiting_review("bob")
    missing = new_id()  # an id of the same shape that names no task
    payload = decision(theirs) if body else None
    alice = world.client_as("alice")
    hidden = api_answer(alice, method, path, theirs.id, payload)
    absent = api_answer(alice, method, path, missing, payload)
    assert hidden == absent and hidden[0] == 404
    assert ("alice", "view_task", theirs.id) in world.refusals("alice")
    assert world.engine.get(theirs.id).status is TaskStatus.AWAITING_REVIEW


def test_the_owner_and_a_viewer_still_see_it(world: WebWorld) -> None:
    theirs = world.awaiting_review("bob")
    assert world.client_as("bob").get(f"{API}/tasks/{theirs.id}").status_code == 200
    assert world.client_as("vera").get(f"{API}/tasks/{theirs.id}").status_code == 200
    decided = world.client_as("vera").post(
        f"{API}/tasks/{theirs.id}/decisions", json=decision(theirs)
    )
    assert decided.status_code == 403  # a viewer sees it, so is told she may not decide


PAGE_CALLS = [
    ("GET", "/tasks/{id}"),
    ("GET", "/tasks/{id}/main"),
    ("POST", "/tasks/{id}/decide"),
    ("POST", "/tasks/{id}/handlers/retry"),
]


@pytest.mark.parametrize(("method", "path"), PAGE_CALLS)
def test_the_pages_answer_anothers_task_as_a_missing_one(
    world: WebWorld, method: str, path: str
) -> None:
    theirs = world.awaiting_review("bob")
    missing = new_id()
    client, csrf = world.session_client("alice")

    def answer(task_id: str) -> tuple[int, str]:
        data = {"csrf_token": csrf, **decision(theirs)} if method == "POST" else None
        data = {k: str(v) for k, v in data.items()} if data else None
        response = client.request(method, path.format(id=task_id), data=data)
        return response.status_code, response.text.replace(task_id, "<ID>")

    hidden, absent = answer(theirs.id), answer(missing)
    assert hidden == absent and hidden[0] == 404 and "No such task" in hidden[1]
    assert ("alice", "view_task", theirs.id) in world.refusals("alice")
    assert world.engine.get(theirs.id).status is TaskStatus.AWAITING_REVIEW
