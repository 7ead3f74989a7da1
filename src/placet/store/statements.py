"""The store's SQL, described once with SQLAlchemy Core and compiled once per dialect.

Building a statement costs more than running it on SQLite, so the hot-path
statements are module constants, compiled when a store opens and executed
straight on a driver cursor with parameters bound in the driver's own style.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from placet.domain.models import TaskStatus
from placet.store import schema

T, D, DC, E = schema.tasks, schema.drafts, schema.decisions, schema.events
N = schema.notifications

COLUMNS = {  # a record's columns: the table's, less the store's own bookkeeping
    table.name: tuple(
        c.name for c in table.c if c.name not in schema.STORE_ONLY.get(table.name, ())
    )
    for table in (T, D, DC, E, N)
}
TASK_COLUMNS = COLUMNS[T.name]
DRAFT_COLUMNS = COLUMNS[D.name]
DECISION_COLUMNS = COLUMNS[DC.name]
EVENT_COLUMNS = COLUMNS[E.name]

TASK_ROW = tuple(T.c[name] for name in TASK_COLUMNS)  # what a task's SELECT reads
INSERT_TASK = T.insert().values({name: sa.bindparam(name) for name in TASK_COLUMNS})
INSERT_DRAFT = D.insert()
INSERT_DECISION = DC.insert()
INSERT_EVENT = E.insert()
INSERT_NOTICE = N.insert()  # a change's notifications, in its transaction (the outbox)
# What a compare-and-set change may write; everything else about a task is fixed.
MUTABLE = (
    "status",
    "version",
    "attempt",
    "updated_at",
    "head_hash",
    "event_count",
    "current_draft_id",
    "final_output",
    "lease_owner",
    "lease_expires_at",
    "pending_feedback",
    "due_at",
    "held_by",
    "held_until",
    "risk",
    "flags",
    "max_attempts",  # a supervisor round adds one (domain/supervision.py)
)
UPDATE_ORDER = (*MUTABLE, "b_id", "b_version", "b_status")
GET_MUTABLE = operator.attrgetter(*MUTABLE)
assert MUTABLE[0] == "status"
UPDATE_TASK = (  # bind names must not be column names in an UPDATE
    T.update()
    .where(T.c.id == sa.bindparam("b_id"))
    .where(T.c.version == sa.bindparam("b_version"))
    .where(T.c.status == sa.bindparam("b_status"))
    .values({name: sa.bindparam(name) for name in MUTABLE})
)
SELECT_TASK = sa.select(*TASK_ROW).where(T.c.id == sa.bindparam("id"))
SELECT_DRAFT = sa.select(D).where(D.c.id == sa.bindparam("id"))
EXTEND_LEASE = (
    T.update()
    .where(T.c.id == sa.bindparam("b_id"))
    .where(T.c.lease_owner == sa.bindparam("b_owner"))
    .where(T.c.status == TaskStatus.DRAFTING.value)
    .values(lease_expires_at=sa.bindparam("until"))
)
# The tasks whose next timer is due, soonest first, through ix_tasks_due_at alone.
DUE_TASKS = (
    sa.select(*TASK_ROW)
    .where(schema.TIMED)
    .where(T.c.due_at <= sa.bindparam("now"))
    .order_by(T.c.due_at)
    .limit(sa.bindparam("limit"))
)
SELECT_BY_KEY = sa.select(*TASK_ROW).where(T.c.idempotency_key == sa.bindparam("key"))
SELECT_DRAFTS = sa.select(D).where(D.c.task_id == sa.bindparam("id")).order_by(D.c.attempt)
SELECT_DECISIONS = (
    sa.select(DC).where(DC.c.task_id == sa.bindparam("id")).order_by(DC.c.created_at, DC.c.id)
)
SELECT_EVENTS = sa.select(E).where(E.c.task_id == sa.bindparam("id")).order_by(E.c.seq)


def _kinds_present() -> sa.Select[tuple[str]]:
    """The kinds that have tasks, one index seek each: a loose scan of (kind, status, id).

    From the smallest kind, each step seeks the next larger one, so the cost
    is the number of kinds, not of tasks.
    """
    seen = T.alias("seen")
    present = sa.select(sa.func.min(seen.c.kind).label("kind")).cte("present", recursive=True)
    following = sa.select(sa.func.min(seen.c.kind)).where(seen.c.kind > present.c.kind)
    present = present.union_all(
        sa.select(following.scalar_subquery()).where(present.c.kind.is_not(None))
    )
    return sa.select(present.c.kind).where(present.c.kind.is_not(None))


# A term that names every kind, for a query by status on SQLite, where a status
# is indexed only under its kind (schema.ONLY_ON). SQLite then walks each
# (kind, status) range in id order and stops each one at the LIMIT; without it,
# finding the oldest queued task read every task.
EVERY_KIND = T.c.kind.in_(_kinds_present())
CLAIMABLE = (
    sa.select(*TASK_ROW)
    .where(EVERY_KIND)
    # Values bound here, not an expanding IN: the statement compiles without its `now`.
    .where(T.c.status.in_([sa.literal(s.value) for s in (TaskStatus.QUEUED, TaskStatus.DRAFTING)]))
    .where(
        sa.or_(
            T.c.status == TaskStatus.QUEUED.value,
            T.c.lease_expires_at < sa.bindparam("now"),
        )
    )
    .order_by(T.c.id)
    .limit(sa.bindparam("limit"))
)
# What a claim on SQLite takes: a drafting task whose lease ran out, else the
# oldest queued one. (PostgreSQL has its own, which lock rows.)
CLAIM_EXPIRED = (
    sa.select(*TASK_ROW)
    .where(EVERY_KIND)
    .where(T.c.status == TaskStatus.DRAFTING.value)
    .where(T.c.lease_expires_at < sa.bindparam("now"))
    .order_by(T.c.id)
    .limit(1)
)
CLAIM_QUEUED = (
    sa.select(*TASK_ROW)
    .where(EVERY_KIND)
    .where(T.c.status == TaskStatus.QUEUED.value)
    .order_by(T.c.id)
    .limit(1)
)
INSERTS = {
    T.name: INSERT_TASK,
    D.name: INSERT_DRAFT,
    DC.name: INSERT_DECISION,
    E.name: INSERT_EVENT,
    N.name: INSERT_NOTICE,
}
PREBUILT = (
    INSERT_TASK,
    INSERT_DRAFT,
    INSERT_DECISION,
    INSERT_EVENT,
    INSERT_NOTICE,
    UPDATE_TASK,
    SELECT_TASK,
    SELECT_DRAFT,
    EXTEND_LEASE,
    SELECT_BY_KEY,
    SELECT_DRAFTS,
    SELECT_DECISIONS,
    SELECT_EVENTS,
    CLAIMABLE,
    CLAIM_EXPIRED,
    CLAIM_QUEUED,
    DUE_TASKS,
)

Params = Mapping[str, Any]
Row = Sequence[Any]


@dataclass(frozen=True)
class Sql:
    """A statement compiled for one dialect, ready for the driver's ``execute``."""

    text: str
    names: tuple[str, ...] | None  # bind order for positional paramstyles; None: by name
    defaults: Mapping[str, Any]  # values bound inside the statement (literals, limits)
    # PostgreSQL: False keeps the server from preparing it. A prepared statement is
    # planned once for any values; a full-text search's best plan depends on its words.
    prepare: bool | None = None

    def bind(self, params: Params) -> Any:
        """The parameters in the shape the driver's paramstyle wants."""
        if self.names is None:
            return {**self.defaults, **params}
        if not self.defaults:
            return tuple([params[name] for name in self.names])
        return tuple([params.get(name, self.defaults.get(name)) for name in self.names])

    def bind_values(self, order: tuple[str, ...], values: tuple[Any, ...]) -> Any:
        """Bind values given in ``order``; passed through when that is the driver's order."""
        if self.names == order:
            return values
        return self.bind(dict(zip(order, values, strict=True)))


def compile_statement(statement: sa.sql.ClauseElement, dialect: Dialect) -> Sql:
    """Compile a Core statement to the dialect's SQL text and bind order."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ()) if dialect.positional else None
    return Sql(compiled.string, names, dict(compiled.params))


CompiledSet = dict[int, Sql]  # compiled statements by id() of the Core statement


def compile_all(dialect: Dialect) -> CompiledSet:
    """Every prebuilt statement compiled for the dialect."""
    return {id(statement): compile_statement(statement, dialect) for statement in PREBUILT}
