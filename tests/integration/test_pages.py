"""The dashboard's pages in-process: sign-in, roles, CSRF, the four actions, safety.

Each test runs the whole app over a real SQLite store (``web_world``); drafts
come from a provider whose text the test chooses, so the XSS corpus can be
the model's output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from placet.domain.diffs import changed_lines
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.engine import DecisionRequest, accounts
from placet.errors import ProviderError
from placet.providers.base import Chunk, CompletionRequest
from placet.store.schema import drafts
from placet.testing import FakeProvider, person
from placet.web import pages
from tests.e2e.browser import StoryProvider, running
from tests.integration.web_helpers import PASSWORD, WebWorld, sse_events, web_world
from tests.xss_corpus import CORPUS, LONG, assert_inert, corpus_markdown, inspect_html

KIND = "onboarding_email"
TWO_KINDS = """\
[kinds.onboarding_email]
template = "Welcome {name}."
reviewers = ["rob", "ada"]
[kinds.customer_reply]
template = "Reply to {customer}."
reviewers = ["rita", "ada"]
"""


class ScriptedProvider(FakeProvider):
    """The fake provider, or a chosen text when ``text`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.text: str | None = None

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        if self.text is None:
            yield from super().stream(request)
            return
        self.requests.append(request)
        yield Chunk(self.text)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real argon2 cost is right for people and slow for a test that makes five
    # accounts; verifying reads the cost from each hash, so nothing else changes.
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, provider=ScriptedProvider()) as found:
        for name, roles in [
            ("rita", ["reviewer"]),
            ("rob", ["reviewer"]),
            ("alice", ["requester"]),
            ("vic", ["viewer"]),
            ("ada", ["admin"]),
        ]:
            found.add_user(name, *roles)
        yield found


# -- helpers ---------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, next_url: str = "/") -> Any:
    """Sign in through the form, as a browser does; returns the POST's response."""
    token = csrf_of(client.get("/login").text)
    data = {"name": name, "password": password, "csrf_token": token, "next": next_url}
    return client.post("/login", data=data, follow_redirects=False)


def decide(client: TestClient, csrf: str, task: Task, verdict: str, **fields: str) -> Any:
    """Post a decision form as the task page would, for the task as the caller saw it."""
    data = {
        "csrf_token": csrf,
        "verdict": verdict,
        "draft_id": task.current_draft_id or "",
        "version": str(task.version),
        **fields,
    }
    return client.post(f"/tasks/{task.id}/decide", data=data, follow_redirects=False)


def refused(world: WebWorld, actor: str, action: str) -> bool:
    return any(a == actor and act == action for a, act, _ in world.refusals(actor))


def outcomes(world: WebWorld, actor: str) -> list[str]:
    return [event.outcome for event in world.accounts.security_events(actor)]


# -- signing in and out --------------------------------------------------------------------------


def test_sign_in_and_out(world: WebWorld) -> None:
    client = world.client()
    response = sign_in(client, "rita")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    queue = client.get("/")
    assert queue.status_code == 200 and "rita" in queue.text
    assert "allowed" in outcomes(world, "rita")
    out = client.post("/logout", data={"csrf_token": csrf_of(queue.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/tasks/01ABC",
        "/audit",
        "/stats",
        "/stats/waits.svg",
        "/admin/users",
        "/tokens",
        "/submit",
        "/queue/rows",
        "/tasks/01ABC/main",
    ],
)
def test_no_session_redirects_to_sign_in(world: WebWorld, path: str) -> None:
    response = world.client().get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={quote(path, safe='')}"


def test_a_post_without_a_session_redirects_too(world: WebWorld) -> None:
    response = world.client().post(
        "/tasks/01ABC/decide", data={"verdict": "approve"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("next_url", "lands"),
    [
        ("/audit?person=rita", "/audit?person=rita"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
    ],
)
def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(
    world: WebWorld, next_url: str, lands: str
) -> None:
    response = sign_in(world.client(), "rita", next_url=next_url)
    assert response.headers["location"] == lands


def test_a_wrong_password_is_refused_and_recorded(world: WebWorld) -> None:
    response = sign_in(world.client(), "rita", "not the password")
    assert response.status_code == 401
    assert "Wrong name or password" in response.text
    assert outcomes(world, "rita") == ["failed"]


def test_five_failures_lock_the_name_out(world: WebWorld) -> None:
    client = world.client()
    for _ in range(5):
        assert sign_in(client, "rita", "wrong password").status_code == 401
    blocked = sign_in(client, "rita")  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    assert refused(world, "rita", "sign_in")


def test_failures_from_one_address_do_not_lock_out_the_names_it_did_not_try(
    world: WebWorld,
) -> None:
    client = world.client()
    for name in ["nobody1", "nobody2", "nobody3", "nobody4", "nobody5"]:
        assert sign_in(client, name, "wrong password").status_code == 401
    for _ in range(5):
        assert sign_in(client, "rita", "wrong password").status_code == 401
    assert sign_in(client, "rita").status_code == 429  # the name it attacked waits
    assert sign_in(client, "rob").status_code == 303  # one it did not, does not


def test_the_sign_in_form_needs_its_token(world: WebWorld) -> None:
    client = world.client()
    data = {"name": "rita", "password": PASSWORD, "next": "/"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert refused(world, "rita", "sign_in")


# -- CSRF and roles ------------------------------------------------------------------------------


def test_a_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, _csrf = world.session_client("rita")
    assert decide(client, "", task, "approve").status_code == 403
    assert decide(client, "forged", task, "approve").status_code == 403
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    assert refused(world, "rita", "csrf")


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("vic", "post", "decide"),
        ("vic", "get", "/admin/users"),
        ("alice", "get", "/audit"),
        ("alice", "get", "/stats"),
        ("rita", "get", "/submit"),
        ("rita", "post", "/admin/users"),
        ("vic", "post", "/submit"),
        ("vic", "get", "/tokens"),
    ],
)
def test_the_wrong_role_gets_403_and_is_recorded(
    world: WebWorld, who: str, method: str, path: str
) -> None:
    task = world.awaiting_review()
    client, csrf = world.session_client(who)
    if path == "decide":
        response = decide(client, csrf, task, "approve")
    elif method == "post":
        response = client.post(path, data={"csrf_token": csrf, "name": "x", "kind": KIND})
    else:
        response = client.get(path)
    assert response.status_code == 403
    # A page, not JSON; a refused decision is said on the task's own page, by the engine.
    refusal = "lacks the permission to decide" if path == "decide" else "Not allowed"
    assert refusal in response.text and "<html" in response.text
    assert world.refusals(who), "the refusal was not recorded"
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_a_requester_never_decides_their_own_task(world: WebWorld) -> None:
    world.add_user("sam", "requester", "reviewer")
    own = world.awaiting_review(requester="sam")
    client, csrf = world.session_client("sam")
    page = client.get(f"/tasks/{own.id}").text
    assert 'id="approve-form"' not in page
    assert "cannot decide this task" in page
    assert "it can be decided by ada, rita, rob." in page  # team mode: who can, by name
    assert 'id="add-reviewer"' not in page  # sam is no admin, and others can decide
    assert decide(client, csrf, own, "approve").status_code == 403
    assert refused(world, "sam", "decide")
    assert world.engine.get(own.id).status is TaskStatus.AWAITING_REVIEW
    queue = client.get("/").text
    assert own.id not in queue and "you may not decide" in queue


def submit_on_the_dashboard(client: TestClient, csrf: str, name: str) -> str:
    """Submit an onboarding email through the form, as a person does; the new task's id."""
    form = {"csrf_token": csrf, "kind": KIND, "input:name": name, "idempotency": name}
    response = client.post("/submit", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.match(r"/tasks/([0-9A-Z]+)\?done=submitted", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def test_the_only_account_is_told_to_add_a_reviewer_and_then_who_decides(
    tmp_path: Path,
) -> None:
    with web_world(tmp_path) as world:  # as `placet serve` leaves it: one admin
        world.add_user("admin", "admin")
        client, csrf = world.session_client("admin")
        task = world.draft(submit_on_the_dashboard(client, csrf, "Ada"))
        page = client.get(f"/tasks/{task.id}").text
        assert 'id="approve-form"' not in page
        assert (
            f"You cannot decide this task: admin asked for task {task.id} and cannot decide it; "
            "you are the only account: add a reviewer under Users (placet users add NAME "
            "--role reviewer), who can then decide it." in page
        )
        assert '<a class="button small" href="/admin/users" id="add-reviewer">' in page
        refused = decide(client, csrf, task, "approve")
        assert refused.status_code == 403 and "you are the only account" in refused.text
        assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW

        added = client.post(
            "/admin/users",
            data={"csrf_token": csrf, "name": "rosa", "password": PASSWORD, "roles": "reviewer"},
            follow_redirects=False,
        )
        assert added.status_code == 303, added.text
        page = client.get(f"/tasks/{task.id}").text
        assert (
            f"admin asked for task {task.id} and cannot decide it; it can be decided by rosa."
            in page
        )
        assert 'id="add-reviewer"' not in page
        rosa, rosa_csrf = world.session_client("rosa")
        assert decide(rosa, rosa_csrf, task, "approve").status_code == 303
        assert world.engine.get(task.id).status is TaskStatus.APPROVED


def test_a_reviewer_limited_to_some_kinds(tmp_path: Path) -> None:
    with web_world(tmp_path, toml=TWO_KINDS) as world:
        world.add_user("rita", "reviewer")
        world.add_user("rob", "reviewer")
        reply = world.awaiting_review(kind="customer_reply", values={"customer": "Bo"})
        rob, csrf = world.session_client("rob")
        assert 'id="approve-form"' not in rob.get(f"/tasks/{reply.id}").text
        assert decide(rob, csrf, reply, "approve").status_code == 403
        rita, csrf = world.session_client("rita")
        assert decide(rita, csrf, reply, "approve").status_code == 303


# -- the four actions -----------------------------------------------------------------------------


def test_approve_through_the_form(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, csrf = world.session_client("rita")
    page = client.get(f"/tasks/{task.id}").text
    assert 'id="approve-form"' in page and f'value="{task.current_draft_id}"' in page
    response = decide(client, csrf, task, "approve")
    assert response.status_code == 303
    assert response.headers["location"] == f"/?done=approve&task={task.id}"
    assert "Approved." in client.get(response.headers["location"]).text
    detail = world.engine.detail(task.id)
    assert detail.task.status is TaskStatus.APPROVED
    assert [(d.kind, d.actor, d.role) for d in detail.decisions] == [
        (DecisionKind.APPROVE, "rita", "reviewer")
    ]


def test_decisions_from_the_dashboard_are_counted_in_the_metrics(world: WebWorld) -> None:
    approved, rejected = world.awaiting_review(), world.awaiting_review()
    client, csrf = world.session_client("rita")
    assert decide(client, csrf, approved, "approve").status_code == 303
    assert decide(client, csrf, rejected, "reject", reason="off topic").status_code == 303
    text = world.client().get("/metrics").text
    for verdict in ("approve", "reject"):
        line = f'placet_decisions_total{{kind="{approved.kind}",verdict="{verdict}"}} 1.0'
        assert line in text
    assert f'placet_time_to_decision_seconds_count{{kind="{approved.kind}"}} 2.0' in text


def test_edit_in_place_records_the_diff(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, csrf = world.session_client("rita")
    response = decide(client, csrf, task, "edit", text="Dear Ada,\nwelcome aboard!")
    assert response.status_code == 303
    detail = world.engine.detail(task.id)
    assert detail.task.final_output == "Dear Ada,\nwelcome aboard!"
    assert detail.decisions[0].kind is DecisionKind.EDIT and detail.decisions[0].diff
    page = client.get(f"/tasks/{task.id}").text
    assert "Approved text" in page and "welcome aboard!" in page and "d-added" in page


def test_an_edit_keeps_the_line_breaks_the_reviewer_saw(world: WebWorld) -> None:
    provider = world.provider
    assert isinstance(provider, ScriptedProvider)
    provider.text = "Hi Ada,\n\nWelcome aboard.\n\nBest regards,\nAmina\nPlacet Ltd."
    task = world.awaiting_review()
    client, csrf = world.session_client("rita")
    found = inspect_html(client.get(f"/tasks/{task.id}").text)
    assert "Shown as Markdown" in found.by_id["draft-as-written"]  # the page says so
    assert found.by_id["draft-text"] == provider.text  # and has the exact text at hand
    # A browser posts a textarea's line breaks as CR LF (the HTML standard).
    typed = provider.text.replace("Amina", "Amina Yusuf").replace("\n", "\r\n")
    assert decide(client, csrf, task, "edit", text=typed).status_code == 303
    detail = world.engine.detail(task.id)
    assert detail.task.final_output == provider.text.replace("Amina", "Amina Yusuf")
    assert changed_lines(detail.decisions[0].diff or "") == 1  # not every line


def test_revise_sends_it_back_with_feedback(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, csrf = world.session_client("rita")
    assert decide(client, csrf, task, "revise", feedback="Mention the docs.").status_code == 303
    revised = world.engine.get(task.id)
    assert revised.status is TaskStatus.QUEUED and revised.pending_feedback == "Mention the docs."
    world.draft(task.id)
    page = client.get(f"/tasks/{task.id}").text
    assert "Mention the docs." in page
    assert "Draft 1 → draft 2" in page  # the earlier draft, with a side-by-side diff


def test_reject_with_a_reason(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, csrf = world.session_client("rita")
    assert decide(client, csrf, task, "reject", reason="Off brand.").status_code == 303
    detail = world.engine.detail(task.id)
    assert detail.task.status is TaskStatus.REJECTED and detail.decisions[0].reason == "Off brand."
    assert "Off brand." in client.get(f"/tasks/{task.id}").text


def test_after_a_decision_the_next_task_opens(world: WebWorld) -> None:
    first, second = world.awaiting_review(), world.awaiting_review()
    client, csrf = world.session_client("rita")
    response = decide(client, csrf, first, "approve")
    assert response.headers["location"] == f"/tasks/{second.id}?done=approve&task={first.id}"
    page = client.get(response.headers["location"]).text
    assert "Approved." in page and 'id="approve-form"' in page


@pytest.mark.parametrize(
    ("verdict", "fields", "message"),
    [
        ("", {}, "Choose approve"),
        ("maybe", {}, "Choose approve"),
        ("approve", {"version": "abc"}, "does not name the draft"),
        ("approve", {"draft_id": ""}, "does not name the draft"),
        # The engine's own words, as every channel gets them:
        ("edit", {"text": "  "}, "an edit needs the edited text"),
        ("revise", {"feedback": ""}, "a revision needs feedback"),
        ("reject", {}, "a rejection needs a reason"),
    ],
)
def test_bad_decision_forms_get_422_never_500(
    world: WebWorld, verdict: str, fields: Mapping[str, str], message: str
) -> None:
    task = world.awaiting_review()
    client, csrf = world.session_client("rita")
    data = {
        "csrf_token": csrf,
        "verdict": verdict,
        "draft_id": task.current_draft_id or "",
        "version": str(task.version),
        **fields,
    }
    response = client.post(f"/tasks/{task.id}/decide", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert message in response.text
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_an_unknown_task_is_a_404_page(world: WebWorld) -> None:
    client, csrf = world.session_client("rita")
    assert client.get("/tasks/01NOPE").status_code == 404
    response = client.post("/tasks/01NOPE/decide", data={"csrf_token": csrf, "verdict": "approve"})
    assert response.status_code == 404 and "No such task" in response.text


def test_a_stale_decision_says_who_decided_first(world: WebWorld) -> None:
    task = world.awaiting_review()
    rita, rita_csrf = world.session_client("rita")
    rob, rob_csrf = world.session_client("rob")
    assert decide(rob, rob_csrf, task, "approve").status_code == 303
    response = decide(rita, rita_csrf, task, "reject", reason="too late")
    assert response.status_code == 409
    assert "rob already decided (approve)" in response.text
    assert "nothing was changed" in response.text
    assert world.engine.get(task.id).status is TaskStatus.APPROVED


def test_a_decision_on_an_older_draft_is_a_conflict(world: WebWorld) -> None:
    task = world.awaiting_review()
    rita, csrf = world.session_client("rita")
    assert decide(rita, csrf, task, "revise", feedback="Shorter.").status_code == 303
    world.draft(task.id)
    response = decide(rita, csrf, task, "approve")  # the form of draft 1, now stale
    assert response.status_code == 409 and "changed since you looked" in response.text


# -- the queue, submitting -------------------------------------------------------------------------


def test_the_queue_shows_what_awaits_me_with_filters_and_counts(tmp_path: Path) -> None:
    with web_world(tmp_path, toml=TWO_KINDS) as world:
        world.add_user("ada", "admin")
        mail = world.awaiting_review(values={"name": "Grace"})
        reply = world.awaiting_review(kind="customer_reply", values={"customer": "Bo"})
        queued = world.submit(values={"name": "Linus"})
        client, _ = world.session_client("ada")
        page = client.get("/").text
        assert mail.id in page and reply.id in page and queued.id not in page
        assert page.index(mail.id) < page.index(reply.id)  # oldest first
        newest = client.get("/?sort=newest").text
        assert newest.index(reply.id) < newest.index(mail.id)
        only = client.get("/?kind=customer_reply").text
        assert reply.id in only and mail.id not in only
        everything = client.get("/?status=all").text
        assert queued.id in everything
        assert client.get("/?status=nonsense&kind=nope&sort=x&after=%3Cx%3E").status_code == 200
        assert re.search(r"Awaiting review\s*<span class=\"count\">2</span>", page)


def test_a_requester_sees_only_their_own_tasks(world: WebWorld) -> None:
    world.add_user("bea", "requester")
    mine = world.awaiting_review(requester="alice")
    theirs = world.awaiting_review(requester="bea")
    client, _ = world.session_client("alice")
    page = client.get("/").text
    assert mine.id in page and theirs.id not in page and "My tasks" in page
    assert client.get(f"/tasks/{theirs.id}").status_code == 404  # as a missing one


def test_the_rows_fragment_is_marked_for_the_script(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, _ = world.session_client("rita")
    response = client.get("/queue/rows")
    assert response.headers["X-Placet-Fragment"] == "1"
    assert task.id in response.text and "<html" not in response.text
    main = client.get(f"/tasks/{task.id}/main")
    assert main.headers["X-Placet-Fragment"] == "1" and 'id="task-main"' in main.text


def test_submit_a_task_from_the_form(world: WebWorld) -> None:
    client, csrf = world.session_client("alice")
    form = client.get("/submit")
    assert form.status_code == 200 and 'name="input:name"' in form.text
    data = {"csrf_token": csrf, "kind": KIND, "input:name": "Grace", "idempotency": "k1"}
    first = client.post("/submit", data=data, follow_redirects=False)
    again = client.post("/submit", data=data, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == again.headers["location"]
    task_id = first.headers["location"].split("/")[2].split("?")[0]
    assert world.engine.get(task_id).input == {"name": "Grace"}
    assert "Drafting" in client.get(first.headers["location"]).text


@pytest.mark.parametrize(
    "data", [{"kind": KIND}, {"kind": "nope", "input:name": "x"}, {"kind": KIND, "input:name": " "}]
)
def test_a_bad_submission_is_422_with_the_reason(world: WebWorld, data: dict[str, str]) -> None:
    client, csrf = world.session_client("alice")
    response = client.post("/submit", data={"csrf_token": csrf, **data})
    assert response.status_code == 422 and "flash-error" in response.text


# -- users and tokens ----------------------------------------------------------------------------


def test_an_admin_adds_and_disables_users(world: WebWorld) -> None:
    client, csrf = world.session_client("ada")
    data: dict[str, Any] = {
        "csrf_token": csrf,
        "name": "nina",
        "password": "long enough pw",
        "roles": ["reviewer", "viewer"],
    }
    assert client.post("/admin/users", data=data, follow_redirects=False).status_code == 303
    assert world.accounts.get_user("nina").roles == {"reviewer", "viewer"}
    assert client.post("/admin/users", data=data).status_code == 409
    bad_forms: list[dict[str, Any]] = [{"name": "no spaces"}, {"roles": []}, {"password": "short"}]
    for bad in bad_forms:
        assert client.post("/admin/users", data={**data, "name": "nora", **bad}).status_code == 422
    off = client.post(
        "/admin/users/nina/disable", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert off.status_code == 303 and world.accounts.get_user("nina").disabled
    assert sign_in(world.client(), "nina", "long enough pw").status_code == 401
    assert client.post("/admin/users/ada/disable", data={"csrf_token": csrf}).status_code == 422
    assert client.post("/admin/users/ghost/disable", data={"csrf_token": csrf}).status_code == 404
    assert "add_user" in [e.action for e in world.accounts.security_events("ada")]


def test_a_token_is_shown_once_and_can_be_revoked(world: WebWorld) -> None:
    client, csrf = world.session_client("rita")
    created = client.post("/tokens", data={"csrf_token": csrf, "label": "ci"})
    secret = re.search(r'id="new-secret">(plc_[^<]+)<', created.text)
    assert created.status_code == 200 and secret
    assert world.accounts.principal_for_token(secret.group(1)) is not None
    listing = client.get("/tokens").text
    assert secret.group(1) not in listing and "ci" in listing
    token = world.accounts.tokens("rita")[0]
    other = world.accounts.create_token("rob", "rob's")[1]
    stranger = client.post(f"/tokens/{other.id}/revoke", data={"csrf_token": csrf})
    assert stranger.status_code == 404  # not rita's to revoke
    revoked = client.post(
        f"/tokens/{token.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert world.accounts.principal_for_token(secret.group(1)) is None


def test_an_admin_manages_everyones_tokens(world: WebWorld) -> None:
    client, csrf = world.session_client("ada")
    created = client.post("/tokens", data={"csrf_token": csrf, "label": "bot", "user": "rob"})
    assert created.status_code == 200 and 'id="new-secret"' in created.text
    token = world.accounts.tokens("rob")[0]
    response = client.post(
        f"/tokens/{token.id}/revoke",
        data={"csrf_token": csrf, "back": "users"},
        follow_redirects=False,
    )
    assert response.headers["location"].startswith("/admin/users")
    rita, rita_csrf = world.session_client("rita")
    sneaky = rita.post("/tokens", data={"csrf_token": rita_csrf, "label": "x", "user": "rob"})
    assert sneaky.status_code == 403


# -- audit and stats -----------------------------------------------------------------------------


def test_the_audit_page_verifies_chains_and_filters_by_person(world: WebWorld) -> None:
    approved, rejected = world.awaiting_review(), world.awaiting_review()
    rita, _ = world.session_client("rita")
    rob, rob_csrf = world.session_client("rob")
    # Decided through the API: the form would take the next task for rita (a "taken" event).
    body = {"kind": "approve", "draft_id": approved.current_draft_id, "version": approved.version}
    world.client_as("rita").post(f"/api/v1/tasks/{approved.id}/decisions", json=body)
    decide(rob, rob_csrf, rejected, "reject", reason="Wrong tone.")
    sign_in(world.client(), "rita", "wrong password")
    page = rita.get("/audit").text
    assert "Chains verified" in page and "Wrong tone." in page
    mine = rita.get("/audit?person=rita").text
    assert approved.id[-10:] in mine and rejected.id[-10:] not in mine.split("task-events")[1]
    assert "wrong name or password" in mine  # rita's failed sign-in, a security event
    with world.store.sql_engine.begin() as conn:
        conn.execute(sa.update(drafts).where(drafts.c.task_id == approved.id).values(output="X"))
    tampered = rita.get("/audit").text
    assert "Problems found" in tampered and "was altered" in tampered


def test_the_stats_page_draws_its_charts_on_the_server(world: WebWorld) -> None:
    tasks = [world.awaiting_review() for _ in range(3)]
    client, csrf = world.session_client("rita")
    decide(client, csrf, tasks[0], "approve")
    decide(client, csrf, tasks[1], "reject", reason="No.")
    decide(client, csrf, tasks[2], "revise", feedback="More.")
    page = client.get("/stats")
    assert page.status_code == 200 and 'src="/stats/decisions.svg"' in page.text
    assert re.search(r"<td class=\"num\">1</td>", page.text)
    for path in [
        "/stats/decisions.svg",
        "/stats/decisions.svg?kind=onboarding_email",
        "/stats/waits.svg",
    ]:
        chart = client.get(path)
        assert chart.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in chart.text and "<script" not in chart.text
        assert "script-src" not in chart.headers["content-security-policy"]


# -- safety --------------------------------------------------------------------------------------


def test_pages_set_a_strict_policy_and_use_only_our_files(world: WebWorld) -> None:
    task = world.awaiting_review()
    client, _ = world.session_client("ada")
    for path in [
        "/",
        f"/tasks/{task.id}",
        "/audit",
        "/stats",
        "/admin/users",
        "/tokens",
        "/submit",
        "/login",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert_inert(response.text)  # no inline script, no style attribute, no handlers
    script = client.get("/static/placet.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert pages.templates.autoescape is True


def test_the_xss_corpus_is_shown_as_text_and_never_as_markup(world: WebWorld) -> None:
    provider = world.provider
    assert isinstance(provider, ScriptedProvider)
    provider.text = corpus_markdown()
    corpus_text = "\n".join(payload.text for payload in CORPUS)
    task = world.awaiting_review(values={"name": corpus_text})
    client, csrf = world.session_client("rita")
    assert decide(client, csrf, task, "revise", feedback=corpus_text).status_code == 303
    task = world.draft(task.id)
    assert decide(client, csrf, task, "reject", reason=corpus_text).status_code == 303

    found = assert_inert(client.get(f"/tasks/{task.id}").text)
    for payload in CORPUS:
        assert payload.visible_in_markdown in found.by_id["draft-rendered"], payload.name
        assert payload.text in found.by_id["history"], payload.name  # feedback and reason
        assert payload.text in found.text, payload.name  # the input, as written
    assert_inert(client.get("/?status=all").text)
    assert_inert(client.get("/audit").text)


def test_a_draft_under_review_keeps_the_corpus_inert_in_the_edit_box(world: WebWorld) -> None:
    provider = world.provider
    assert isinstance(provider, ScriptedProvider)
    provider.text = corpus_markdown()
    task = world.awaiting_review()
    client, _ = world.session_client("rita")
    found = assert_inert(client.get(f"/tasks/{task.id}").text)
    assert corpus_markdown() in found.by_id["edit-text"]  # the raw draft, to edit


def test_user_names_from_the_corpus_stay_text(world: WebWorld) -> None:
    client = world.client()
    for payload in CORPUS:
        response = sign_in(client, payload.text, "whatever password")
        assert response.status_code in (401, 429)
        assert_inert(response.text)
    admin, _ = world.session_client("ada")
    found = assert_inert(admin.get("/audit").text)
    for payload in CORPUS:
        assert payload.text[:200] in found.by_id["security-events"], payload.name
    assert LONG[:200] in found.text


def test_a_failed_draft_says_why(world: WebWorld) -> None:
    provider = world.provider
    assert isinstance(provider, ScriptedProvider)
    provider.fail_with = ProviderError("the model server is down")
    task = world.submit()
    claimed = world.engine.claim("test-worker", task.id)
    assert claimed is not None
    with pytest.raises(ProviderError):
        world.engine.draft(claimed, "test-worker")
    client, _ = world.session_client("alice")
    page = client.get(f"/tasks/{task.id}").text
    assert "Drafting failed: the model server is down" in page
    assert task.id in client.get("/").text  # a requester's list shows every state


# -- live updates over a real connection ------------------------------------------------------


def _signed_in(client: httpx.Client, name: str) -> None:
    token = csrf_of(client.get("/login").text)
    data = {"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"}
    assert client.post("/login", data=data).status_code == 303


def test_the_pages_live_streams_work_with_the_session_cookie(tmp_path: Path) -> None:
    """What placet.js relies on: the API's event streams, signed in as the pages are."""
    provider = StoryProvider()
    provider.hold()
    provider.script("one two <b>three</b> four")
    with web_world(tmp_path, provider=provider, run_worker=True) as world:
        world.add_user("rita", "reviewer")
        try:
            with running(world.app) as url, httpx.Client(base_url=url, timeout=10) as client:
                _signed_in(client, "rita")
                page = client.get("/").text
                assert 'data-events="/api/v1/queue/events"' in page
                with client.stream("GET", "/api/v1/queue/events") as queue:
                    events = sse_events(queue)
                    assert next(events).event == "queue"  # the counts as they are
                    task = world.submit()
                    assert sum(json.loads(next(events).data)["by_status"].values()) == 1
                world.engine.wait(task.id, lambda t: t.status is TaskStatus.DRAFTING, 10)
                assert (
                    f'data-events="/api/v1/tasks/{task.id}/events"'
                    in client.get(f"/tasks/{task.id}").text
                )
                texts = _draft_as_streamed(client, task.id, provider)
                assert "".join(texts) == "one two <b>three</b> four" and len(texts) == 4
        finally:
            provider.release()


def _draft_as_streamed(client: httpx.Client, task_id: str, provider: StoryProvider) -> list[str]:
    texts: list[str] = []
    with client.stream("GET", f"/api/v1/tasks/{task_id}/events") as stream:
        events = sse_events(stream)
        first = next(events)
        assert (first.event, json.loads(first.data)["status"]) == ("status", "drafting")
        provider.release()
        for event in events:
            data = json.loads(event.data)
            if event.event == "status":
                assert data["status"] == "awaiting_review" and data["version"] > 1
                return texts
            texts.append(data["text"])
    raise AssertionError("the stream ended before the draft was ready")


def test_the_task_page_says_when_an_approved_call_never_recorded_its_outcome(
    world: WebWorld,
) -> None:
    task = world.awaiting_review()
    world.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rita")))
    client, _ = world.session_client("rita")
    assert 'id="execution"' not in client.get(f"/tasks/{task.id}").text  # nothing run yet
    # A run marks its start; its process then dies before it records the outcome.
    world.engine.start_execution(task.id, "agent", f"placet:{task.id}:execute")
    page = client.get(f"/tasks/{task.id}").text
    assert 'id="execution"' in page and "No outcome recorded" in page
    world.engine.record(task.id, "agent", "executed", {"ok": False, "error": "SMTPError()"})
    page = client.get(f"/tasks/{task.id}").text
    assert "No outcome recorded" not in page and "SMTPError()" in page
