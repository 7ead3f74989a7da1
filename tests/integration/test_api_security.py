"""Who may do what through the API, and that every refusal is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placet.domain.models import Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.web.auth import CSRF_HEADER
from tests.integration.web_helpers import INPUT, KIND, WebWorld, web_world

API = "/api/v1"
LIMITED_KINDS = """
[kinds.contract_review]
template = "Review this clause: {clause}"
reviewers = ["lena"]

[kinds.greeting]
template = "Greet {name}"
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as world:
        world.add_user("alice", "requester")
        world.add_user("bob", "requester")
        world.add_user("rita", "reviewer")
        world.add_user("vera", "viewer")
        world.add_user("root", "admin")
        world.add_user("dual", "requester", "reviewer")
        yield world


def decision(task: Task) -> dict[str, Any]:
    return {"kind": "approve", "draft_id": task.current_draft_id, "version": task.version}


def refused(world: WebWorld, actor: str, action: str) -> bool:
    return any(entry[:2] == (actor, action) for entry in world.refusals(actor))


# -- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{API}/tasks"),
        ("POST", f"{API}/tasks"),
        ("GET", f"{API}/tasks/01ANYTASK0000000000000000"),
        ("POST", f"{API}/tasks/01ANYTASK0000000000000000/decisions"),
        ("GET", f"{API}/queue/events"),
        ("GET", f"{API}/tokens"),
        ("GET", f"{API}/users"),
    ],
)
def test_no_credentials_is_401_with_a_bearer_challenge_and_recorded(
    world: WebWorld, method: str, path: str
) -> None:
    response = world.client().request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert ("anonymous", "authenticate", path) in world.refusals("anonymous")


@pytest.mark.parametrize(
    "header", ["Bearer plc_not-a-real-token", "Bearer ", "Basic cm9vdDpwdw==", "plc_bare"]
)
def test_a_bad_authorization_header_is_401(world: WebWorld, header: str) -> None:
    client = world.client()
    client.headers["Authorization"] = header
    assert client.get(f"{API}/tasks").status_code == 401
    assert refused(world, "anonymous", "authenticate")


def test_a_revoked_token_is_401_at_once(world: WebWorld) -> None:
    rita = world.client_as("rita")
    assert rita.get(f"{API}/tasks").status_code == 200
    token_id = world.accounts.tokens("rita")[0].id
    world.accounts.revoke_token(token_id)
    response = rita.get(f"{API}/tasks")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert refused(world, "anonymous", "authenticate")


def test_a_disabled_users_token_stops_working(world: WebWorld) -> None:
    rita = world.client_as("rita")
    world.accounts.set_disabled("rita", True)
    assert rita.get(f"{API}/tasks").status_code == 401


# -- sessions and CSRF ------------------------------------------------------------------


def test_a_session_cookie_reads_without_a_csrf_header(world: WebWorld) -> None:
    browser, _csrf = world.session_client("rita")
    assert browser.get(f"{API}/tasks").status_code == 200


def test_a_session_post_without_the_csrf_header_is_403_and_recorded(world: WebWorld) -> None:
    browser, _csrf = world.session_client("alice")
    response = browser.post(f"{API}/tasks", json={"kind": KIND, "input": INPUT})
    assert response.status_code == 403
    assert refused(world, "alice", "csrf")
    assert world.engine.list_tasks(TaskFilter()) == []


def test_a_session_post_with_a_wrong_csrf_header_is_403(world: WebWorld) -> None:
    browser, csrf = world.session_client("alice")
    headers = {CSRF_HEADER: csrf[:-1] + ("x" if csrf[-1] != "x" else "y")}
    body = {"kind": KIND, "input": INPUT}
    assert browser.post(f"{API}/tasks", json=body, headers=headers).status_code == 403
    task = world.awaiting_review("bob")
    reviewer, _ = world.session_client("rita")
    url = f"{API}/tasks/{task.id}/decisions"
    assert reviewer.post(url, json=decision(task)).status_code == 403
    assert reviewer.delete(f"{API}/tokens/01ANYTOKEN000000000000000").status_code == 403
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_a_session_post_with_the_csrf_header_works(world: WebWorld) -> None:
    browser, csrf = world.session_client("alice")
    body = {"kind": KIND, "input": INPUT}
    response = browser.post(f"{API}/tasks", json=body, headers={CSRF_HEADER: csrf})
    assert response.status_code == 201
    assert response.json()["requester"] == "alice"


def test_a_forged_or_foreign_session_cookie_is_401(world: WebWorld) -> None:
    client = world.client()
    client.cookies.set("placet_session", "eyJ1c2VyIjoicm9vdCJ9.forged.signature")
    assert client.get(f"{API}/tasks").status_code == 401


# -- roles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "method", "path", "action"),
    [
        ("vera", "POST", "/tasks", "submit"),
        ("rita", "POST", "/tasks", "submit"),
        ("alice", "GET", "/users", "manage_users"),
        ("rita", "GET", "/users", "manage_users"),
        ("vera", "GET", "/tokens", "manage_own_tokens"),
        ("vera", "POST", "/tokens", "manage_own_tokens"),
        ("alice", "GET", "/queue/events", "view_queue"),
        ("alice", "GET", "/tokens?user=rita", "manage_users"),
    ],
)
def test_the_wrong_role_is_403_and_recorded(
    world: WebWorld, user: str, method: str, path: str, action: str
) -> None:
    body = {"kind": KIND, "input": INPUT} if path == "/tasks" else {}
    response = world.client_as(user).request(method, f"{API}{path}", json=body)
    assert response.status_code == 403
    assert refused(world, user, action)


def test_viewers_and_requesters_cannot_decide(world: WebWorld) -> None:
    task = world.awaiting_review("bob")
    url = f"{API}/tasks/{task.id}/decisions"
    # Alice may not even see Bob's task: to her it is missing.
    for user, status in (("vera", 403), ("alice", 404)):
        assert world.client_as(user).post(url, json=decision(task)).status_code == status
        assert refused(world, user, "decide")
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_a_requester_never_decides_their_own_task_even_as_a_reviewer(world: WebWorld) -> None:
    own = world.awaiting_review("dual")
    response = world.client_as("dual").post(f"{API}/tasks/{own.id}/decisions", json=decision(own))
    assert response.status_code == 403
    assert "cannot decide" in response.json()["detail"]
    assert ("dual", "decide", own.id) in world.refusals("dual")
    others = world.awaiting_review("bob")
    allowed = world.client_as("dual").post(
        f"{API}/tasks/{others.id}/decisions", json=decision(others)
    )
    assert allowed.status_code == 200


def test_a_requester_sees_only_their_own_tasks(world: WebWorld) -> None:
    theirs = world.submit("bob")
    alice = world.client_as("alice")
    assert alice.get(f"{API}/tasks/{theirs.id}").status_code == 404  # as a missing one
    assert alice.get(f"{API}/tasks/{theirs.id}/events").status_code == 404
    assert ("alice", "view_task", theirs.id) in world.refusals("alice")
    assert world.client_as("bob").get(f"{API}/tasks/{theirs.id}").status_code == 200
    assert world.client_as("vera").get(f"{API}/tasks/{theirs.id}").status_code == 200


def test_only_the_requester_or_an_admin_cancels(world: WebWorld) -> None:
    task = world.submit("bob")
    for user, status in (("alice", 404), ("rita", 403), ("vera", 403)):  # alice cannot see it
        assert world.client_as(user).post(f"{API}/tasks/{task.id}/cancel").status_code == status
    assert refused(world, "rita", "cancel")
    assert world.engine.get(task.id).status is TaskStatus.QUEUED


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[WebWorld, Task, Task]]:
    """Lena reviews contracts (named in its table); Rita is named nowhere."""
    with web_world(tmp_path, toml=LIMITED_KINDS) as world:
        for name in ("lena", "rita"):
            world.add_user(name, "reviewer")
        world.add_user("alice", "requester")
        contract = world.awaiting_review("alice", "contract_review", {"clause": "Net 30"})
        greeting = world.awaiting_review("alice", "greeting", {"name": "Ada"})
        yield world, contract, greeting


def decide_as(world: WebWorld, user: str, task: Task) -> int:
    url = f"{API}/tasks/{task.id}/decisions"
    return int(world.client_as(user).post(url, json=decision(task)).status_code)


def test_a_reviewer_limited_to_some_kinds_is_refused_the_others(
    limited: tuple[WebWorld, Task, Task],
) -> None:
    world, contract, greeting = limited
    assert decide_as(world, "lena", greeting) == 403
    assert ("lena", "decide", greeting.id) in world.refusals("lena")
    assert decide_as(world, "lena", contract) == 200
    assert decide_as(world, "rita", greeting) == 200


def test_a_kind_with_named_reviewers_refuses_everyone_else(
    limited: tuple[WebWorld, Task, Task],
) -> None:
    world, contract, _greeting = limited
    assert decide_as(world, "rita", contract) == 403


def test_every_refusal_is_in_the_security_log_with_the_address(world: WebWorld) -> None:
    world.client().get(f"{API}/tasks")
    world.client_as("alice").get(f"{API}/users")
    own = world.awaiting_review("alice")  # refused by the engine, which every door calls
    world.client_as("alice").post(f"{API}/tasks/{own.id}/decisions", json=decision(own))
    events = [e for e in world.accounts.security_events() if e.outcome == "refused"]
    assert [(e.actor, e.action) for e in events] == [
        ("alice", "decide"),
        ("alice", "manage_users"),
        ("anonymous", "authenticate"),
    ]
    assert events[0].detail is not None and events[0].detail.endswith("(through the api)")
    assert all(e.remote == "testclient" and e.detail for e in events)


def test_api_responses_carry_the_security_headers(world: WebWorld) -> None:
    for response in (
        world.client_as("rita").get(f"{API}/tasks"),
        world.client().get(f"{API}/tasks"),
        world.client().get("/healthz"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
