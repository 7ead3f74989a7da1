"""Live updates for Server-Sent Events: draft tokens and store changes.

Draft tokens come from the worker running in this process. Store changes come
from the store's change signal, so decisions made anywhere (another process,
the CLI, the review folder) reach every open page. ``task_feed`` and
``queue_feed`` turn them into the updates a page or an API stream shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool

from placet.domain.models import JsonObject, Task, TaskStatus
from placet.engine import ChunkSink
from placet.engine.reading import Reads
from placet.providers.base import Chunk
from placet.web.counts import Counts


@dataclass(frozen=True)
class Message:
    """One live update: ``topic`` is a task id, or ``"*"`` for any change."""

    topic: str
    kind: str  # "chunk", "restart", "changed", or "closed" when the app shuts down
    data: str = ""


CLOSED = Message("*", "closed")


class Broker:
    """Fans messages out to asyncio subscribers from any thread."""

    def __init__(self, state: Reads) -> None:
        self._state = state
        self._subscribers: dict[int, Subscription] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._next_id = 0
        self._on_change: list[Callable[[], None]] = []

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in the watcher thread) on every commit, before subscribers hear."""
        self._on_change.append(callback)

    def start(self) -> None:
        """Start turning store commits into ``changed`` messages."""
        self._stop.clear()  # an app's lifespan may run more than once (tests, reloads)
        self._watcher = threading.Thread(target=self._watch, name="placet-broker", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """Stop the watcher thread and tell every subscriber the app is closing."""
        self._stop.set()
        self.publish(CLOSED)
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def _watch(self) -> None:
        token = self._state.change_token()
        while not self._stop.is_set():
            new = self._state.wait_for_change(token, 0.5)
            if new != token:
                token = new
                for callback in self._on_change:
                    callback()
                self.publish(Message("*", "changed"))

    def publish(self, message: Message) -> None:
        """Deliver a message to every subscriber of its topic (and of ``"*"``)."""
        with self._lock:
            targets = list(self._subscribers.values())
        for subscriber in targets:
            if subscriber.wants(message):
                # A loop that has closed (its server stopped) simply misses the message:
                # the worker publishing it must never fail because a reader went away.
                with contextlib.suppress(RuntimeError):
                    subscriber.loop.call_soon_threadsafe(_offer, subscriber.queue, message)

    def sink_for(self, task: Task) -> ChunkSink:
        """Where the worker sends a task's draft as it is generated."""

        def sink(chunk: Chunk) -> None:
            if chunk.restart:  # with why, when the engine says ("writing candidate 2 of 3")
                self.publish(Message(task.id, "restart", chunk.note))
            if chunk.text:
                self.publish(Message(task.id, "chunk", chunk.text))

        return sink

    @contextmanager
    def subscription(self, topic: str) -> Iterator[Subscription]:
        """Receive a topic's messages (a task id, or ``"*"`` for changes only) inside the block.

        The subscription is live when the block starts, so a caller can read
        the current state after entering and miss no change made since.
        """
        subscription = Subscription(topic, asyncio.get_running_loop())
        with self._lock:
            key = self._next_id
            self._next_id += 1
            self._subscribers[key] = subscription
        try:
            yield subscription
        finally:
            with self._lock:
                self._subscribers.pop(key, None)

    async def subscribe(self, topic: str) -> AsyncIterator[Message]:
        """Messages for a topic (a task id, or ``"*"`` for changes only) until cancelled."""
        with self.subscription(topic) as subscription:
            while True:
                yield await subscription.get()

    def subscriber_count(self) -> int:
        """How many subscriptions are open (live pages and API streams)."""
        with self._lock:
            return len(self._subscribers)


class Subscription:
    """One subscriber's queue of messages, filled from any thread."""

    def __init__(self, topic: str, loop: asyncio.AbstractEventLoop) -> None:
        self.topic = topic
        self.loop = loop
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=1000)

    async def get(self) -> Message:
        """The next message, waiting for one."""
        return await self.queue.get()

    def get_nowait(self) -> Message | None:
        """The next message if one is waiting, else None."""
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def wants(self, message: Message) -> bool:
        """True when the message is for this subscriber."""
        return message.topic in ("*", self.topic)

    async def batch(self) -> list[Message]:
        """The next message and any already waiting behind it (so bursts are read at once)."""
        batch = [await self.get()]
        while (message := self.get_nowait()) is not None:
            batch.append(message)
        return batch

    @asynccontextmanager
    async def closing_on(self, event: anyio.Event) -> AsyncIterator[None]:
        """Inside the block, a set ``event`` (the server is shutting down) arrives as ``closed``."""

        async def relay() -> None:
            await event.wait()
            _offer(self.queue, CLOSED)

        task = asyncio.create_task(relay())
        try:
            yield
        finally:
            task.cancel()


# -- feeds: what a live page or API stream shows --------------------------------------------

Feed = AsyncIterator[tuple[str, JsonObject]]


async def task_feed(broker: Broker, state: Reads, task_id: str, closing: anyio.Event) -> Feed:
    """One task's updates as (event, data): ``status`` (first the current one), ``chunk``
    (``{"text": ...}``: append it) and ``restart`` (drop the text so far; ``text`` says why,
    when the engine knows: "writing candidate 2 of 3") while drafting.
    Ends after a final status, or when the server closes.
    """
    with broker.subscription(task_id) as subscription:
        async with subscription.closing_on(closing):
            task = await run_in_threadpool(state.get, task_id)  # subscribed first: no gap
            yield "status", _status(task)
            while not task.status.is_final:
                changed = False
                for message in await subscription.batch():
                    if message.kind == "closed":
                        return
                    if message.kind == "changed":
                        changed = True
                    else:  # the worker's text, passed straight on
                        yield message.kind, {"text": message.data}
                if changed:
                    now = await run_in_threadpool(state.get, task_id)
                    if (now.status, now.version) != (task.status, task.version):
                        yield "status", _status(now)
                    task = now


async def queue_feed(
    broker: Broker,
    count: Callable[[], Counts],
    closing: anyio.Event,
    settle_seconds: float = 0.25,
) -> Feed:
    """``queue`` events with task counts by status and by kind: now, then when they change.

    After each update the feed waits ``settle_seconds``, so a burst of commits
    costs one count, not one per commit. ``count`` is the app's shared counts
    (``Services.counts``), so many open streams share one count per change.
    """
    with broker.subscription("*") as subscription:
        async with subscription.closing_on(closing):
            last: JsonObject | None = None
            while True:
                counts = await run_in_threadpool(_queue_counts, count)
                if counts != last:  # lease renewals and the like change nothing a reader sees
                    yield "queue", counts
                    last = counts
                if any(message.kind == "closed" for message in await subscription.batch()):
                    return
                await asyncio.sleep(settle_seconds)


def _status(task: Task) -> JsonObject:
    return {
        "id": task.id,
        "status": task.status.value,
        "version": task.version,
        "attempt": task.attempt,
        "current_draft_id": task.current_draft_id,
    }


def _queue_counts(count: Callable[[], Counts]) -> JsonObject:
    by_kind: dict[str, dict[str, int]] = {}
    by_status = {status.value: 0 for status in TaskStatus}
    for (kind, status), number in sorted(count().items()):
        by_kind.setdefault(kind, {})[status.value] = number
        by_status[status.value] += number
    return {"by_status": by_status, "by_kind": by_kind}


def _offer(queue: asyncio.Queue[Message], message: Message) -> Any:
    # A subscriber that cannot keep up loses old chunks, never blocks the worker.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)
