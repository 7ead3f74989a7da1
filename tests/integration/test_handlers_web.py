"""Outcome handlers seen from the web: the deliveries API and the task page's Handlers card."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import placet
from placet.domain.models import DecisionKind, Task
from placet.engine import DecisionRequest
from placet.sdk.client import Client
from placet.testing import person
from tests.integration.web_helpers import KIND, WebWorld, web_world

HANDLER = "welcome.send"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as made:
        made.add_user("alice", "requester")
        made.add_user("rita", "reviewer")
        made.add_user("ada", "admin")
        yield made


def gave_up(world: WebWorld) -> Task:
    """An approved task whose handler failed its only attempt: the mail server was down."""
    client = Client(world.engine, requester="dev")

    @client.on_approved(KIND, name=HANDLER, max_attempts=1)
    def send(outcome: placet.Outcome, key: str) -> None:
        raise ConnectionError("the mail server is down")

    client.run_pending_handlers()  # registers the handler: it gets decisions from now on
    task = world.awaiting_review(requester="alice")
    world.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rita")))
    assert client.run_pending_handlers() == 1
    return task


def event_types(world: WebWorld, task: Task) -> list[str]:
    return [event.type for event in world.engine.store.events(task.id)]


def test_the_api_lists_a_tasks_deliveries_and_an_admin_retries_the_failed_one(
    world: WebWorld,
) -> None:
    task = gave_up(world)
    assert world.client_as("alice").get(f"/api/v1/tasks/{task.id}/deliveries").status_code == 200
    (listed,) = world.client_as("rita").get(f"/api/v1/tasks/{task.id}/deliveries").json()
    assert listed["handler"] == HANDLER and listed["status"] == "failed"
    assert listed["attempts"] == 1 and "mail server is down" in listed["last_error"]
    assert listed["finished_at"] is not None and listed["next_try_at"] is None

    refused = world.client_as("rita").post(f"/api/v1/tasks/{task.id}/deliveries/retry")
    assert refused.status_code == 403
    admin = world.client_as("ada")
    other = admin.post(f"/api/v1/tasks/{task.id}/deliveries/retry", json={"handler": "nope"})
    assert other.status_code == 409 and "of handler nope" in other.json()["detail"]
    (retried,) = admin.post(f"/api/v1/tasks/{task.id}/deliveries/retry").json()
    assert retried["status"] == "pending" and retried["attempts"] == 0
    assert retried["next_try_at"] is not None
    again = admin.post(f"/api/v1/tasks/{task.id}/deliveries/retry")
    assert again.status_code == 409 and "nothing was changed" in again.json()["detail"]
    assert event_types(world, task).count("handler_retried") == 1
    (retry,) = [e for e in world.engine.store.events(task.id) if e.type == "handler_retried"]
    assert retry.actor == "ada"


def test_the_deliveries_of_an_unknown_task_are_404(world: WebWorld) -> None:
    admin = world.client_as("ada")
    assert admin.get("/api/v1/tasks/01NOSUCHTASK/deliveries").status_code == 404
    assert admin.post("/api/v1/tasks/01NOSUCHTASK/deliveries/retry").status_code == 404


def test_a_task_without_handlers_has_no_deliveries(world: WebWorld) -> None:
    task = world.awaiting_review(requester="alice")
    assert world.client_as("rita").get(f"/api/v1/tasks/{task.id}/deliveries").json() == []
    assert 'id="handlers"' not in world.session_client("rita")[0].get(f"/tasks/{task.id}").text


def retry_form(html: str) -> str | None:
    found = re.search(r'<form method="post" action="(/tasks/[^"]+/handlers/retry)"', html)
    return found.group(1) if found else None


def test_the_task_page_shows_the_failure_and_only_an_admin_may_retry(world: WebWorld) -> None:
    task = gave_up(world)
    reviewer, reviewer_csrf = world.session_client("rita")
    page = reviewer.get(f"/tasks/{task.id}").text
    assert 'id="handlers"' in page and HANDLER in page and "the mail server is down" in page
    assert retry_form(page) is None  # a reviewer sees it but cannot retry it
    posted = reviewer.post(
        f"/tasks/{task.id}/handlers/retry",
        data={"csrf_token": reviewer_csrf},
        follow_redirects=False,
    )
    assert posted.status_code == 403

    admin, csrf = world.session_client("ada")
    action = retry_form(admin.get(f"/tasks/{task.id}").text)
    assert action == f"/tasks/{task.id}/handlers/retry"
    forged = admin.post(action, data={"csrf_token": "wrong"}, follow_redirects=False)
    assert forged.status_code == 403
    assert "handler_retried" not in event_types(world, task)

    done = admin.post(action, data={"csrf_token": csrf, "handler": HANDLER}, follow_redirects=False)
    assert done.status_code == 303 and "done=handlers-retried" in done.headers["location"]
    shown = admin.get(done.headers["location"]).text
    assert "will run again" in shown and 'data-status="pending"' in shown
    twice = admin.post(action, data={"csrf_token": csrf}, follow_redirects=False)
    assert twice.status_code == 409 and "nothing was changed" in twice.text
    assert event_types(world, task).count("handler_retried") == 1


def test_failed_deliveries_across_tasks_are_listed_for_the_api_and_on_an_admin_page(
    world: WebWorld,
) -> None:
    task = gave_up(world)
    (listed,) = world.client_as("rita").get("/api/v1/deliveries/failed").json()
    assert listed["task_id"] == task.id and listed["handler"] == HANDLER
    assert "mail server is down" in listed["last_error"]
    assert world.client_as("alice").get("/api/v1/deliveries/failed").status_code == 403
    assert world.client_as("rita").get("/api/v1/deliveries/failed?limit=0").status_code == 422

    reviewer, _ = world.session_client("rita")
    assert reviewer.get("/admin/handlers", follow_redirects=False).status_code == 403
    assert 'href="/admin/handlers"' not in reviewer.get("/").text
    admin, csrf = world.session_client("ada")
    assert 'href="/admin/handlers"' in admin.get("/").text
    listing = admin.get("/admin/handlers").text
    assert f'href="/tasks/{task.id}"' in listing and "the mail server is down" in listing
    back = re.search(r'name="back" value="([^"]+)"', listing)
    assert back is not None
    retried = admin.post(
        f"/tasks/{task.id}/handlers/retry",
        data={"csrf_token": csrf, "handler": HANDLER, "back": back.group(1)},
        follow_redirects=False,
    )
    assert retried.status_code == 303
    assert retried.headers["location"].startswith("/admin/handlers?done=handlers-retried")
    after = admin.get(retried.headers["location"]).text
    assert "will run again" in after and "No handler has failed for good." in after


def test_a_retry_goes_back_to_no_page_but_the_list_or_the_task(world: WebWorld) -> None:
    task = gave_up(world)
    admin, csrf = world.session_client("ada")
    retried = admin.post(
        f"/tasks/{task.id}/handlers/retry",
        data={"csrf_token": csrf, "back": "https://evil.example/"},
        follow_redirects=False,
    )
    assert retried.headers["location"].startswith(f"/tasks/{task.id}?")


def running_mark(client: Any, task: Task) -> bool:
    """Whether the task page's main part asks the script to look again (a handler is to run)."""
    main = client.get(f"/tasks/{task.id}/main").text
    return bool(re.search(r'<section id="task-main"[^>]* data-handlers-running', main))


def test_the_page_looks_again_until_every_handler_has_run(world: WebWorld) -> None:
    client = Client(world.engine, requester="dev")

    @client.on_approved(KIND, name=HANDLER, max_attempts=3, retry_delay=3600.0)
    def send(outcome: placet.Outcome, key: str) -> None:
        if outcome.input["name"] == "Down":
            raise ConnectionError("the mail server is down")

    client.run_pending_handlers()  # registered: decisions from now on are its
    reviewer, _csrf = world.session_client("rita")
    delivered = world.awaiting_review(requester="alice", values={"name": "Ada"})
    assert not running_mark(reviewer, delivered)  # awaiting review: its own stream is live
    world.engine.decide(DecisionRequest(delivered.id, DecisionKind.APPROVE, person("rita")))
    assert running_mark(reviewer, delivered)  # no worker has swept it yet: still to run

    retrying = world.awaiting_review(requester="alice", values={"name": "Down"})
    world.engine.decide(DecisionRequest(retrying.id, DecisionKind.APPROVE, person("rita")))
    assert client.run_pending_handlers() == 2  # one delivered, one failed and waits
    assert not running_mark(reviewer, delivered)
    assert 'data-status="delivered"' in reviewer.get(f"/tasks/{delivered.id}/main").text
    assert running_mark(reviewer, retrying)  # its next try is an hour away
    assert 'data-status="pending"' in reviewer.get(f"/tasks/{retrying.id}/main").text

    rejected = world.awaiting_review(requester="alice")
    world.engine.decide(
        DecisionRequest(rejected.id, DecisionKind.REJECT, person("rita"), reason="No.")
    )
    assert not running_mark(reviewer, rejected)  # no handler of that outcome
