"""Signing in: the form's token, where the post came from, rate limits, proxies and cookies.

- The sign-in form's token is bound, by the server's key, to the pre-login
  cookie and to the client's address: a cookie another page planted (a page on
  another port of this host can) has no token to match it.
- A sign-in posted from another origin is refused, whatever it carries.
- Failed sign-ins lock out one name from one address, with a growing wait:
  the same address may still sign in to an account it did not attack, and the
  real user from their own address is never locked out by a stranger.
- ``X-Forwarded-For`` and ``X-Forwarded-Proto`` count only from a proxy named
  in ``--forwarded-allow-ips``; the security log records the real peer.
- Cookies are ``Secure`` over HTTPS (or when a trusted proxy says so, or with
  ``--secure-cookies``), and HTTPS responses carry ``Strict-Transport-Security``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from placet.cli import app as cli_app
from placet.web.auth import SESSION_COOKIE
from placet.web.pages.signin import LOGIN_COOKIE
from tests.integration.web_helpers import PASSWORD, WebWorld, csrf_of, sign_in, web_world

ATTACKER = ("198.51.100.66", 40000)
VICTIM = ("203.0.113.10", 50000)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as found:
        found.add_user("rita", "reviewer")
        found.add_user("rob", "reviewer")
        yield found


def post_login(client: TestClient, token: str, name: str = "rita", **headers: str) -> Any:
    data = {"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"}
    return client.post("/login", data=data, headers=headers, follow_redirects=False)


def sign_in_events(world: WebWorld) -> list[tuple[str, str | None, str | None]]:
    """(outcome, detail, remote) of the sign-in events, newest first."""
    events = world.accounts.security_events()
    return [(e.outcome, e.detail, e.remote) for e in events if e.action == "sign_in"]


# -- the form's token -------------------------------------------------------------------------


def test_a_planted_pre_login_cookie_cannot_sign_a_victim_in(world: WebWorld) -> None:
    """The double-submit attack: the attacker sets the cookie and posts the same value."""
    victim = world.client()
    victim.cookies.set(LOGIN_COOKIE, "chosen-by-the-attacker", path="/login")
    refused = post_login(victim, "chosen-by-the-attacker")
    assert refused.status_code == 403 and "Form expired" in refused.text
    assert SESSION_COOKIE not in victim.cookies
    assert sign_in_events(world)[0][:2] == (
        "refused",
        "the sign-in form's token is missing or wrong",
    )


def test_a_token_made_with_another_key_is_refused(world: WebWorld) -> None:
    forger = URLSafeTimedSerializer("not the server's key", salt="placet-login")
    victim = world.client()
    victim.cookies.set(LOGIN_COOKIE, "nonce", path="/login")
    token = forger.dumps({"nonce": "nonce", "address": "testclient"})
    assert post_login(victim, token).status_code == 403


def test_a_form_the_attacker_fetched_for_himself_fails_from_the_victims_address(
    world: WebWorld,
) -> None:
    attacker = world.client(client=ATTACKER)
    token = csrf_of(attacker.get("/login").text)
    nonce = attacker.cookies[LOGIN_COOKIE]
    victim = world.client(client=VICTIM)
    victim.cookies.set(LOGIN_COOKIE, nonce, path="/login")  # planted
    assert post_login(victim, token).status_code == 403
    assert post_login(attacker, token).status_code == 303  # where it was issued, it works


def test_the_form_still_signs_people_in(world: WebWorld) -> None:
    client = world.client()
    assert sign_in(client, "rita").status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200


# -- where the post came from -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver:8001"},  # another port of the same host
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, or a page hiding its referrer
        {"Referer": "http://testserver:8001/attack.html"},
        {"Origin": "http://evil.example", "Referer": "http://testserver/login"},
    ],
)
def test_a_sign_in_posted_from_another_origin_is_refused(
    world: WebWorld, headers: dict[str, str]
) -> None:
    client = world.client()
    token = csrf_of(client.get("/login").text)  # even with a good token and cookie
    response = post_login(client, token, **headers)
    assert response.status_code == 403 and "Sign-in refused" in response.text
    assert SESSION_COOKIE not in client.cookies
    outcome, detail, _ = sign_in_events(world)[0]
    assert outcome == "refused" and detail is not None
    assert detail.startswith("the sign-in form was posted from another site (")
    assert detail.endswith(", not http://testserver)")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},
        {"Origin": "http://TestServer:80"},
        {"Referer": "http://testserver/login?next=/"},
        {},  # neither: not a browser, and the token still guards it
    ],
)
def test_a_sign_in_from_the_sites_own_pages_works(world: WebWorld, headers: dict[str, str]) -> None:
    client = world.client()
    token = csrf_of(client.get("/login").text)
    assert post_login(client, token, **headers).status_code == 303


def test_over_https_the_origin_must_be_https_too(world: WebWorld) -> None:
    client = world.client(base_url="https://testserver")
    token = csrf_of(client.get("/login").text)
    assert post_login(client, token, Origin="http://testserver").status_code == 403
    assert post_login(client, token, Origin="https://testserver").status_code == 303


# -- rate limits ------------------------------------------------------------------------------


def test_failures_lock_out_the_name_from_that_address_only(world: WebWorld) -> None:
    attacker = world.client(client=ATTACKER)
    for _ in range(5):
        assert sign_in(attacker, "rita", "guess").status_code == 401
    blocked = sign_in(attacker, "rita")  # the right password waits too, from here
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert int(blocked.headers["Retry-After"]) == 60
    assert sign_in(attacker, "rob").status_code == 303  # an account it did not attack
    rita = world.client(client=VICTIM)
    assert sign_in(rita, "rita").status_code == 303  # the real user, from her address
    refused = [e for e in sign_in_events(world) if e[0] == "refused"]
    assert refused == [("refused", "too many failed sign-ins", ATTACKER[0])]


def test_each_further_failure_doubles_the_wait(world: WebWorld) -> None:
    limiter = world.services.limiter
    for _ in range(5):
        limiter.failed("rita", ATTACKER[0])
    assert 59 < limiter.wait("rita", ATTACKER[0]) <= 60
    limiter.failed("rita", ATTACKER[0])
    assert 119 < limiter.wait("rita", ATTACKER[0]) <= 120
    assert limiter.wait("rita", VICTIM[0]) == 0 and limiter.wait("rob", ATTACKER[0]) == 0


# -- proxies ----------------------------------------------------------------------------------


FORWARDED = {"X-Forwarded-For": "192.0.2.44"}
OVER_HTTPS = {"X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(world: WebWorld) -> None:
    client = world.client()
    response = sign_in(client, "rita", "wrong", headers={**FORWARDED, **OVER_HTTPS})
    assert response.status_code == 401
    assert sign_in_events(world)[0][2] == "testclient"  # the peer, not what it claimed
    assert "secure" not in response.headers["set-cookie"].lower()
    assert "strict-transport-security" not in response.headers


def test_a_trusted_proxy_names_the_client_and_the_scheme(tmp_path: Path) -> None:
    # The test client's peer is "testclient"; uvicorn's list takes names as well as addresses.
    with web_world(tmp_path, forwarded_allow_ips="10.0.0.1, testclient") as world:
        world.add_user("rita", "reviewer")
        client = world.client()
        assert sign_in(client, "rita", "wrong", headers=FORWARDED).status_code == 401
        assert sign_in_events(world)[0][2] == "192.0.2.44"
        assert sign_in(client, "rita", headers=FORWARDED).status_code == 303
        assert sign_in_events(world)[0] == ("allowed", None, "192.0.2.44")
        # The proxy says the client used HTTPS (it ends TLS itself).
        form = client.get("/login", headers=OVER_HTTPS)
        assert "; secure" in cookies_of(form)[LOGIN_COOKIE]
        assert form.headers["strict-transport-security"] == "max-age=31536000"


def test_a_proxy_not_on_the_list_is_not_believed(tmp_path: Path) -> None:
    with web_world(tmp_path, forwarded_allow_ips="10.0.0.1") as world:
        world.add_user("rita", "reviewer")
        assert sign_in(world.client(), "rita", "wrong", headers=FORWARDED).status_code == 401
        assert sign_in_events(world)[0][2] == "testclient"


def test_placet_serve_takes_forwarded_allow_ips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from placet.web import ops

    served: dict[str, Any] = {}

    def run(server: uvicorn.Server, sockets: list[Any]) -> None:
        served.update(app=server.config.app, proxy_headers=server.config.proxy_headers)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(ops, "configure_request_logs", lambda: None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLACET_DATABASE_URL", f"sqlite:///{tmp_path / 'placet.db'}")
    monkeypatch.setenv("PLACET_SECRET_KEY", "a key for this test")
    args = ["serve", "--port", "0", "--no-worker", "--no-folder"]
    args += ["--forwarded-allow-ips", "testclient"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert served["proxy_headers"] is False  # uvicorn's own default trusts any local process
    assert remote_of_a_failed_sign_in(served["app"]) == "192.0.2.44"
    monkeypatch.setenv("PLACET_FORWARDED_ALLOW_IPS", "10.9.9.9")  # the environment's list
    assert CliRunner().invoke(cli_app, args[:-2]).exit_code == 0
    assert remote_of_a_failed_sign_in(served["app"]) == "testclient"


def remote_of_a_failed_sign_in(app: FastAPI) -> str | None:
    client = TestClient(app)
    try:
        assert sign_in(client, "admin", "wrong", headers=FORWARDED).status_code == 401
    finally:
        client.close()
    return app.state.services.accounts.security_events()[0].remote  # type: ignore[no-any-return]


# -- cookies ----------------------------------------------------------------------------------


def cookies_of(response: Any) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, lower-cased."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        found[header.split("=", 1)[0]] = header.lower()
    return found


def test_over_https_cookies_are_secure_and_hsts_is_sent(world: WebWorld) -> None:
    client = world.client(base_url="https://testserver")
    form = client.get("/login")
    assert "; secure" in cookies_of(form)[LOGIN_COOKIE]
    assert form.headers["strict-transport-security"] == "max-age=31536000"
    signed = sign_in(client, "rita")
    assert "; secure" in cookies_of(signed)[SESSION_COOKIE]
    assert signed.headers["strict-transport-security"] == "max-age=31536000"


def test_over_plain_http_cookies_are_not_secure_and_no_hsts(world: WebWorld) -> None:
    client = world.client()
    form = client.get("/login")
    assert "secure" not in cookies_of(form)[LOGIN_COOKIE]
    signed = sign_in(client, "rita")
    assert "secure" not in cookies_of(signed)[SESSION_COOKIE]
    assert "strict-transport-security" not in signed.headers


def test_secure_cookies_forces_secure_over_plain_http(tmp_path: Path) -> None:
    with web_world(tmp_path, secure_cookies=True) as world:
        world.add_user("rita", "reviewer")
        client = world.client()
        assert "; secure" in cookies_of(client.get("/login"))[LOGIN_COOKIE]
        token = csrf_of(client.get("/login").text)
        # A Secure cookie is not sent back over plain HTTP; a proxy in front would be HTTPS.
        client.cookies.set(LOGIN_COOKIE, client.cookies[LOGIN_COOKIE], path="/login")
        signed = post_login(client, token)
        assert "; secure" in cookies_of(signed)[SESSION_COOKIE]
        assert "strict-transport-security" not in signed.headers
