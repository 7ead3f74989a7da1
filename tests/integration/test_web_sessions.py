"""Sessions end: signing out, a new password, disabling and "sign out everywhere".

Each action ends every session of the user at once, on every browser: a
session cookie captured before it (as a thief would keep it) no longer opens
a page or the API afterwards. Every such change is in the security log, with
who made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from placet.cli import app as cli_app
from placet.web.auth import SESSION_COOKIE
from tests.integration.web_helpers import (
    PASSWORD,
    SECRET_KEY,
    WebWorld,
    csrf_of,
    sign_in,
    web_world,
)

API = "/api/v1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as found:
        found.add_user("rita", "reviewer")
        found.add_user("ada", "admin")
        yield found


def signed_in(world: WebWorld, name: str = "rita") -> tuple[TestClient, str]:
    """A browser signed in through the form, and its session cookie as a thief would copy it."""
    browser = world.client()
    assert sign_in(browser, name).status_code == 303
    cookie = browser.cookies.get(SESSION_COOKIE)
    assert cookie
    return browser, cookie


def works(world: WebWorld, cookie: str) -> bool:
    """Does this session cookie still open the dashboard and the API?"""
    client = world.client()
    client.cookies.set(SESSION_COOKIE, cookie)
    page = client.get("/", follow_redirects=False).status_code
    api = client.get(f"{API}/tasks").status_code
    assert (page, api) in {(200, 200), (303, 401)}, (page, api)
    return page == 200


def logged(world: WebWorld, action: str) -> list[tuple[str, str | None, str]]:
    """(actor, target, outcome) of the security log's entries for an action, newest first."""
    return [
        (e.actor, e.target, e.outcome)
        for e in world.accounts.security_events()
        if e.action == action
    ]


def cli(world: WebWorld, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> str:
    """Run ``placet ARGS`` on the world's database as the person "ops"; its output."""
    monkeypatch.chdir(world.root)
    monkeypatch.setenv("PLACET_DATABASE_URL", f"sqlite:///{world.root / 'placet.db'}")
    monkeypatch.setenv("PLACET_USER", "ops")
    result = CliRunner().invoke(cli_app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


# -- signing out ------------------------------------------------------------------------------


def test_signing_out_ends_every_session_of_the_user(world: WebWorld) -> None:
    browser, cookie = signed_in(world)
    _laptop, laptop_cookie = signed_in(world)  # the same person on another machine
    _ada, ada_cookie = signed_in(world, "ada")
    csrf = csrf_of(browser.get("/").text)
    out = browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?done=signed-out"
    assert not works(world, cookie)  # the copy kept from before is dead
    assert not works(world, laptop_cookie)  # and so is the other machine's
    assert works(world, ada_cookie)  # someone else's is not touched
    assert logged(world, "sign_out") == [("rita", "rita", "allowed")]
    _again, fresh = signed_in(world)  # signing in again starts a session that works
    assert works(world, fresh)


# -- a new password ---------------------------------------------------------------------------


def test_a_new_password_from_the_cli_ends_every_session(
    world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _browser, cookie = signed_in(world)
    output = cli(
        world,
        monkeypatch,
        "users",
        "passwd",
        "rita",
        "--password-stdin",
        stdin="a brand new password\n",
    )
    assert "every session of theirs has ended" in output
    assert not works(world, cookie)
    assert logged(world, "set_password") == [("ops", "rita", "allowed")]
    assert sign_in(world.client(), "rita", "a brand new password").status_code == 303


def test_any_password_change_ends_every_session(world: WebWorld) -> None:
    """The accounts' own call does it, so every door that changes a password does."""
    _browser, cookie = signed_in(world)
    world.accounts.set_password("rita", PASSWORD)  # even to the same password
    assert not works(world, cookie)


# -- disabling --------------------------------------------------------------------------------


def test_disabling_a_user_ends_their_sessions_for_good(world: WebWorld) -> None:
    _browser, cookie = signed_in(world)
    admin, _ = signed_in(world, "ada")
    csrf = csrf_of(admin.get("/admin/users").text)
    off = admin.post("/admin/users/rita/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert off.status_code == 303
    assert not works(world, cookie)
    on = admin.post(
        "/admin/users/rita/disable",
        data={"csrf_token": csrf, "disabled": "0"},
        follow_redirects=False,
    )
    assert on.status_code == 303 and not world.accounts.get_user("rita").disabled
    assert not works(world, cookie)  # enabling again revives no old session
    assert logged(world, "disable_user") == [("ada", "rita", "allowed")]


def test_disabling_from_the_cli_ends_their_sessions(
    world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _browser, cookie = signed_in(world)
    cli(world, monkeypatch, "users", "disable", "rita")
    assert not works(world, cookie)
    assert logged(world, "disable_user") == [("ops", "rita", "allowed")]


# -- an admin's "sign out everywhere" ---------------------------------------------------------


def test_the_users_page_signs_a_user_out_everywhere(world: WebWorld) -> None:
    _browser, cookie = signed_in(world)
    admin, admin_cookie = signed_in(world, "ada")
    page = admin.get("/admin/users").text
    assert 'action="/admin/users/rita/signout"' in page and "Sign out everywhere" in page
    ended = admin.post(
        "/admin/users/rita/signout",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    assert "Signed out everywhere" in admin.get(ended.headers["location"]).text
    assert not works(world, cookie)
    assert works(world, admin_cookie)
    assert logged(world, "end_sessions") == [("ada", "rita", "allowed")]


def test_only_an_admin_signs_others_out_from_the_page(world: WebWorld) -> None:
    _browser, cookie = signed_in(world)
    reviewer, csrf = world.session_client("rita")
    refused = reviewer.post("/admin/users/ada/signout", data={"csrf_token": csrf})
    assert refused.status_code == 403
    forged = world.session_client("ada")[0].post("/admin/users/rita/signout", data={})
    assert forged.status_code == 403  # no CSRF token
    missing = world.session_client("ada")
    assert (
        missing[0].post("/admin/users/ghost/signout", data={"csrf_token": missing[1]}).status_code
        == 404
    )
    assert works(world, cookie)


def test_the_api_signs_a_user_out_everywhere(world: WebWorld) -> None:
    _browser, cookie = signed_in(world)
    url = f"{API}/users/rita/sessions"
    assert world.client_as("rita").delete(f"{API}/users/ada/sessions").status_code == 403
    assert works(world, cookie)
    assert world.client_as("ada").delete(f"{API}/users/ghost/sessions").status_code == 404
    assert world.client_as("ada").delete(url).status_code == 204
    assert not works(world, cookie)
    assert logged(world, "end_sessions") == [("ada", "rita", "allowed")]
    assert world.client_as("rita").get(f"{API}/tasks").status_code == 200  # tokens still work


def test_the_cli_signs_a_user_out_everywhere(
    world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _browser, cookie = signed_in(world)
    assert "signed rita out everywhere" in cli(world, monkeypatch, "users", "signout", "rita")
    assert not works(world, cookie)
    assert logged(world, "end_sessions") == [("ops", "rita", "allowed")]


# -- the cookie itself ------------------------------------------------------------------------


def test_a_cookie_that_names_no_generation_is_not_a_session(world: WebWorld) -> None:
    """A cookie signed before sessions could end (or without the field) is refused."""
    old = URLSafeTimedSerializer(SECRET_KEY, salt="placet-session")
    assert not works(world, old.dumps({"user": "rita", "csrf": "x"}))
    assert not works(world, old.dumps({"user": "rita", "csrf": "x", "gen": "0"}))
    assert works(world, old.dumps({"user": "rita", "csrf": "x", "gen": 0}))
    assert not works(world, old.dumps({"user": "rita", "csrf": "x", "gen": 1}))
