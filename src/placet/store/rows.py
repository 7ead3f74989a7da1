"""Records to rows and back.

Rows travel as tuples in the tables' column order: every SELECT selects whole
tables, and the driver gets insert values in that order directly. JSON is
encoded here, once, the same way for every dialect, so the stored text (and
so every audit hash over it) is byte-identical wherever it is kept.
"""

from __future__ import annotations

import json
import operator
from typing import Any

from placet.domain import jsontext
from placet.domain.changes import Change
from placet.domain.fastinit import field_names, restore
from placet.domain.models import (
    Decision,
    DecisionKind,
    Draft,
    Event,
    Task,
    TaskStatus,
    Usage,
)
from placet.domain.notifications import Notice
from placet.errors import ConflictError
from placet.store.statements import (
    DECISION_COLUMNS,
    DRAFT_COLUMNS,
    EVENT_COLUMNS,
    GET_MUTABLE,
    TASK_COLUMNS,
    N,
    Row,
)

_GET_TASK = operator.attrgetter(*TASK_COLUMNS)
_GET_DECISION = operator.attrgetter(*DECISION_COLUMNS)
_GET_EVENT = operator.attrgetter(*EVENT_COLUMNS)
_TASK_STATUS, _TASK_INPUT = TASK_COLUMNS.index("status"), TASK_COLUMNS.index("input")
_DECISION_KIND = DECISION_COLUMNS.index("kind")
_EVENT_PAYLOAD = EVENT_COLUMNS.index("payload")
_STATUSES = {status.value: status for status in TaskStatus}
_KINDS = {kind.value: kind for kind in DecisionKind}
_TOKENS = {"prompt_tokens", "completion_tokens"}
# Rows become records without their generated __init__ (fastinit.restore): only
# sound while every column is a field and every field a column.
assert set(TASK_COLUMNS) == field_names(Task)
assert set(EVENT_COLUMNS) | {"payload_json"} == field_names(Event)
assert set(DECISION_COLUMNS) == field_names(Decision)
assert set(DRAFT_COLUMNS) - _TOKENS | {"usage"} == field_names(Draft)


dumps = jsontext.compact  # Placet's one JSON encoding for stored documents


def task_values(task: Task) -> tuple[Any, ...]:
    """A task as a row."""
    values = list(_GET_TASK(task))
    values[_TASK_STATUS] = task.status.value
    values[_TASK_INPUT] = dumps(task.input)
    return tuple(values)


def update_values(change: Change) -> tuple[Any, ...]:
    """A change's bind values, in ``statements.UPDATE_ORDER``."""
    task = change.task
    return (
        task.status.value,
        *GET_MUTABLE(task)[1:],
        task.id,
        change.expected_version,
        change.expected_status.value,
    )


def task(row: Row) -> Task:
    """A task from its row."""
    values = dict(zip(TASK_COLUMNS, row, strict=True))
    values["status"] = _STATUSES[values["status"]]
    values["input"] = json.loads(values["input"])
    return restore(Task, values)


def draft_values(draft: Draft) -> tuple[Any, ...]:
    """A draft as a row."""
    row = {
        "id": draft.id,
        "task_id": draft.task_id,
        "attempt": draft.attempt,
        "provider": draft.provider,
        "model": draft.model,
        "messages": dumps(draft.messages),
        "output": draft.output,
        "prompt_tokens": draft.usage.prompt_tokens,
        "completion_tokens": draft.usage.completion_tokens,
        "latency_ms": draft.latency_ms,
        "created_at": draft.created_at,
        "feedback": draft.feedback,
        "seed": draft.seed,
    }
    return tuple([row[name] for name in DRAFT_COLUMNS])


def draft(row: Row) -> Draft:
    """A draft from its row."""
    values = dict(zip(DRAFT_COLUMNS, row, strict=True))
    values["usage"] = Usage(values.pop("prompt_tokens"), values.pop("completion_tokens"))
    values["messages"] = json.loads(values["messages"])
    return restore(Draft, values)


def decision_values(decision: Decision) -> tuple[Any, ...]:
    """A decision as a row."""
    values = list(_GET_DECISION(decision))
    values[_DECISION_KIND] = decision.kind.value
    return tuple(values)


def decision(row: Row) -> Decision:
    """A decision from its row."""
    values = dict(zip(DECISION_COLUMNS, row, strict=True))
    values["kind"] = _KINDS[values["kind"]]
    return restore(Decision, values)


def event_values(event: Event) -> tuple[Any, ...]:
    """An event as a row."""
    values = list(_GET_EVENT(event))
    # The text the event was hashed with (canonical) when it has one: no second encoding.
    values[_EVENT_PAYLOAD] = event.payload_json or dumps(event.payload)
    return tuple(values)


def event(row: Row) -> Event:
    """An event from its row."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    values["payload_json"] = values["payload"]
    values["payload"] = json.loads(values["payload"])
    return restore(Event, values)


NOTICE_COLUMNS = tuple(column.name for column in N.c)
assert NOTICE_COLUMNS[:7] == ("id", "task_id", "event_seq", "event", "channel", "recipient", "body")
assert NOTICE_COLUMNS[7:] == (
    "status", "attempts", "next_try_at", "lease_owner", "created_at", "finished_at",
    "last_error", "last_code",
)  # fmt: skip


def notice_values(notice: Notice) -> tuple[Any, ...]:
    """A change's notification as its outbox row: pending, due at once, never tried."""
    return (
        notice.id, notice.task_id, notice.event_seq, notice.event, notice.channel,
        notice.recipient, notice.body, "pending", 0, notice.created_at, None,
        notice.created_at, None, None, None,
    )  # fmt: skip


def conflict(current: Task, change: Change) -> ConflictError:
    """The error for a compare-and-set that found the task moved on."""
    return ConflictError(
        f"task {current.id} changed since you looked at it: it is now "
        f"{current.status.value} (version {current.version}, you had "
        f"{change.expected_version}); nothing was changed"
    )
