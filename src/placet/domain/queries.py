"""Queries on the task list, as records. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from placet.domain.models import TaskStatus


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks to list; keyset pagination on the time-ordered id."""

    statuses: tuple[TaskStatus, ...] = ()
    kinds: tuple[str, ...] = ()
    after_id: str | None = None
    limit: int = 50
    newest_first: bool = False
    requester: str | None = None
    created_after: float | None = None  # created_at >= this
    created_before: float | None = None  # created_at < this
