"""The FastAPI application: REST API, dashboard, live updates, operations."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from placet.channels.folder import FolderChannel
from placet.channels.outbox import NotificationRunner
from placet.engine import Engine
from placet.engine.accounts import Accounts
from placet.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PlacetError,
    UnknownKindError,
    UnusableModelError,
    UsageError,
)
from placet.handlers.pipelines import pipeline_handlers
from placet.handlers.runner import HandlerRunner
from placet.web import api, ops, pages, slack
from placet.web.auth import Gate, Sessions, SignInForms, SignInLimiter
from placet.web.broker import Broker
from placet.web.metrics import MeteredWorker, Metrics
from placet.web.services import Services

log = logging.getLogger("placet.web")
RESTART_SECONDS = 5.0  # before the notifications' sender starts again after a database error

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True)
class AppOptions:
    """How to build the app."""

    secret_key: str
    secure_cookies: bool = False  # Secure cookies even over plain HTTP (they are over HTTPS)
    run_worker: bool = True  # draft queued tasks in this process
    watch_folder: bool = True  # turn review-folder moves into decisions
    max_body_bytes: int = 1024 * 1024
    # The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, as uvicorn's
    # --forwarded-allow-ips takes them (addresses, networks, "*"); empty: none.
    forwarded_allow_ips: str = ""
    send_notifications: bool = True  # send the configured channels' notifications
    drafting_concurrency: int = 1  # drafts in flight at once from this process's worker


def create_app(engine: Engine, accounts: Accounts, options: AppOptions) -> FastAPI:
    """The whole web application over one engine."""
    sessions = Sessions(options.secret_key, options.secure_cookies)
    broker = Broker(engine)
    metrics = Metrics(engine, engine.settings.kinds)
    app = FastAPI(
        title="Placet",
        version="1",
        description="AI proposes. Humans decide. The Placet REST API.",
        lifespan=_lifespan(engine, broker, metrics, options),
        docs_url=None,  # ours, served from this machine: api.docs
        redoc_url=None,  # ReDoc would need a CDN
    )
    app.state.services = Services(
        engine,
        accounts,
        broker,
        Gate(accounts, sessions),
        sessions,
        SignInLimiter(),
        SignInForms(options.secret_key),
        options.max_body_bytes,
        metrics,
    )
    app.state.link_key = options.secret_key  # signs callback URLs (and e-mail links)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(ops.router)
    app.include_router(slack.router)
    api.docs.mount(app)
    pages.mount_static(app)
    _add_error_handlers(app)
    # Added first, so it runs inside the other two: its 413s get headers and a log line.
    app.add_middleware(BodyLimit, max_bytes=options.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)
    if options.forwarded_allow_ips.strip():
        # Outermost, so everything inside sees the client and scheme the proxy names.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=options.forwarded_allow_ips)
    return app


def _lifespan(
    engine: Engine, broker: Broker, metrics: Metrics, options: AppOptions
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        broker.start()
        worker = MeteredWorker(
            engine,
            metrics,
            report=log.info,
            stream_to=broker.sink_for,
            concurrency=options.drafting_concurrency,
        )
        thread = threading.Thread(target=worker.run, name="placet-worker", daemon=True)
        channel = FolderChannel(engine, engine.settings.review_dir, on_message=log.info)
        sending = threading.Event()
        notifier = None
        if options.run_worker:
            thread.start()
        if options.watch_folder:
            channel.start()
        if options.send_notifications and engine.settings.channels.configured:
            notifier = _send_notifications(engine, sending)
        advancer = _advance_pipelines(engine, sending) if options.run_worker else None
        try:
            yield
        finally:
            worker.stop()
            sending.set()
            channel.stop()
            broker.stop()
            for running in (thread, notifier, advancer):
                if running is not None and running.is_alive():
                    running.join(timeout=30)

    return lifespan


def _send_notifications(engine: Engine, stop: threading.Event) -> threading.Thread:
    """The notifications' sender, on a thread of its own until ``stop`` is set."""
    return _keep_running(
        "notifications", lambda: NotificationRunner(engine, report=log.info).run(stop), stop
    )


def _advance_pipelines(engine: Engine, stop: threading.Event) -> threading.Thread | None:
    """The handlers that submit each approved step's next kind (``then``), on a thread of
    their own until ``stop`` is set, as ``placet worker`` runs them; None: no kind has one."""
    chosen = pipeline_handlers(engine)
    if not chosen:
        return None
    return _keep_running(
        "pipelines", lambda: HandlerRunner(engine, chosen, report=log.info).run(stop), stop
    )


def _keep_running(what: str, loop: Callable[[], object], stop: threading.Event) -> threading.Thread:
    """``loop`` on a thread of its own until ``stop`` is set; when the database fails under
    it, it says so and starts again a few seconds later."""

    def run() -> None:
        while not stop.is_set():
            try:
                loop()
            except PlacetError as exc:
                log.error("%s paused: %s; starting again in a few seconds", what, exc.message)
                stop.wait(RESTART_SECONDS)

    thread = threading.Thread(target=run, name=f"placet-{what}", daemon=True)
    thread.start()
    return thread


_STATUS_FOR: list[tuple[type[PlacetError], int]] = [
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (UnknownKindError, 422),
    (InvalidInputError, 422),
    # The server's configuration, not the request, is at fault: the kind cannot be drafted.
    (UnusableModelError, 503),
    (UsageError, 400),
]


def _add_error_handlers(app: FastAPI) -> None:
    async def placet_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PlacetError)
        status = next((code for cls, code in _STATUS_FOR if isinstance(exc, cls)), 503)
        return JSONResponse({"detail": exc.message, "error": type(exc).__name__}, status)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        # Where and what only: echoing the input back could be huge, or not even
        # encodable as JSON (NaN), which would turn a 422 into a 500.
        issues = [
            {
                "loc": list(error.get("loc", ())),
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
            for error in exc.errors()
        ]
        return JSONResponse({"detail": issues}, 422)

    app.add_exception_handler(PlacetError, placet_error)
    app.add_exception_handler(RequestValidationError, invalid_request)


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
# Sent over HTTPS only (a browser ignores it over HTTP): come back over HTTPS for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


# Both middlewares are plain ASGI (not ``app.middleware("http")``): they only
# watch the response start, so streams (SSE) pass through untouched and a
# client's disconnect reaches the route.


class SecurityHeaders:
    """Add the security headers to every response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        docs = scope["path"] == api.docs.DOCS_PATH
        # Swagger UI sets style attributes; nothing else needs more than the default.
        policy = api.docs.CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY
        https = scope.get("scheme") == "https"  # a trusted proxy's word already applied

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLog:
    """Log one line per request: method, path, status, milliseconds and the user if known."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            # The API's auth dependency puts the user in the request state.
            user = scope.get("state", {}).get("user")
            ms = round((time.perf_counter() - started) * 1000, 2)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": ms,
                    "user": user,
                },
            )


class BodyLimit:
    """Refuse request bodies over a size with 413, whether or not they declare a length.

    A body that says it is too long is refused before the app runs. One that
    does not is counted as it is read; going over raises an HTTPException, which
    FastAPI passes through its body parsing (any other exception there would
    become a 400) to the usual JSON error response.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large()(scope, receive, send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge
            return message

        await self.app(scope, counting, send)


class BodyTooLarge(HTTPException):
    """The request body is larger than the app accepts."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")


def _too_large() -> JSONResponse:
    return JSONResponse({"detail": "the request body is too large"}, 413)
