"""A loopback OpenAI-compatible server that plays a hosted API, for tests and the
drafting benchmark: a first-token delay, a token rate, drafts of a set length, and
optional limits on requests and tokens, announced in the headers of every response
(``x-ratelimit-*``, as OpenAI and Groq send them) and enforced with 429 and
``retry-after``.

Limits are token buckets, as the vendors describe theirs: ``capacity`` to spend at
once, refilled at ``per_second``; ``x-ratelimit-reset-*`` says when the bucket is
whole again. A request costs one request and, in tokens, its prompt (characters / 4)
plus its ``max_tokens``, as OpenAI counts them.

asyncio serves every stream from one thread, so 64 streams at once cost little.

    python -m tests.integration.hosted_api --port 8090 --requests-per-second 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

MODEL = "hosted-model"
WORD = " word"  # one token of every draft


@dataclass
class Bucket:
    """A token bucket: ``capacity`` at once, refilled at ``per_second``."""

    capacity: float
    per_second: float
    level: float = -1.0
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.level = self.capacity

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.at) * self.per_second)
        self.at = now

    def take(self, cost: float, now: float) -> float | None:
        """Take ``cost``; None if taken, else the seconds until it would be there."""
        self._refill(now)
        if self.level >= cost:
            self.level -= cost
            return None
        return (cost - self.level) / self.per_second

    def headers(self, name: str) -> dict[str, str]:
        """The x-ratelimit-* headers of this bucket."""
        whole_in = (self.capacity - self.level) / self.per_second
        return {
            f"x-ratelimit-limit-{name}": str(int(self.capacity)),
            f"x-ratelimit-remaining-{name}": str(max(0, math.floor(self.level))),
            f"x-ratelimit-reset-{name}": f"{whole_in:.3f}s",
        }


@dataclass(frozen=True)
class Plan:
    """How the server behaves."""

    first_token_seconds: float = 0.5
    tokens_per_second: float = 400.0
    draft_tokens: int = 200
    requests_per_second: float | None = None  # None: no limit
    requests_burst: float | None = None  # default: one second's worth
    tokens_per_minute: float | None = None


@dataclass
class Counts:
    """What the server saw."""

    requests: int = 0
    answered: int = 0
    rate_limited: int = 0
    streams_at_once: int = 0
    most_at_once: int = 0


class HostedApi:
    """The server, on 127.0.0.1, served by an asyncio loop on a thread of its own."""

    def __init__(self, plan: Plan | None = None, port: int = 0) -> None:
        self.plan = plan or Plan()
        self.counts = Counts()
        self._port = port
        self._buckets: dict[str, Bucket] = {}
        if self.plan.requests_per_second:
            burst = self.plan.requests_burst or self.plan.requests_per_second
            self._buckets["requests"] = Bucket(burst, self.plan.requests_per_second)
        if self.plan.tokens_per_minute:
            tpm = self.plan.tokens_per_minute
            self._buckets["tokens"] = Bucket(tpm, tpm / 60)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        """What to give a client as its base URL."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    def start(self) -> HostedApi:
        """Listen and serve in the background."""
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self._port, backlog=512), self._loop
        )
        self._server = started.result(10)
        return self

    def close(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._close_loop()

    def _close_loop(self) -> None:
        """Close what is left: connections still open, and the loop's own sockets."""
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        with contextlib.suppress(RuntimeError):
            self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    def __enter__(self) -> HostedApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- one connection, many requests ------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                await self._answer(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        self.counts.requests += 1
        headers, wait = self._admit(request)
        if wait is not None:
            self.counts.rate_limited += 1
            headers["retry-after"] = str(math.ceil(wait))
            headers["retry-after-ms"] = str(math.ceil(wait * 1000))
            body = {"error": {"message": "Rate limit reached", "type": "requests", "code": None}}
            await _send_json(writer, 429, body, headers)
            return
        self.counts.streams_at_once += 1
        self.counts.most_at_once = max(self.counts.most_at_once, self.counts.streams_at_once)
        try:
            await self._stream(request, writer, headers)
        finally:
            self.counts.streams_at_once -= 1
        self.counts.answered += 1

    def _admit(self, request: dict[str, Any]) -> tuple[dict[str, str], float | None]:
        now = time.monotonic()
        costs = {"requests": 1.0, "tokens": _token_cost(request)}
        waits = [self._buckets[name].take(costs[name], now) for name in self._buckets]
        refused = [wait for wait in waits if wait is not None]
        if refused:  # give back what was taken: a refused request spends nothing
            for name, wait in zip(self._buckets, waits, strict=True):
                if wait is None:
                    self._buckets[name].level += costs[name]
        headers: dict[str, str] = {}
        for name, bucket in self._buckets.items():
            headers.update(bucket.headers(name))
        return headers, max(refused) if refused else None

    async def _stream(
        self, request: dict[str, Any], writer: asyncio.StreamWriter, headers: dict[str, str]
    ) -> None:
        plan = self.plan
        tokens = min(plan.draft_tokens, int(request.get("max_tokens") or plan.draft_tokens))
        lines = ["HTTP/1.1 200 OK", "content-type: text/event-stream"]
        lines += ["transfer-encoding: chunked"] + [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        await asyncio.sleep(plan.first_token_seconds)
        started = time.monotonic()
        for sent in range(tokens):
            # Paced to the token rate from the first token, not per sleep, so
            # many streams at once keep the rate.
            due = started + sent / plan.tokens_per_second
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(_event({"delta": {"content": WORD}, "finish_reason": None}))
        writer.write(_event({"delta": {}, "finish_reason": "stop"}))
        if (request.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": tokens + 10}
            writer.write(_chunk(f"data: {json.dumps(_envelope([], usage))}\n\n"))
        writer.write(_chunk("data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()


def _token_cost(request: dict[str, Any]) -> float:
    chars = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
    return math.ceil(chars / 4) + int(request.get("max_tokens") or 0)


def _envelope(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "chatcmpl-hosted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": choices,
    }
    if usage is not None:
        event["usage"] = usage
    return event


def _event(choice: dict[str, Any]) -> bytes:
    return _chunk(f"data: {json.dumps(_envelope([{'index': 0, **choice}]))}\n\n")


def _chunk(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _read_request(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head:
        return None
    length = 0
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b"{}"
    parsed: dict[str, Any] = json.loads(body)
    return parsed


async def _send_json(
    writer: asyncio.StreamWriter, status: int, body: object, headers: dict[str, str]
) -> None:
    data = json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} {'Too Many Requests' if status == 429 else 'Error'}"]
    lines += ["content-type: application/json", f"content-length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
    await writer.drain()


def main() -> None:
    """Serve until killed, printing the base URL first (for a benchmark's subprocess)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--first-token", type=float, default=0.5)
    parser.add_argument("--tokens-per-second", type=float, default=400.0)
    parser.add_argument("--draft-tokens", type=int, default=200)
    parser.add_argument("--requests-per-second", type=float, default=None)
    parser.add_argument("--tokens-per-minute", type=float, default=None)
    args = parser.parse_args()
    plan = Plan(
        args.first_token,
        args.tokens_per_second,
        args.draft_tokens,
        args.requests_per_second,
        None,
        args.tokens_per_minute,
    )
    server = HostedApi(plan, args.port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
