"""The Store port: narrow and decision-centric, not generic CRUD."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from placet.domain.models import (
    Decision,
    Draft,
    Event,
    Task,
    TaskDetail,
    TaskStatus,
    one_step_init,
)


@one_step_init
@dataclass(frozen=True)
class Change:
    """One compare-and-set state change and the records it appends.

    The store applies it only if the task is still at ``expected_version`` in
    ``expected_status``; otherwise it raises ``ConflictError`` and changes
    nothing. The new task row, the event and any draft or decision are written
    in one transaction.
    """

    task: Task
    expected_version: int
    expected_status: TaskStatus
    event: Event
    draft: Draft | None = None
    decision: Decision | None = None


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


ClaimChange = Callable[[Task], Change | None]  # the change that claims a task, or None


class Store(Protocol):
    """Where tasks, drafts, decisions and events live."""

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a new task and its first events; a known idempotency key returns that task."""
        ...

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out; False if ``owner`` no longer holds it."""
        ...

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        ...

    def claim(self, now: float, change_for: ClaimChange, task_id: str | None = None) -> Task | None:
        """Claim one task for drafting so that no other claimer gets it too.

        The store picks a task no other claimer holds (one whose lease ran out,
        else the oldest queued one; or the task named), asks ``change_for`` for
        the change that claims it (None: leave it), and applies that change
        while it still holds the task. None when there is nothing to claim.
        """
        ...

    def get_task(self, task_id: str) -> Task:
        """The task, or raise ``NotFoundError``."""
        ...

    def get_draft(self, draft_id: str) -> Draft:
        """The draft, or raise ``NotFoundError``."""
        ...

    def detail(self, task_id: str) -> TaskDetail:
        """The task with its drafts, decisions and events."""
        ...

    def list_tasks(self, task_filter: TaskFilter) -> list[Task]:
        """Tasks matching the filter, in id order."""
        ...

    def claimable(self, now: float, limit: int) -> list[Task]:
        """Queued tasks, and drafting tasks whose lease ran out, oldest first."""
        ...

    def count_by_status(self) -> dict[tuple[str, TaskStatus], int]:
        """How many tasks there are of each kind in each status."""
        ...

    def iter_tasks(self) -> Iterator[Task]:
        """Every task, oldest first."""
        ...

    def events(self, task_id: str) -> list[Event]:
        """One task's events in order."""
        ...

    def change_token(self) -> int:
        """A value that changes whenever anything is committed."""
        ...

    def wait_for_change(self, token: int, timeout: float) -> int:
        """Block until the change token differs from ``token`` or time runs out."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
