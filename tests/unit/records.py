"""Records for unit tests: a task awaiting review, with whatever fields a test sets."""

from __future__ import annotations

from typing import Any

from placet.domain.models import Task, TaskStatus


def awaiting_task(**fields: Any) -> Task:
    """A task waiting on its first draft's review; ``fields`` replace the defaults."""
    defaults: dict[str, Any] = {
        "id": "t1",
        "kind": "email",
        "input": {},
        "requester": "rita",
        "status": TaskStatus.AWAITING_REVIEW,
        "version": 3,
        "attempt": 1,
        "max_attempts": 3,
        "created_at": 0.0,
        "updated_at": 0.0,
        "head_hash": "0" * 64,
        "event_count": 3,
    }
    return Task(**{**defaults, **fields})
