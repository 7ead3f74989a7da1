"""A fault-injecting OpenAI-compatible chat server for tests, on loopback only.

Each test scripts what ``POST /v1/chat/completions`` does next by pushing
behaviours onto a queue (a 429 with ``retry-after``, a 500, a hang, a stream
cut off after N chunks, a normal answer...). When the queue is empty the
server answers normally. Every request is recorded (headers, JSON body, arrival
time) so tests can count attempts and measure how long the client waited.

    with FaultServer() as server:
        server.push(rate_limited("0"), stream("Hello there"))
        ...  # point a client at server.base_url
        assert len(server.requests) == 2
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

DEFAULT_TEXT = "Hello from the fault server."
MODEL = "fault-model"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]
    received_at: float  # time.monotonic()

    @property
    def streaming(self) -> bool:
        """Whether the client asked for a stream."""
        return bool(self.body.get("stream"))

    @property
    def wants_usage(self) -> bool:
        """Whether the client asked for a usage chunk at the end of the stream."""
        options = self.body.get("stream_options") or {}
        return bool(options.get("include_usage"))


Behaviour = Callable[["_Handler", RecordedRequest], None]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pieces(text: str) -> list[str]:
    """How the server splits an answer into streamed chunks: one word each."""
    return re.findall(r"\s*\S+", text)


# --- behaviours ---------------------------------------------------------------


def answer(text: str = DEFAULT_TEXT) -> Behaviour:
    """A normal answer, streamed or whole as the request asks."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        chosen = stream(text) if request.streaming else json_answer(text)
        chosen(handler, request)

    return behave


def json_answer(text: str = DEFAULT_TEXT) -> Behaviour:
    """A non-streaming chat completion with usage."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        body = {
            "id": "chatcmpl-fault",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(request, text),
        }
        handler.send_json(200, body)

    return behave


def stream(text: str = DEFAULT_TEXT, *, usage: bool = True, finish: bool = True) -> Behaviour:
    """A streamed answer: a role chunk, one chunk per word, the finish, usage, ``[DONE]``.

    ``usage=False`` plays a server that ignores ``stream_options``;
    ``finish=False`` one that ends the stream cleanly but without a finish_reason.
    """

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        handler.start_stream()
        _send_pieces(handler, pieces(text))
        if finish:
            handler.send_event(_chunk(finish_reason="stop"))
        if usage and request.wants_usage:
            handler.send_event(_chunk(usage=_usage(request, text)))
        handler.send_event("[DONE]")
        handler.end_stream()

    return behave


def stream_then_drop(text: str = DEFAULT_TEXT, *, after: int) -> Behaviour:
    """Stream ``after`` word chunks, then drop the connection mid-body."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        handler.start_stream()
        _send_pieces(handler, pieces(text)[:after])
        handler.drop()

    return behave


def stream_then_hang(text: str = DEFAULT_TEXT, *, after: int, seconds: float) -> Behaviour:
    """Stream ``after`` word chunks, then go silent for ``seconds`` and drop."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        handler.start_stream()
        _send_pieces(handler, pieces(text)[:after])
        handler.pause(seconds)
        handler.drop()

    return behave


def stream_error_event(message: str) -> Behaviour:
    """A stream whose first event is an ``{"error": ...}`` object, as some servers send."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        handler.start_stream()
        handler.send_event({"error": {"message": message, "type": "server_error"}})
        handler.send_event("[DONE]")
        handler.end_stream()

    return behave


def stream_garbage() -> Behaviour:
    """A stream whose event is not JSON."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        handler.start_stream()
        handler.send_event("{this is not json")
        handler.end_stream()

    return behave


def hang(seconds: float) -> Behaviour:
    """Accept the request, say nothing for ``seconds``, then drop the connection."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        handler.pause(seconds)
        handler.drop()

    return behave


def error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    kind: str = "invalid_request_error",
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """An OpenAI-style error response."""

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        handler.send_json(status, body, headers)

    return behave


def rate_limited(retry_after: str | None = "0", *, retry_after_ms: str | None = None) -> Behaviour:
    """A 429, with ``retry-after`` (seconds) and/or ``retry-after-ms`` headers."""
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return error(429, "Rate limit reached, please retry", kind="requests", headers=headers)


def server_error(status: int = 500) -> Behaviour:
    """A 5xx."""
    return error(status, f"the fault server failed on purpose ({status})", kind="server_error")


def unauthorized(message: str = "Invalid API Key", status: int = 401) -> Behaviour:
    """A 401 (or 403) as Groq and OpenAI send it."""
    return error(status, message, code="invalid_api_key")


def too_large() -> Behaviour:
    """A 413, as Groq sends when a request exceeds the tokens-per-minute limit."""
    return error(413, "Request too large for model: Limit 6000, Requested 9000", kind="tokens")


def context_length_exceeded() -> Behaviour:
    """A 400 whose code says the prompt does not fit the context window."""
    return error(
        400,
        "This model's maximum context length is 2048 tokens. However, you requested 3000 tokens.",
        code="context_length_exceeded",
    )


def reject_stream_options(then: Behaviour | None = None) -> Behaviour:
    """A 400 for any request carrying ``stream_options``, as some older servers do."""
    fallback = then or answer()

    def behave(handler: _Handler, request: RecordedRequest) -> None:
        if "stream_options" in request.body:
            message = "Unrecognized request argument supplied: stream_options"
            error(400, message)(handler, request)
        else:
            fallback(handler, request)

    return behave


def _send_pieces(handler: _Handler, words: list[str]) -> None:
    handler.send_event(_chunk(delta={"role": "assistant", "content": ""}))
    for word in words:
        handler.send_event(_chunk(delta={"content": word}))


def _chunk(
    *,
    delta: dict[str, str] | None = None,
    finish_reason: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "chatcmpl-fault",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [],
    }
    if usage is not None:
        event["usage"] = usage
    else:
        choice = {"index": 0, "delta": delta or {}, "finish_reason": finish_reason}
        event["choices"] = [choice]
    return event


def _usage(request: RecordedRequest, text: str) -> dict[str, int]:
    """Deterministic counts tests can predict: words in, words out."""
    prompt = sum(len(str(m.get("content", "")).split()) for m in request.body.get("messages", []))
    completion = len(pieces(text))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


# --- the server ---------------------------------------------------------------


class FaultServer:
    """A scriptable OpenAI-compatible server on 127.0.0.1, served from a thread."""

    def __init__(self, default: Behaviour | None = None) -> None:
        self._default = default or answer()
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fault = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What to give a client as its base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The chat requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests: how long the client waited to retry."""
        times = [request.received_at for request in self.requests]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def push(self, *behaviours: Behaviour, times: int = 1) -> None:
        """Script the next requests; each behaviour answers one request."""
        with self._lock:
            for _ in range(times):
                self._queue.extend(behaviours)

    def start(self) -> FaultServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake any hanging handlers and close every socket."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()  # joins the handler threads
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _record(self, request: RecordedRequest) -> Behaviour:
        with self._lock:
            self._requests.append(request)
            return self._queue.popleft() if self._queue else self._default


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close rather than abandoned, so no socket
    # outlives the test that opened it.
    daemon_threads = False
    block_on_close = True
    fault: FaultServer

    def __init__(self, address: tuple[str, int], handler: type[_Handler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock handlers waiting on idle keep-alive connections."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection never pins a thread for long
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        request = RecordedRequest(
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=json.loads(raw or b"{}"),
            received_at=time.monotonic(),
        )
        behaviour = self.server.fault._record(request)
        try:
            behaviour(self, request)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout, say); that is what some tests want.
            self.close_connection = True

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self.send_json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    # --- what behaviours use ---

    def send_json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        """A whole JSON response."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_stream(self) -> None:
        """Begin a chunked server-sent-event response."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def send_event(self, payload: object) -> None:
        """One ``data:`` event, in its own HTTP chunk."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        data = f"data: {text}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        """The last, empty chunk: the body ended properly."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self) -> None:
        """Close the connection without finishing the response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def pause(self, seconds: float) -> None:
        """Stay silent, but wake at once when the server closes."""
        self.server.fault.stopping.wait(seconds)
