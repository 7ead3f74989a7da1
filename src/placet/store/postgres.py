"""PostgreSQL: the store's transactions through psycopg 3 and a connection pool.

Commits cost a round trip and, with ``synchronous_commit=on``, a WAL flush, so
each state change is one statement: a compare-and-set UPDATE whose data-
modifying CTEs insert the draft, decision and event only if the UPDATE
matched, and whose final SELECT sends ``pg_notify`` for waiters in other
processes. Run in autocommit, that statement is its own transaction: the row,
its audit event and the notification commit together, in one round trip.

Claims lock a candidate row with ``FOR UPDATE SKIP LOCKED``: two workers never
get the same task, and neither waits on the other's row.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg_pool import ConnectionPool, PoolTimeout
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from placet.domain.changes import Change
from placet.domain.models import Event, Task, TaskStatus
from placet.errors import ConfigError, NotFoundError, StoreError
from placet.store import rows, schema
from placet.store.base import ClaimChange
from placet.store.engines import libpq_url
from placet.store.examples import EXAMPLE_UPSERT_PG, entry_values
from placet.store.pgnotify import PgNotifySignal
from placet.store.statements import (
    EVENT_COLUMNS,
    MUTABLE,
    SELECT_BY_KEY,
    SELECT_TASK,
    TASK_COLUMNS,
    CompiledSet,
    Params,
    Row,
    compile_statement,
)

POOL_SIZE = 10  # per store: enough for a web server's thread pool
POOL_SIZE_ENV = "PLACET_PG_POOL_SIZE"
MAX_POOL_SIZE = 1000
PREPARED_ENV = "PLACET_PG_PREPARED_STATEMENTS"
POOL_TIMEOUT_SECONDS = 30.0
EXPIRED_CHECK_SECONDS = 1.0
CHANNEL = "placet_changes"
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


def _cast(column: sa.Column[Any]) -> str:
    """A positional parameter cast to the column's type, as a SELECT list needs."""
    return f"%s::{column.type.compile(dialect=_PG)}"


def _insert_from_moved(table: sa.Table, name: str) -> str:
    """A CTE inserting one row, but only if the task row was moved."""
    columns = ", ".join(table.c.keys())
    params = ", ".join(_cast(column) for column in table.c)
    return f"{name} AS (INSERT INTO {table.name} ({columns}) SELECT {params} FROM moved)"


def _insert_rows_from_moved(table: sa.Table, name: str, count: int) -> str:
    """A CTE inserting ``count`` rows, but only if the task row was moved."""
    columns = ", ".join(table.c.keys())
    row = "(" + ", ".join(_cast(column) for column in table.c) + ")"
    return (
        f"{name} AS (INSERT INTO {table.name} ({columns}) SELECT v.* FROM "
        f"(VALUES {', '.join([row] * count)}) AS v ({columns}), moved)"
    )


@functools.cache
def _apply_sql(
    with_draft: bool, with_decision: bool, with_example: bool = False, notices: int = 0
) -> str:
    """The compare-and-set statement; parameters: update, draft, decision, event, the
    example row (store/examples.py), notifications (the outbox, written in the same
    statement), channel."""
    sets = ", ".join(f"{name} = %s" for name in MUTABLE)
    ctes = [
        f"moved AS (UPDATE tasks SET {sets} WHERE id = %s AND version = %s AND status = %s "
        "RETURNING id)"
    ]
    if with_draft:
        ctes.append(_insert_from_moved(schema.drafts, "new_draft"))
    if with_decision:
        ctes.append(_insert_from_moved(schema.decisions, "new_decision"))
    ctes.append(_insert_from_moved(schema.events, "new_event"))
    if with_example:
        ctes.append(EXAMPLE_UPSERT_PG)
    if notices:
        ctes.append(_insert_rows_from_moved(schema.notifications, "new_notices", notices))
    return f"WITH {', '.join(ctes)} SELECT pg_notify(%s, id) FROM moved"


# Positional parameters: the values go to the driver as tuples in column order,
# with no per-call dict; the SQL text is generated from the schema, so it
# cannot drift from the columns.
_APPLY = {shape: _apply_sql(*shape) for shape in itertools.product((False, True), repeat=3)}
assert EVENT_COLUMNS[0] == "task_id"  # an event row below is the other columns, in order
_EVENT_ROW = "(" + ", ".join(_cast(c) for c in schema.events.c if c.name != "task_id") + ")"


@functools.cache
def _create_task_sql(events: int) -> str:
    """Insert a task and its first events in one statement; nothing if the key is known."""
    names = ", ".join(EVENT_COLUMNS[1:])
    insert_events = (
        f", ev AS (SELECT * FROM (VALUES {', '.join([_EVENT_ROW] * events)}) e ({names}))"
        f", new_events AS (INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
        "SELECT new_task.id, ev.* FROM new_task, ev)"
    )
    return (
        f"WITH new_task AS (INSERT INTO tasks ({', '.join(TASK_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(TASK_COLUMNS))}) "
        "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
        "RETURNING id)"
        f"{insert_events if events else ''} SELECT pg_notify(%s, id) FROM new_task"
    )


_SELECT_COLUMNS = ", ".join(TASK_COLUMNS)
# Two statements, not one with OR: each walks ix_tasks_status_id from its
# first entry and stops at the first row it can lock, however many finished
# tasks the table holds. Expired leases first (when looked for), so a crashed
# worker's task is not starved by a long queue. The status is a range and the
# order is (status, id) so that only that index serves: with an equality, a
# planner whose statistics still say "nearly all queued" (a burst, just
# analysed) walks the primary key instead, stepping over every task claimed
# since, and each claim gets slower as the queue drains.
_CLAIM_EXPIRED = (
    f"SELECT {_SELECT_COLUMNS} FROM tasks WHERE status BETWEEN %s AND %s "
    "AND lease_expires_at < %s ORDER BY status, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_CLAIM_QUEUED = (
    f"SELECT {_SELECT_COLUMNS} FROM tasks WHERE status BETWEEN %s AND %s "
    "ORDER BY status, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
# The same, passing over kinds that are paused (the kill switch).
_NOT_PAUSED = "AND kind <> ALL(%s) ORDER BY"
_CLAIM_EXPIRED_BUT = _CLAIM_EXPIRED.replace("ORDER BY", _NOT_PAUSED)
_CLAIM_QUEUED_BUT = _CLAIM_QUEUED.replace("ORDER BY", _NOT_PAUSED)
_DRAFTING, _QUEUED = (TaskStatus.DRAFTING.value,) * 2, (TaskStatus.QUEUED.value,) * 2
_CLAIM_NAMED = f"SELECT {_SELECT_COLUMNS} FROM tasks WHERE id = %s FOR UPDATE SKIP LOCKED"
_EXTEND_LEASE = (
    "UPDATE tasks SET lease_expires_at = %s WHERE id = %s AND lease_owner = %s "
    f"AND status = '{TaskStatus.DRAFTING.value}'"
)


def pool_size() -> int:
    """Connections per store, from PLACET_PG_POOL_SIZE (default 10)."""
    text = os.environ.get(POOL_SIZE_ENV, "").strip()
    if not text:
        return POOL_SIZE
    if not text.isdigit() or not 1 <= int(text) <= MAX_POOL_SIZE:
        raise ConfigError(
            f"{POOL_SIZE_ENV} must be a whole number of connections from 1 to {MAX_POOL_SIZE}, "
            f"not {text[:40]!r}"
        )
    return int(text)


def prepare_threshold() -> int | None:
    """When psycopg prepares a statement server-side; None: never.

    Prepared statements save the server a parse and plan per statement, but
    live on one server connection, which a pooler in transaction mode (older
    PgBouncer) does not keep: PLACET_PG_PREPARED_STATEMENTS=off for those.
    """
    text = os.environ.get(PREPARED_ENV, "on").strip().lower()
    if text in ("on", "true", "1", "yes", ""):
        return 5  # psycopg's own default: after the fifth run of a statement
    if text in ("off", "false", "0", "no"):
        return None
    raise ConfigError(f"{PREPARED_ENV} must be on or off")


def channel_for(schema_name: str) -> str:
    """The NOTIFY channel of one installation: each schema is its own."""
    if schema_name == "public":
        return CHANNEL
    name = f"{CHANNEL}_{schema_name}"
    if len(name.encode()) > 63:  # PostgreSQL's identifier limit
        name = f"{CHANNEL}_{hashlib.sha256(schema_name.encode()).hexdigest()[:16]}"
    return name


class _Connection(psycopg.Connection[tuple[Any, ...]]):
    """A connection that keeps one cursor for all its statements.

    ``Connection.execute`` makes a new cursor (and copies the adapters) for
    every statement, which costs about as much Python time as sending the
    statement; a pooled connection serves one thread at a time, so one cursor
    will do.
    """

    _kept: psycopg.Cursor[tuple[Any, ...]] | None = None

    def run(
        self,
        query: str,
        params: Sequence[Any] | Params | None = None,
        prepare: bool | None = None,
    ) -> psycopg.Cursor[Any]:
        """Execute one statement on the kept cursor (``prepare`` as psycopg takes it)."""
        cursor = self._kept
        if cursor is None or cursor.closed:
            cursor = self._kept = self.cursor()
        return cursor.execute(query, params, prepare=prepare)


class PostgresBackend:
    """The store's transactions on PostgreSQL, on a pool of autocommit connections."""

    def __init__(self, engine: Engine, sql: CompiledSet) -> None:
        self._sql = sql
        self._dialect = engine.dialect
        self.conninfo = libpq_url(engine.url)
        self._pool: ConnectionPool[_Connection] = ConnectionPool(
            self.conninfo,
            connection_class=_Connection,
            min_size=1,
            max_size=pool_size(),
            kwargs={"autocommit": True, "prepare_threshold": prepare_threshold()},
            timeout=POOL_TIMEOUT_SECONDS,
            name="placet",
            num_workers=1,
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=POOL_TIMEOUT_SECONDS)
            with self._connection() as conn:
                found = conn.run("SELECT current_schema()").fetchone()
        except BaseException:
            self._pool.close()
            raise
        self.channel = channel_for(str(found[0]) if found else "public")
        self._expired_checked = float("-inf")  # when a claim last found no expired lease

    def signal(self) -> PgNotifySignal:
        """A change signal listening on this installation's channel."""
        return PgNotifySignal(self.conninfo, self.channel)

    # -- connections and transactions ------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[_Connection]:
        """A pooled connection; driver and pool errors become StoreError."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreError(f"no database connection: {exc}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"database operation failed: {exc}") from exc

    def _execute(
        self, conn: _Connection, statement: sa.sql.ClauseElement, params: Params
    ) -> list[Row]:
        sql = self._sql.get(id(statement)) or compile_statement(statement, self._dialect)
        return conn.run(sql.text, sql.bind(params), sql.prepare).fetchall()

    def select(self, statement: sa.sql.ClauseElement, params: Params) -> list[Row]:
        """The rows of one statement, in its own (implicit) transaction."""
        with self._connection() as conn:
            return self._execute(conn, statement, params)

    @contextlib.contextmanager
    def read(self) -> Iterator[Callable[[sa.sql.ClauseElement, Params], list[Row]]]:
        """Several reads that see one snapshot."""
        with self._connection() as conn:
            conn.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield lambda statement, params: self._execute(conn, statement, params)
            finally:
                conn.run("ROLLBACK")

    # -- writes ---------------------------------------------------------------

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a task and its first events; a known idempotency key returns that task."""
        assert all(event.task_id == task.id for event in events)
        params = list(rows.task_values(task))
        for event in events:
            params.extend(rows.event_values(event)[1:])  # the task id comes from the new row
        params.append(self.channel)
        with self._connection() as conn:
            inserted = conn.run(_create_task_sql(len(events)), params).fetchall()
            if inserted:
                return task
            if task.idempotency_key is None:  # nothing else makes the INSERT do nothing
                raise StoreError(f"task {task.id} was not inserted")
            found = self._execute(conn, SELECT_BY_KEY, {"key": task.idempotency_key})
        if not found:
            raise StoreError(f"idempotency key {task.idempotency_key} vanished")
        return rows.task(found[0])

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        with self._connection() as conn:
            self._apply(conn, change)
        return change.task

    def apply_all(self, changes: Sequence[Change]) -> Task:
        """Apply changes in order in one transaction: all of them, or (on a conflict) none."""
        with self._connection() as conn, conn.transaction():
            for change in changes:
                self._apply(conn, change)
        return changes[-1].task

    def _apply(self, conn: _Connection, change: Change) -> None:
        params: list[Any] = [*rows.update_values(change)]
        if change.draft is not None:
            params.extend(rows.draft_values(change.draft))
        if change.decision is not None:
            params.extend(rows.decision_values(change.decision))
        params.extend(rows.event_values(change.event))
        if change.example is not None:
            params.extend(entry_values(change.example))
        for notice in change.notices:
            params.extend(rows.notice_values(notice))
        params.append(self.channel)
        shape = (change.draft is not None, change.decision is not None, change.example is not None)
        statement = _apply_sql(*shape, len(change.notices)) if change.notices else _APPLY[shape]
        if conn.run(statement, params).fetchall():
            return
        found = self._execute(conn, SELECT_TASK, {"id": change.task.id})
        if not found:
            raise NotFoundError(f"no task with id {change.task.id}")
        raise rows.conflict(rows.task(found[0]), change)

    def claim(
        self, now: float, change_for: ClaimChange, task_id: str | None, skip_kinds: frozenset[str]
    ) -> Task | None:
        """Lock one claimable row (skipping rows others hold and kinds paused), then claim it."""
        with self._connection() as conn, conn.transaction():
            if task_id is not None:
                row = conn.run(_CLAIM_NAMED, (task_id,)).fetchone()
                if row is None and not self._execute(conn, SELECT_TASK, {"id": task_id}):
                    raise NotFoundError(f"no task with id {task_id}")
            else:
                row = self._expired(conn, now, skip_kinds) or self._queued(conn, skip_kinds)
            change = change_for(rows.task(row)) if row is not None else None
            if change is None:
                return None
            self._apply(conn, change)
        return change.task

    def _queued(self, conn: _Connection, skip_kinds: frozenset[str]) -> Row | None:
        if not skip_kinds:
            return conn.run(_CLAIM_QUEUED, _QUEUED).fetchone()
        return conn.run(_CLAIM_QUEUED_BUT, (*_QUEUED, sorted(skip_kinds))).fetchone()

    def _expired(self, conn: _Connection, now: float, skip_kinds: frozenset[str]) -> Row | None:
        """A drafting task whose lease ran out, looked for at most once a second.

        Expired leases are rare (a worker died), and each look walks the
        drafting entries of the status index, which every task passes through;
        so after a look that found none, claims skip it for a second (by the
        claimer's clock, so a test clock moved past a lease looks again).
        """
        if self._expired_checked <= now < self._expired_checked + EXPIRED_CHECK_SECONDS:
            return None
        if skip_kinds:
            row = conn.run(_CLAIM_EXPIRED_BUT, (*_DRAFTING, now, sorted(skip_kinds))).fetchone()
        else:
            row = conn.run(_CLAIM_EXPIRED, (*_DRAFTING, now)).fetchone()
        if row is None:
            self._expired_checked = now
        return row

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out; False if ``owner`` no longer holds it."""
        with self._connection() as conn:
            return conn.run(_EXTEND_LEASE, (expires_at, task_id, owner)).rowcount == 1

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()
