"""The domain records: task kinds, tasks, drafts, decisions and events.

All records are immutable; a state change makes a new ``Task`` and appends an
``Event``. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

JsonObject = dict[str, Any]
Record = TypeVar("Record")


def evolve(record: Record, **changes: Any) -> Record:
    """A copy of a frozen record with some fields changed.

    ``dataclasses.replace`` runs the generated ``__init__``, one
    ``object.__setattr__`` per field; a task has eighteen and the lifecycle
    copies one at every step. No record here has ``__post_init__`` or
    init-less fields, so copying the field values is the same result.
    """
    unknown = changes.keys() - field_names(type(record))
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {', '.join(sorted(unknown))}")
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__, **changes)
    return copy


def restore(cls: type[Record], values: dict[str, Any]) -> Record:
    """A record from the complete values of its fields, as read back from the store.

    The generated ``__init__`` of a frozen record costs about as much as the
    query that read the row (9 us for a task); the values were checked when
    the record was made, so reading one back skips it. ``values`` must hold
    every field: the store's row modules check their columns against the
    fields once, when imported.
    """
    made = object.__new__(cls)
    made.__dict__.update(values)
    return made


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def field_names(cls: type) -> frozenset[str]:
    """The names of a record's fields (worked out once per class)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names


class TaskStatus(str, enum.Enum):
    """Where a task stands."""

    QUEUED = "queued"
    DRAFTING = "drafting"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """True when nothing more can happen to the task."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.CANCELLED, TaskStatus.EXPIRED}
)


class DecisionKind(str, enum.Enum):
    """The four things a reviewer can say about a draft."""

    APPROVE = "approve"
    EDIT = "edit"
    REVISE = "revise"
    REJECT = "reject"


@dataclass(frozen=True)
class TaskKind:
    """A named kind of work: prompts, model and policy."""

    name: str
    template: str
    system: str = ""
    description: str = ""
    model: str | None = None
    max_attempts: int = 3
    max_tokens: int = 512
    temperature: float = 0.7
    # People who may decide this kind in the dashboard and API; empty means any reviewer.
    reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """One request and where it stands; ``version`` guards every change."""

    id: str
    kind: str
    input: JsonObject
    requester: str
    status: TaskStatus
    version: int
    attempt: int
    max_attempts: int
    created_at: float
    updated_at: float
    head_hash: str
    event_count: int
    idempotency_key: str | None = None
    current_draft_id: str | None = None
    final_output: str | None = None
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    pending_feedback: str | None = None


@dataclass(frozen=True)
class Usage:
    """Tokens used by one generation."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Draft:
    """One generation attempt. Drafts are never overwritten."""

    id: str
    task_id: str
    attempt: int
    provider: str
    model: str
    messages: list[dict[str, str]]
    output: str
    usage: Usage
    latency_ms: float
    created_at: float
    feedback: str | None = None


@dataclass(frozen=True)
class Decision:
    """One human verdict on one draft. Immutable."""

    id: str
    task_id: str
    draft_id: str
    kind: DecisionKind
    actor: str
    created_at: float
    role: str = "reviewer"
    text: str | None = None
    diff: str | None = None
    feedback: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Event:
    """An append-only, hash-chained record of one state change."""

    task_id: str
    seq: int
    type: str
    actor: str
    created_at: float
    payload: JsonObject = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    # The payload's JSON text as the store keeps it, when known: the text made
    # for the hash (audit.chained_event) or read back. Set only by those two;
    # ``dataclasses.replace`` leaves it out, so a changed payload is encoded anew.
    payload_json: str | None = field(default=None, init=False, compare=False, repr=False)


@dataclass(frozen=True)
class TaskDetail:
    """A task with everything that happened to it."""

    task: Task
    drafts: list[Draft]
    decisions: list[Decision]
    events: list[Event]

    @property
    def current_draft(self) -> Draft | None:
        """The draft the task is waiting on, or the last one made."""
        by_id = {d.id: d for d in self.drafts}
        if self.task.current_draft_id in by_id:
            return by_id[self.task.current_draft_id]
        return self.drafts[-1] if self.drafts else None
