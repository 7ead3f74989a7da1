"""The change a transition makes: the moved task, its chained event, what it records. Pure.

The engine decides which action to take; this builds the one compare-and-set
change the store then applies in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from placet.domain import audit
from placet.domain.examples import ExampleEntry
from placet.domain.fastinit import evolve, one_step_init
from placet.domain.models import Decision, Draft, Event, JsonObject, Task, TaskStatus
from placet.domain.transitions import Action, next_status

if TYPE_CHECKING:  # notifications are built from changes (domain/notifications.py)
    from placet.domain.notifications import Notice


@one_step_init
@dataclass(frozen=True)
class Change:
    """One compare-and-set state change and the records it appends.

    The store applies it only if the task is still at ``expected_version`` in
    ``expected_status``; otherwise it raises ``ConflictError`` and changes
    nothing. The new task row, the event, any draft or decision, the task's
    example row when the change approves it or marks it "not an example"
    (domain/examples.py), and the notifications the change makes (the outbox)
    are written in one transaction.
    """

    task: Task
    expected_version: int
    expected_status: TaskStatus
    event: Event
    draft: Draft | None = None
    decision: Decision | None = None
    example: ExampleEntry | None = None
    notices: tuple[Notice, ...] = ()


def next_event(
    task: Task,
    event_type: str,
    actor: str,
    payload: JsonObject,
    now: float,
    chain: audit.ChainHash = audit.UNKEYED,
) -> Event:
    """The task's next event, chained to its head."""
    seq = task.event_count + 1
    return audit.chained_event(task.id, seq, event_type, actor, now, payload, task.head_hash, chain)


def change_for(
    task: Task,
    action: Action,
    actor: str,
    payload: JsonObject,
    now: float,
    event_type: str | None = None,
    draft: Draft | None = None,
    decision: Decision | None = None,
    chain: audit.ChainHash = audit.UNKEYED,
    **updates: Any,
) -> Change:
    """The change ``action`` makes, with its event and the draft or decision it records."""
    status = next_status(task, action)
    if status is not TaskStatus.AWAITING_REVIEW and task.due_at is not None:
        updates.setdefault("due_at", None)  # timers run only while a draft awaits review
    if task.held_by is not None and (decision is not None or status is not task.status):
        # A decision, or any move, ends a hold: the item is no longer what was taken.
        updates.setdefault("held_by", None)
        updates.setdefault("held_until", None)
    event = next_event(task, event_type or action.value, actor, payload, now, chain)
    # One copy per change: building the task (and the event) once is measurably
    # cheaper on the lifecycle hot path than a chain of small copies.
    moved = evolve(
        task,
        status=status,
        version=task.version + 1,
        updated_at=now,
        head_hash=event.hash,
        event_count=event.seq,
        **updates,
    )
    return Change(moved, task.version, task.status, event, draft, decision)
