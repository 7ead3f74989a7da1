"""The domain records: task kinds, tasks, drafts, decisions and events.

All records are immutable; a state change makes a new ``Task`` and appends an
``Event``. Nothing here does I/O.
"""

from __future__ import annotations

import enum
import inspect
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar, cast

JsonObject = dict[str, Any]
Record = TypeVar("Record")


def evolve(record: Record, **changes: Any) -> Record:
    """A copy of a frozen record with some fields changed.

    ``dataclasses.replace`` runs the generated ``__init__``, one
    ``object.__setattr__`` per field; a task has eighteen and the lifecycle
    copies one at every step. No record here has ``__post_init__``, so
    copying the field values is the same result, once the fields ``__init__``
    does not take (caches such as ``Event.payload_json``) are set back to
    their defaults, as ``replace`` leaves them.
    """
    cls = type(record)
    unknown = changes.keys() - field_names(cls)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    copy = object.__new__(cls)
    copy.__dict__.update(record.__dict__, **changes)
    for name, default, factory in _init_less_defaults(cls):
        copy.__dict__[name] = default if factory is None else factory()
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


def one_step_init(cls: type[Record]) -> type[Record]:
    """Give a frozen dataclass an ``__init__`` that sets every field in one step.

    The generated ``__init__`` of a frozen dataclass sets each field with its
    own ``object.__setattr__``: a task costs ~2.3 us to make, a stream chunk
    ~0.5 us, and the lifecycle makes some twenty records per item (3% of an
    item, bench/lifecycle.py). This one takes the same arguments, applies the
    same defaults and factories, and sets the instance's ``__dict__`` at once;
    the record stays frozen. Put it above ``@dataclass(frozen=True)``.
    """
    made_by_dataclass = getattr(cls, "__dataclass_params__", None)
    if made_by_dataclass is None or not made_by_dataclass.frozen:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__, which this __init__ would skip")
    namespace: dict[str, Any] = {"_set_all": object.__setattr__, "_absent": _ABSENT}
    exec(_init_source(cls, namespace), namespace)  # as dataclasses makes its own __init__
    made = namespace["__init__"]
    made.__qualname__ = f"{cls.__qualname__}.__init__"
    if _call_shape(made) != _call_shape(cls.__init__):
        raise TypeError(f"{cls.__name__}: the one-step __init__ would take other arguments")
    cls.__init__ = made  # type: ignore[method-assign]
    return cls


def _init_source(cls: type, namespace: dict[str, Any]) -> str:
    """The one-step ``__init__``'s code; the defaults it names are put in ``namespace``."""
    params: list[str] = []
    fill_ins: list[str] = []  # factory defaults, made per call
    values: list[str] = []
    for item in fields(cast(Any, cls)):
        if getattr(item, "kw_only", False):
            raise TypeError(f"{cls.__name__}.{item.name} is keyword-only; not supported here")
        default = f"_default_{item.name}"
        if item.default is not MISSING:
            namespace[default] = item.default
            param, value = f"{item.name}={default}", item.name if item.init else default
        elif item.default_factory is not MISSING:
            namespace[default] = item.default_factory
            param, value = f"{item.name}=_absent", item.name if item.init else f"{default}()"
            if item.init:
                fill_ins.append(f" if {item.name} is _absent: {item.name} = {default}()\n")
        elif item.init:
            param, value = item.name, item.name
        else:
            continue  # no init and no default: the dataclass leaves it unset too
        if item.init:
            params.append(param)
        values.append(f"{item.name!r}: {value}")
    return (
        f"def __init__(self, {', '.join(params)}):\n"
        + "".join(fill_ins)
        + f" _set_all(self, '__dict__', {{{', '.join(values)}}})\n"
    )


def _call_shape(init: Any) -> list[tuple[str, Any, bool]]:
    """What a caller sees of an ``__init__``: names, kinds, and which have defaults."""
    return [
        (param.name, param.kind, param.default is inspect.Parameter.empty)
        for param in inspect.signature(init).parameters.values()
    ]


class _Absent:
    """An argument left out, whose field's default comes from a factory."""

    def __repr__(self) -> str:
        return "<factory>"  # as dataclasses shows it in a signature


_ABSENT = _Absent()
_FIELD_NAMES: dict[type, frozenset[str]] = {}
_INIT_LESS: dict[type, tuple[tuple[str, Any, Any], ...]] = {}


def field_names(cls: type) -> frozenset[str]:
    """The names of a record's fields (worked out once per class)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names


def _init_less_defaults(cls: type) -> tuple[tuple[str, Any, Any], ...]:
    """The fields ``__init__`` does not take: name, default, factory (once per class).

    The same rule as the one-step ``__init__``: a default or a factory's
    value; a field with neither is left as it is.
    """
    found = _INIT_LESS.get(cls)
    if found is None:
        found = _INIT_LESS[cls] = tuple(
            (item.name, item.default, None if item.default is not MISSING else item.default_factory)
            for item in fields(cls)
            if not item.init
            and (item.default is not MISSING or item.default_factory is not MISSING)
        )
    return found


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


@one_step_init
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


@one_step_init
@dataclass(frozen=True)
class Usage:
    """Tokens used by one generation."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@one_step_init
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


@one_step_init
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


@one_step_init
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
    # for the hash (audit.chained_event) or read back. Set only by those two; a
    # copy (``dataclasses.replace``, ``evolve``) drops it, so a changed payload
    # is encoded anew.
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
