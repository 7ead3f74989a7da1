"""Helpers shared by the web tests (API and dashboard): a whole app on a temporary store.

    with web_world(tmp_path) as world:
        world.add_user("alice", "requester")
        client = world.client_as("alice")           # Bearer token
        browser, csrf = world.session_client("rita")  # session cookie, as the dashboard
        task = world.awaiting_review(requester="alice")  # submitted and drafted
        sign_in(world.client(), "rita")  # through the sign-in form, as a browser does

Drafting is done in the test's own thread with the fake provider
(``world.draft``), so tests need not wait for a worker; ``serving(world.app)``
runs the app on a loopback port (lifespan, worker and all) for streaming tests;
``sse_events`` reads a streamed response as Server-Sent Events.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from starlette.responses import Response
from starlette.testclient import TestClient

from placet.config import load_settings
from placet.domain.models import Task
from placet.engine import Engine
from placet.engine import accounts as accounts_module
from placet.engine.accounts import Accounts, User
from placet.providers.base import Provider
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, temp_store
from placet.web.app import AppOptions, create_app
from placet.web.auth import SESSION_COOKIE
from placet.web.services import Services
from tests.conftest import plain_kinds
from tests.integration.fault_server import free_port

PASSWORD = "correct horse battery"
SECRET_KEY = "test-secret-key-not-for-production"
KIND = "onboarding_email"
INPUT = {"name": "Ada"}
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class WebWorld:
    """An app over a real SQLite store in a temporary folder, drafting with a fake provider."""

    root: Path
    engine: Engine
    accounts: Accounts
    app: FastAPI
    provider: Provider
    _clients: list[TestClient] = field(default_factory=list)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> SqlStore:
        """The store under the engine."""
        store = self.engine.store
        assert isinstance(store, SqlStore)
        return store

    @property
    def services(self) -> Services:
        """The app's services (gate, sessions, broker, metrics)."""
        found: Services = self.app.state.services
        return found

    # -- people ---------------------------------------------------------------------------

    def add_user(self, name: str, *roles: str, password: str = PASSWORD) -> User:
        """Create an account with these roles."""
        return self.accounts.add_user(name, password, list(roles))

    def token(self, name: str) -> str:
        """A live API token for the user (one per user, made on first use)."""
        if name not in self._tokens:
            self._tokens[name] = self.accounts.create_token(name, "test")[0]
        return self._tokens[name]

    def client(self, **options: Any) -> TestClient:
        """A client with no credentials (closed with the world)."""
        client = TestClient(self.app, **options)
        self._clients.append(client)
        return client

    def client_as(self, name: str) -> TestClient:
        """A client that sends the user's bearer token."""
        client = self.client()
        client.headers["Authorization"] = f"Bearer {self.token(name)}"
        return client

    def session_client(self, name: str) -> tuple[TestClient, str]:
        """A client signed in with the dashboard's session cookie, and its CSRF token."""
        response = Response()
        generation = self.accounts.get_user(name).session_generation
        session = self.services.sessions.start(response, name, generation)
        cookie: SimpleCookie = SimpleCookie(response.headers["set-cookie"])
        client = self.client()
        client.cookies.set(SESSION_COOKIE, cookie[SESSION_COOKIE].value)
        return client, session.csrf

    def refusals(self, actor: str | None = None) -> list[tuple[str, str, str | None]]:
        """Recorded refusals as (actor, action, target), newest first."""
        events = self.accounts.security_events(actor)
        return [(e.actor, e.action, e.target) for e in events if e.outcome == "refused"]

    # -- tasks ----------------------------------------------------------------------------

    def submit(
        self, requester: str = "alice", kind: str = KIND, values: dict[str, Any] | None = None
    ) -> Task:
        """Queue a task straight through the engine."""
        return self.engine.submit(kind, dict(values or INPUT), requester)

    def draft(self, task_id: str) -> Task:
        """Claim and draft the task here and now (no worker thread needed)."""
        claimed = self.engine.claim("test-worker", task_id)
        assert claimed is not None, f"task {task_id} could not be claimed"
        return self.engine.draft(claimed, "test-worker")

    def awaiting_review(
        self, requester: str = "alice", kind: str = KIND, values: dict[str, Any] | None = None
    ) -> Task:
        """A task with a draft waiting for a decision."""
        return self.draft(self.submit(requester, kind, values).id)

    def close(self) -> None:
        """Close the clients, the engine's providers and the store."""
        for client in self._clients:
            client.close()
        self.engine.close()
        self.store.close()  # the accounts share its SQLAlchemy engine


@contextmanager
def web_world(
    root: Path,
    toml: str | None = None,
    provider: Provider | None = None,
    run_worker: bool = False,
    max_body_bytes: int = 1024 * 1024,
    secure_cookies: bool = False,
    forwarded_allow_ips: str = "",
    real_providers: bool = False,
    clock: Callable[[], float] | None = None,
    drafting_concurrency: int = 1,
) -> Iterator[WebWorld]:
    """A world in ``root``; ``toml`` is written as its placet.toml (kinds, reviewers).

    With ``real_providers``, the engine makes its providers from the real registry
    (as ``placet serve`` does) instead of drafting with the fake one. ``clock``
    is the engine's clock (a test's, to fire timers), instead of the wall clock.
    """
    if toml is not None:
        (root / "placet.toml").write_text(toml)
    # Test-strength password hashing: argon2's defaults cost ~0.3 s a user.
    saved_hasher, accounts_module._hasher = accounts_module._hasher, FAST_HASHER
    settings = replace(load_settings(root), review_dir=root / "human_feedback")
    if toml is None:  # the starter kinds, as the engine's tests see them (tests/conftest.py)
        settings = plain_kinds(settings)
    store = temp_store(root)
    fake = provider or FakeProvider()
    engine = Engine(
        store,
        settings,
        provider_for=None if real_providers else lambda _m: fake,
        clock=clock or time.time,
    )
    accounts = Accounts(store.accounts())
    options = AppOptions(
        SECRET_KEY,
        secure_cookies=secure_cookies,
        run_worker=run_worker,
        watch_folder=False,
        max_body_bytes=max_body_bytes,
        forwarded_allow_ips=forwarded_allow_ips,
        drafting_concurrency=drafting_concurrency,
    )
    world = WebWorld(root, engine, accounts, create_app(engine, accounts, options), fake)
    try:
        yield world
    finally:
        world.close()
        accounts_module._hasher = saved_hasher


# -- the sign-in form ----------------------------------------------------------------------


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def sign_in(
    client: TestClient,
    name: str,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Sign in through the form, as a browser does; returns the POST's response."""
    token = csrf_of(client.get("/login", headers=headers).text)
    data = {"name": name, "password": password, "csrf_token": token, "next": "/"}
    return client.post("/login", data=data, headers=headers, follow_redirects=False)


# -- a real server, for streams -----------------------------------------------------------


@dataclass
class LiveServer:
    """An app served by uvicorn on a loopback port, in a background thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 15) -> None:
        """Ask uvicorn to exit and wait until it has (lifespan shutdown included)."""
        self.server.should_exit = True
        self.thread.join(timeout=timeout)
        assert not self.thread.is_alive(), "uvicorn did not stop"


@contextmanager
def serving(app: FastAPI, **config: Any) -> Iterator[LiveServer]:
    """Run the app with uvicorn on a loopback port (lifespan, worker and all)."""
    port = free_port()
    settings = {"log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **settings))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    live = LiveServer(f"http://127.0.0.1:{port}", server, thread)
    try:
        yield live
    finally:
        if thread.is_alive():
            live.stop()


@dataclass(frozen=True)
class SseEvent:
    """One Server-Sent Event as a client sees it."""

    event: str
    data: str


def sse_events(response: httpx.Response) -> Iterator[SseEvent]:
    """The events of a streamed response, as they arrive (comments are skipped).

    Keep the iterator while the stream should stay open: once it is garbage,
    httpx closes the connection and the server sees the client leave.
    """
    event, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield SseEvent(event, "\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
