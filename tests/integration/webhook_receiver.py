"""A real webhook receiver on loopback, for tests: it records every request and verifies
each with the Standard Webhooks library's own verifier, as a real receiver would.

Each test scripts the next answers (``answer(500, 500, 200)``, ``slow(seconds)``);
when the script is empty it answers 204. It can be stopped (its port refuses
connections) and started again on the same port, to play a receiver that is down.

    with Receiver(SECRET) as receiver:
        receiver.answer(500)
        ...  # point a channel at receiver.url
        assert receiver.ids() == [...]
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.integration.fault_server import free_port

WAIT_SECONDS = 60.0  # the most a test waits for a request; never asserted on


@dataclass(frozen=True)
class Received:
    """One request the receiver got, and what the library's verifier made of it."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    verified: bool
    at: float  # time.time()

    @property
    def id(self) -> str:
        """Its webhook-id."""
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        """Its body, parsed."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    """What the receiver does with one request."""

    status: int = 204
    delay: float = 0.0  # seconds before answering
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class _QuietServer(ThreadingHTTPServer):
    """Says nothing of a client gone before its answer (a sender killed mid-request)."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class Receiver:
    """A threaded HTTP server on 127.0.0.1 taking webhook POSTs."""

    def __init__(self, secret: str, port: int | None = None) -> None:
        self.verifier = Webhook(secret)
        self.port = port or free_port()
        self.requests: list[Received] = []
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to post."""
        return f"http://127.0.0.1:{self.port}/hooks/placet"

    # -- running -----------------------------------------------------------------

    def start(self) -> Receiver:
        """Listen (again) on the same port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                answer = receiver._arrive(self.path, headers, body)
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *_: object) -> None:
                pass

        server = _QuietServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections to the port are refused until ``start``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scripting and reading -----------------------------------------------------

    def answer(
        self,
        *statuses: int,
        delay: float = 0.0,
        retry_after: str | None = None,
        body: bytes = b"busy\x1b[31m now",
    ) -> None:
        """Answer the next requests with these statuses (then 204 again)."""
        headers = (("retry-after", retry_after),) if retry_after is not None else ()
        with self._lock:
            for status in statuses:
                self._script.append(Answer(status, delay, headers, body))

    def _arrive(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        try:
            self.verifier.verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self._arrived:
            self.requests.append(Received(path, headers, body, verified, time.time()))
            self._arrived.notify_all()
            return self._script.popleft() if self._script else Answer()

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Received]:
        """Wait until ``count`` requests have arrived; all of them so far."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {len(self.requests)} of {count} requests arrived")
                self._arrived.wait(left)
            return list(self.requests)

    def ids(self) -> list[str]:
        """The webhook-id of every request, in arrival order."""
        with self._lock:
            return [request.id for request in self.requests]
