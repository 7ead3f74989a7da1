"""A stand-in for Slack on loopback, for tests and benchmarks: its Web API, and its signing.

``LoopbackSlack`` is a real HTTP server on 127.0.0.1 that answers the Web API
methods Placet calls (``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``,
``users.info``, ``views.open``) as Slack does (``{"ok": true, ...}``, a
channel id and a ``ts`` for each message), checks the bot token on each call, and
records every call. Point ``[channels.slack] base_url`` at ``server.base_url``; the
real ``slack_sdk`` then talks to it. It can be scripted to fail (an HTTP status, an
``ok: false`` error, a ``Retry-After``) and stopped and started on the same port, to
play Slack being down. ``signed_headers`` signs an interaction's body exactly as Slack
does (``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CHANNEL_IDS = {"#reviews": "C0REVIEWS", "#legal": "C0LEGAL"}


@dataclass(frozen=True)
class Call:
    """One Web API call the stand-in received."""

    method: str  # chat.postMessage
    args: dict[str, Any]
    token: str | None
    at: float


@dataclass(frozen=True)
class Failure:
    """How the stand-in answers one call it was told to fail."""

    status: int = 200
    error: str = "internal_error"
    retry_after: int | None = None


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with an interaction: its timestamp and its signature."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest}",
        "content-type": "application/x-www-form-urlencoded",
    }


def interaction_body(payload: dict[str, Any]) -> bytes:
    """An interaction as Slack posts it: a form with one field, ``payload``, of JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Say nothing of a client gone before its answer."""


class LoopbackSlack:
    """Slack's Web API on 127.0.0.1, as far as Placet uses it."""

    def __init__(self, token: str, port: int = 0) -> None:
        self.token = token
        self.port = port
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}  # users.info's answers, by user id
        self._ts = itertools.count(1)
        self._failures: deque[Failure] = deque()
        self._delays: deque[float] = deque()
        self._lock = threading.Condition()
        self._server: _QuietServer | None = None

    @property
    def base_url(self) -> str:
        """What ``[channels.slack] base_url`` should say."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> LoopbackSlack:
        """Listen (again, on the same port once it has one)."""
        slack = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer(b"")

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("content-length", "0"))))

            def _answer(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                args = _args(body, self.headers.get("content-type", ""), parts.query)
                auth = self.headers.get("authorization", "")
                token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
                status, answer, headers = slack.answer(parts.path.rsplit("/", 1)[-1], args, token)
                time.sleep(slack.take_delay())
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        server = _QuietServer(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: calls are refused until ``start``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackSlack:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scripting and reading -----------------------------------------------------------

    def fail(self, *failures: Failure) -> None:
        """Answer the next calls with these failures (then as Slack would again)."""
        with self._lock:
            self._failures.extend(failures)

    def slow(self, *seconds: float) -> None:
        """Take this long to answer the next calls (each after it is recorded)."""
        with self._lock:
            self._delays.extend(seconds)

    def take_delay(self) -> float:
        """How long to wait before answering the call just recorded."""
        with self._lock:
            return self._delays.popleft() if self._delays else 0.0

    def answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The status, JSON and headers one call gets; the call is recorded."""
        with self._lock:
            self.calls.append(Call(method, args, token, time.time()))
            self._lock.notify_all()
            if token != self.token:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if self._failures:
                failure = self._failures.popleft()
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                return failure.status, {"ok": False, "error": failure.error}, headers
            return 200, self._result(method, args), {}

    def _result(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            ts = f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": CHANNEL_IDS.get(channel, channel), "ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method in ("views.open", "chat.postEphemeral", "auth.test"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one method so far, in order."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int, timeout: float = 60.0) -> list[Call]:
        """Wait until ``count`` calls of ``method`` have arrived; all of them so far."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(found := [c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {len(found)} of {count} {method} calls arrived")
                self._lock.wait(left)
            return found


def _args(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    """A call's arguments, as JSON or a form (the SDK sends both) or in the query."""
    if body and content_type.startswith("application/json"):
        found = json.loads(body)
        return found if isinstance(found, dict) else {}
    fields = parse_qs(body.decode() if body else query)
    return {name: values[0] for name, values in fields.items()}
