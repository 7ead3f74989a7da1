"""How a task ended, as the SDK's waiters and the outcome handlers receive it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from placet.domain.models import Decision, DecisionKind, Event, JsonObject, Task, TaskStatus


@dataclass(frozen=True)
class Outcome:
    """How a task ended: the approved text, or the rejection and its reason."""

    task_id: str
    status: TaskStatus
    text: str | None = None
    reason: str | None = None
    feedback: str | None = None
    decided_by: str | None = None
    kind: str | None = None
    input: JsonObject = field(default_factory=dict)  # what the task was asked with
    # A typed kind's approved object (domain/typed.py; an instance of the kind's Pydantic
    # model through the SDK), and the choice in it, if it has one: a name, or a list of
    # names for a kind with ``multiple = true``.
    value: Any = None
    choice: Any = None
    fields: JsonObject | None = None  # what the approver gave for the kind's decision_fields

    @property
    def approved(self) -> bool:
        """True when a person approved (or edited and approved) the draft."""
        return self.status is TaskStatus.APPROVED


def outcome_of(task: Task, decisions: Sequence[Decision], events: Sequence[Event] = ()) -> Outcome:
    """How a task ended (or stands), from its decisions in order (and its events: a deadline)."""
    if events and events[-1].type == "deadline" and task.status.is_final:
        after = events[-1].payload.get("after")
        lapsed = f"nobody decided within the deadline ({after}); it was never approved"
        return Outcome(task.id, task.status, None, lapsed, None, "placet", task.kind, task.input)
    last = decisions[-1] if decisions else None
    reason = last.reason if last else None
    if task.status is TaskStatus.REJECTED and last and last.kind is DecisionKind.REVISE:
        reason = f"no attempts left; last feedback: {last.feedback}"
    value = _typed_value(task, events)
    return Outcome(
        task.id,
        task.status,
        task.final_output,
        reason,
        last.feedback if last else None,
        last.actor if last else None,
        task.kind,
        task.input,
        value,
        value.get("choice") if value is not None and _has_choice(events) else None,
        _fields(task, events),
    )


def _fields(task: Task, events: Sequence[Event]) -> JsonObject | None:
    approval = _approval(events)
    if task.status is not TaskStatus.APPROVED or approval is None:
        return None
    fields = approval.payload.get("fields")
    return fields if isinstance(fields, dict) else None


def _approval(events: Sequence[Event]) -> Event | None:
    """The event that approved the task (the last approve or edit), if any."""
    for event in reversed(events):
        if event.type in (DecisionKind.APPROVE.value, DecisionKind.EDIT.value):
            return event
    return None


def _typed_value(task: Task, events: Sequence[Event]) -> JsonObject | None:
    """The approved object of a typed kind, as its approval's event says it is one."""
    approval = _approval(events)
    if task.status is not TaskStatus.APPROVED or task.final_output is None or approval is None:
        return None
    if not approval.payload.get("structured"):
        return None
    try:
        value = json.loads(task.final_output)
    except ValueError:
        return None  # marked, but not JSON: never so from Placet; read as text
    return value if isinstance(value, dict) else None


def _has_choice(events: Sequence[Event]) -> bool:
    approval = _approval(events)
    return approval is not None and "choice" in approval.payload
