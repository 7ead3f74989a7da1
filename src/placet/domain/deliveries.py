"""Outcome handlers, the pure part: names, idempotency keys, retry delays, id bounds.

An outcome handler (``@client.on_approved("kind")``) is delivered each final
decision of its kind at least once, after commit. A delivery is identified by
the handler's name and the decision's id, and that pair is all its
idempotency key is made of, so every retry, on any worker, carries the same key.
"""

from __future__ import annotations

import enum
import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from placet.domain.models import TaskStatus
from placet.errors import ConfigError

MAX_NAME_LENGTH = 200  # the width of handlers.name
LOWEST_ID = "0" * 26  # sorts before every ULID: a handler with backfill starts here
MAX_RETRY_DELAY_SECONDS = 3600.0
OUTCOMES = (TaskStatus.APPROVED, TaskStatus.REJECTED)


class DeliveryStatus(str, enum.Enum):
    """Where one delivery stands."""

    PENDING = "pending"  # to run, running, or waiting for its next try
    DELIVERED = "delivered"  # the handler returned; never run again
    FAILED = "failed"  # every attempt failed; kept for a person to look at


def idempotency_key(handler: str, decision_id: str) -> str:
    """The key every attempt of one delivery carries: short, stable, and unique.

    The handler's name is hashed so the key stays 50 characters however long
    the name is; downstream APIs often cap their keys (Stripe at 255).
    """
    digest = hashlib.sha256(handler.encode("utf-8")).hexdigest()[:16]
    return f"placet:{decision_id}:{digest}"


def retry_delay(attempt: int, first_delay: float) -> float:
    """Seconds before the next try after ``attempt`` failed: doubling, capped at an hour."""
    return float(min(first_delay * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS))


def handler_name(function: Callable[..., Any], explicit: str | None = None) -> str:
    """A handler's stable name: ``explicit``, else ``module.qualname``.

    A script run as ``python app.py`` has the module name ``__main__``, while
    ``placet worker --app app:client`` imports it as ``app``; both are named
    ``app.…`` here, so the script and the worker agree on who the handler is.
    """
    name = explicit or f"{_module_name(function)}.{function.__qualname__}"
    if not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise ConfigError(f"a handler name must be 1 to {MAX_NAME_LENGTH} characters: {name!r}")
    return name


def _module_name(function: Callable[..., Any]) -> str:
    module: str = function.__module__
    if module != "__main__":
        return module
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:  # python -m package.app
        return str(spec.name)
    path = getattr(main, "__file__", None)
    return Path(path).stem if path else module


def check_outcome(outcome: TaskStatus) -> TaskStatus:
    """The outcome, if handlers can react to it."""
    if outcome not in OUTCOMES:
        raise ConfigError(f"handlers react to approved or rejected tasks, not {outcome.value}")
    return outcome


@dataclass(frozen=True)
class HandlerRecord:
    """A handler as the database knows it."""

    name: str
    kind: str
    outcome: TaskStatus
    first_seen_at: float
    swept_id: str


@dataclass(frozen=True)
class DeliveryRecord:
    """One decision to deliver to one handler."""

    handler: str
    decision_id: str
    task_id: str
    status: DeliveryStatus
    attempts: int
    next_try_at: float
    lease_owner: str | None
    created_at: float
    finished_at: float | None
    last_error: str | None


@dataclass(frozen=True)
class Found:
    """A final decision with no delivery row yet for a handler."""

    decision_id: str
    task_id: str
