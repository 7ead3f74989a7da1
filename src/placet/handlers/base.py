"""Outcome handlers in the SDK: what ``@client.on_approved`` and ``@client.on_rejected`` make.

A handler is a function ``handler(outcome, key)``, sync or async: ``outcome``
is the task's ``placet.Outcome`` and ``key`` the delivery's idempotency key,
the same on every attempt, to hand to the API the handler calls (an email
provider, a payment API) so a repeated attempt does nothing twice. Inside a
handler, ``placet.current_delivery()`` tells the attempt number and the rest,
and ``placet.current_idempotency_key()`` returns the key too.

``placet worker --app module:client`` (or ``client.run_handlers()``) runs the
handlers after each decision commits, at least once; see
``placet.handlers.runner``.

The idempotency key of the work running now lives here too: a handler's
delivery sets it, and so does an approved guarded call (``placet.sdk.gates``).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from placet.domain.deliveries import check_outcome, handler_name
from placet.domain.models import TaskStatus
from placet.domain.outcomes import Outcome
from placet.errors import ConfigError

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_DELAY_SECONDS = 2.0
HandlerFunction = Callable[..., Any]  # (outcome, key) -> None, or an awaitable of None

_current_delivery: contextvars.ContextVar[Delivery | None] = contextvars.ContextVar(
    "placet_current_delivery", default=None
)
_idempotency_key: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "placet_idempotency_key", default=None
)


@dataclass(frozen=True)
class Handler:
    """A function to run once a task of ``kind`` ends with ``outcome``."""

    name: str
    kind: str
    outcome: TaskStatus
    function: HandlerFunction
    backfill: bool = False  # deliver decisions made before the handler was first seen
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_delay: float = DEFAULT_RETRY_DELAY_SECONDS  # before the second try; then doubling

    def __post_init__(self) -> None:
        check_outcome(self.outcome)
        if self.max_attempts < 1:
            raise ConfigError(f"handler {self.name}: max_attempts must be at least 1")
        if self.retry_delay < 0:
            raise ConfigError(f"handler {self.name}: retry_delay cannot be negative")


@dataclass(frozen=True)
class Delivery:
    """The delivery a handler is running, from ``placet.current_delivery()``."""

    handler: str
    task_id: str
    decision_id: str
    idempotency_key: str
    attempt: int  # 1 on the first try; a try cut short by a crash counts too
    max_attempts: int


def current_delivery() -> Delivery | None:
    """Inside a handler: the delivery being run (None elsewhere)."""
    return _current_delivery.get()


def current_idempotency_key() -> str | None:
    """Inside a handler or a guarded function: a stable key for this work, for downstream APIs."""
    return _idempotency_key.get()


@contextmanager
def keyed(key: str) -> Iterator[None]:
    """Make ``current_idempotency_key()`` answer ``key`` inside the block."""
    token = _idempotency_key.set(key)
    try:
        yield
    finally:
        _idempotency_key.reset(token)


def make_handler(
    function: HandlerFunction,
    kind: str,
    outcome: TaskStatus,
    *,
    name: str | None = None,
    backfill: bool = False,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_delay: float = DEFAULT_RETRY_DELAY_SECONDS,
) -> Handler:
    """A handler for a decorated function, named stably."""
    if not callable(function):
        raise ConfigError(f"a handler must be a function, not {function!r}")
    return Handler(
        handler_name(function, name), kind, outcome, function, backfill, max_attempts, retry_delay
    )


class HandlerSet:
    """A client's handlers, by name; a name means one function."""

    def __init__(self) -> None:
        self._by_name: dict[str, Handler] = {}

    def add(self, handler: Handler) -> None:
        """Add a handler; the same name for another kind or outcome is refused."""
        known = self._by_name.get(handler.name)
        if known is not None and (known.kind, known.outcome) != (handler.kind, handler.outcome):
            raise ConfigError(f"two handlers are named {handler.name!r}; give one of them name=...")
        self._by_name[handler.name] = handler

    def __iter__(self) -> Iterator[Handler]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Handler | None:
        """The handler of that name, if any."""
        return self._by_name.get(name)


@contextmanager
def delivering(delivery: Delivery) -> Iterator[None]:
    """Make ``current_delivery()`` and ``current_idempotency_key()`` answer for a delivery."""
    delivery_token = _current_delivery.set(delivery)
    try:
        with keyed(delivery.idempotency_key):
            yield
    finally:
        _current_delivery.reset(delivery_token)


def call_handler(
    handler: Handler,
    outcome: Outcome,
    delivery: Delivery,
    loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    """Run the handler once; an async one runs to completion on ``loop()``."""
    with delivering(delivery):
        result = handler.function(outcome, delivery.idempotency_key)
        if inspect.isawaitable(result):
            # The task copies this context, so the contextvars above reach it too.
            loop().run_until_complete(_awaited(result))


async def _awaited(pending: Any) -> Any:
    return await pending
