"""The SQL store (SQLite now; the same statements serve PostgreSQL).

Statements are described once with SQLAlchemy Core, compiled once for the
store's dialect, and executed straight on a driver connection that each
thread keeps: on the lifecycle's hot path, pool checkout and SQLAlchemy's
per-call execution context cost more than the SQL itself. Writes on SQLite
start with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout
instead of failing when a read lock is upgraded; a read of one statement runs
on its own (SQLite gives every statement a consistent snapshot) and a read of
several shares one transaction.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql.compiler import SQLCompiler

from placet.domain.models import (
    Decision,
    DecisionKind,
    Draft,
    Event,
    Task,
    TaskDetail,
    TaskStatus,
    Usage,
)
from placet.errors import ConflictError, NotFoundError, StoreError
from placet.store import schema
from placet.store.base import Change, TaskFilter
from placet.store.migrate import ensure_schema
from placet.store.signals import ChangeSignal, signal_for
from placet.store.sqlite import connect_sqlite, make_engine, sqlite_path

T, D, DC, E = schema.tasks, schema.drafts, schema.decisions, schema.events

_COLUMNS = {table.name: tuple(table.c.keys()) for table in (T, D, DC, E)}
_INSERT_TASK = T.insert()
_INSERT_DRAFT = D.insert()
_INSERT_DECISION = DC.insert()
_INSERT_EVENT = E.insert()
_MUTABLE = (
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
)
_UPDATE_ORDER = (*_MUTABLE, "b_id", "b_version", "b_status")
_GET_MUTABLE = operator.attrgetter(*_MUTABLE)
assert _MUTABLE[0] == "status"
_UPDATE_TASK = (
    T.update()
    .where(T.c.id == sa.bindparam("b_id"))
    .where(T.c.version == sa.bindparam("b_version"))
    .where(T.c.status == sa.bindparam("b_status"))
    .values({name: sa.bindparam(name) for name in _MUTABLE})
)
_SELECT_TASK = sa.select(T).where(T.c.id == sa.bindparam("id"))
_SELECT_DRAFT = sa.select(D).where(D.c.id == sa.bindparam("id"))
_EXTEND_LEASE = (  # bind names must not be column names in an UPDATE
    T.update()
    .where(T.c.id == sa.bindparam("b_id"))
    .where(T.c.lease_owner == sa.bindparam("b_owner"))
    .where(T.c.status == TaskStatus.DRAFTING.value)
    .values(lease_expires_at=sa.bindparam("until"))
)
_SELECT_BY_KEY = sa.select(T).where(T.c.idempotency_key == sa.bindparam("key"))
_SELECT_DRAFTS = sa.select(D).where(D.c.task_id == sa.bindparam("id")).order_by(D.c.attempt)
_SELECT_DECISIONS = (
    sa.select(DC).where(DC.c.task_id == sa.bindparam("id")).order_by(DC.c.created_at, DC.c.id)
)
_SELECT_EVENTS = sa.select(E).where(E.c.task_id == sa.bindparam("id")).order_by(E.c.seq)
_CLAIMABLE = (
    sa.select(T)
    .where(
        sa.or_(
            T.c.status == TaskStatus.QUEUED.value,
            sa.and_(
                T.c.status == TaskStatus.DRAFTING.value,
                T.c.lease_expires_at < sa.bindparam("now"),
            ),
        )
    )
    .order_by(T.c.id)
    .limit(sa.bindparam("limit"))
)
_INSERTS = {
    T.name: _INSERT_TASK,
    D.name: _INSERT_DRAFT,
    DC.name: _INSERT_DECISION,
    E.name: _INSERT_EVENT,
}
_PREBUILT = (
    _INSERT_TASK,
    _INSERT_DRAFT,
    _INSERT_DECISION,
    _INSERT_EVENT,
    _UPDATE_TASK,
    _SELECT_TASK,
    _SELECT_DRAFT,
    _EXTEND_LEASE,
    _SELECT_BY_KEY,
    _SELECT_DRAFTS,
    _SELECT_DECISIONS,
    _SELECT_EVENTS,
    _CLAIMABLE,
)

Params = Mapping[str, Any]
Row = Sequence[Any]


@dataclass(frozen=True)
class _Sql:
    """A statement compiled for one dialect, ready for the driver's ``execute``."""

    text: str
    names: tuple[str, ...] | None  # bind order for positional paramstyles; None: by name
    defaults: Mapping[str, Any]  # values bound inside the statement (literals, limits)

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


def _compile(statement: sa.sql.ClauseElement, dialect: Dialect) -> _Sql:
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ()) if dialect.positional else None
    return _Sql(compiled.string, names, dict(compiled.params))


class _ThreadConnections:
    """One driver connection per thread, opened on first use.

    A connection whose thread has ended is closed the next time a thread
    opens one, so short-lived threads do not pile connections up. A forked
    child opens its own and leaves the parent's alone.
    """

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._pid = os.getpid()
        self._local = threading.local()
        self._open: dict[threading.Thread, Any] = {}
        self._lock = threading.Lock()

    def get(self) -> Any:
        """This thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._pid != os.getpid():
            conn = self._open_one()
        return conn

    def _open_one(self) -> Any:
        if self._pid != os.getpid():  # forked: the parent's connections are not ours
            self._pid, self._local, self._open = os.getpid(), threading.local(), {}
            self._lock = threading.Lock()
        conn = self._connect()
        with self._lock:
            for thread in [t for t in self._open if not t.is_alive()]:
                self._open.pop(thread).close()
            self._open[threading.current_thread()] = conn
        self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close every connection; a later call opens fresh ones."""
        with self._lock:
            for conn in self._open.values():
                conn.close()
            self._open.clear()
        self._local = threading.local()


class SqlStore:
    """A Store on SQL: SQLAlchemy Core statements run on per-thread driver connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine = make_engine(url)
        try:
            ensure_schema(self._engine)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open the database at {url}: {exc}") from exc
        dialect = self._engine.dialect
        self._sqlite = dialect.name == "sqlite"
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self._integrity_error: type[Exception] = dialect.loaded_dbapi.IntegrityError
        self._dialect = dialect
        self._sql = {id(statement): _compile(statement, dialect) for statement in _PREBUILT}
        path = sqlite_path(url)
        if path is not None:
            self._connections = _ThreadConnections(lambda: connect_sqlite(path))
        else:
            self._connections = _ThreadConnections(self._engine.raw_connection)
        self._signal: ChangeSignal = signal_for(self._engine)

    @property
    def sql_engine(self) -> Engine:
        """The SQLAlchemy engine on the same database, for tables outside the Store port."""
        return self._engine

    # -- statements and transactions -----------------------------------------

    def _run(self, cursor: Any, statement: sa.sql.ClauseElement, params: Params) -> Any:
        sql = self._sql.get(id(statement)) or _compile(statement, self._dialect)
        cursor.execute(sql.text, sql.bind(params))
        return cursor

    def _insert(self, cursor: Any, table: sa.Table, values: tuple[Any, ...]) -> None:
        """Insert one row given as values in the table's column order."""
        sql = self._sql[id(_INSERTS[table.name])]
        cursor.execute(sql.text, sql.bind_values(_COLUMNS[table.name], values))

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        conn = self._connections.get()
        try:
            try:
                cursor = conn.cursor()
                if self._sqlite:
                    # Take the write lock now, not on the first write, so two writers
                    # queue on the busy timeout instead of failing a lock upgrade.
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                conn.commit()
            except BaseException:
                self._rollback(conn)  # a kept connection must not stay in a transaction
                raise
        except self._dbapi_error as exc:
            raise StoreError(f"database write failed: {exc}") from exc

    @contextlib.contextmanager
    def _read(self) -> Iterator[Any]:
        """Several reads that see one snapshot."""
        conn = self._connections.get()
        try:
            try:
                cursor = conn.cursor()
                if self._sqlite:
                    cursor.execute("BEGIN")
                yield cursor
            finally:
                self._rollback(conn)
        except self._dbapi_error as exc:
            raise StoreError(f"database read failed: {exc}") from exc

    def _rollback(self, conn: Any) -> None:
        # The error that got us here is the one to report, not a failed rollback.
        with contextlib.suppress(self._dbapi_error):
            conn.rollback()

    def _select(self, statement: sa.sql.ClauseElement, params: Params) -> list[Row]:
        """The rows of one statement, read on its own (no explicit transaction)."""
        conn = self._connections.get()
        try:
            rows: list[Row] = self._run(conn.cursor(), statement, params).fetchall()
            if not self._sqlite:
                conn.rollback()  # end the transaction the driver began
        except self._dbapi_error as exc:
            raise StoreError(f"database read failed: {exc}") from exc
        return rows

    # -- writes -------------------------------------------------------------

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a new task and its first events; a known idempotency key returns that task."""
        try:
            with self._write() as cursor:
                if task.idempotency_key is not None:
                    row = self._run(cursor, _SELECT_BY_KEY, {"key": task.idempotency_key})
                    found = row.fetchone()
                    if found is not None:
                        return _task(found)
                self._insert(cursor, T, _task_values(task))
                insert_event = self._sql[id(_INSERT_EVENT)]
                cursor.executemany(
                    insert_event.text,
                    [insert_event.bind_values(_EVENT_COLUMNS, _event_values(e)) for e in events],
                )
        except StoreError as exc:
            if task.idempotency_key is not None and isinstance(
                exc.__cause__, self._integrity_error
            ):
                return self._by_key(task.idempotency_key)
            raise
        return task

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        task = change.task
        update = self._sql[id(_UPDATE_TASK)]
        values = (
            task.status.value,
            *_GET_MUTABLE(task)[1:],
            task.id,
            change.expected_version,
            change.expected_status.value,
        )
        with self._write() as cursor:
            cursor.execute(update.text, update.bind_values(_UPDATE_ORDER, values))
            if cursor.rowcount != 1:
                raise self._conflict(cursor, change)
            if change.draft is not None:
                self._insert(cursor, D, _draft_values(change.draft))
            if change.decision is not None:
                self._insert(cursor, DC, _decision_values(change.decision))
            self._insert(cursor, E, _event_values(change.event))
        return task

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out; False if ``owner`` no longer holds it."""
        params = {"b_id": task_id, "b_owner": owner, "until": expires_at}
        with self._write() as cursor:
            return bool(self._run(cursor, _EXTEND_LEASE, params).rowcount == 1)

    def _conflict(self, cursor: Any, change: Change) -> ConflictError | NotFoundError:
        row = self._run(cursor, _SELECT_TASK, {"id": change.task.id}).fetchone()
        if row is None:
            return NotFoundError(f"no task with id {change.task.id}")
        current = _task(row)
        return ConflictError(
            f"task {current.id} changed since you looked at it: it is now "
            f"{current.status.value} (version {current.version}, you had "
            f"{change.expected_version}); nothing was changed"
        )

    # -- reads --------------------------------------------------------------

    def get_task(self, task_id: str) -> Task:
        """The task, or raise ``NotFoundError``."""
        rows = self._select(_SELECT_TASK, {"id": task_id})
        if not rows:
            raise NotFoundError(f"no task with id {task_id}")
        return _task(rows[0])

    def _by_key(self, key: str) -> Task:
        rows = self._select(_SELECT_BY_KEY, {"key": key})
        if not rows:
            raise StoreError(f"idempotency key {key} vanished")
        return _task(rows[0])

    def get_draft(self, draft_id: str) -> Draft:
        """The draft, or raise ``NotFoundError``."""
        rows = self._select(_SELECT_DRAFT, {"id": draft_id})
        if not rows:
            raise NotFoundError(f"no draft with id {draft_id}")
        return _draft(rows[0])

    def detail(self, task_id: str) -> TaskDetail:
        """The task with its drafts, decisions and events."""
        params = {"id": task_id}
        with self._read() as cursor:
            row = self._run(cursor, _SELECT_TASK, params).fetchone()
            if row is None:
                raise NotFoundError(f"no task with id {task_id}")
            drafts = [_draft(r) for r in self._run(cursor, _SELECT_DRAFTS, params).fetchall()]
            decisions = [
                _decision(r) for r in self._run(cursor, _SELECT_DECISIONS, params).fetchall()
            ]
            events = [_event(r) for r in self._run(cursor, _SELECT_EVENTS, params).fetchall()]
        return TaskDetail(_task(row), drafts, decisions, events)

    def list_tasks(self, task_filter: TaskFilter) -> list[Task]:
        """Tasks matching the filter, in id order (keyset paginated)."""
        query = sa.select(T)
        if task_filter.statuses:
            query = query.where(T.c.status.in_([s.value for s in task_filter.statuses]))
        if task_filter.kinds:
            query = query.where(T.c.kind.in_(task_filter.kinds))
        if task_filter.after_id is not None:
            beyond = (
                T.c.id < task_filter.after_id
                if task_filter.newest_first
                else (T.c.id > task_filter.after_id)
            )
            query = query.where(beyond)
        order = T.c.id.desc() if task_filter.newest_first else T.c.id.asc()
        query = query.order_by(order).limit(task_filter.limit)
        return [_task(r) for r in self._select(query, {})]

    def claimable(self, now: float, limit: int) -> list[Task]:
        """Queued tasks, and drafting tasks whose lease ran out, oldest first."""
        return [_task(r) for r in self._select(_CLAIMABLE, {"now": now, "limit": limit})]

    def count_by_status(self) -> dict[tuple[str, TaskStatus], int]:
        """How many tasks there are of each kind in each status."""
        query = sa.select(T.c.kind, T.c.status, sa.func.count()).group_by(T.c.kind, T.c.status)
        return {(k, TaskStatus(s)): n for k, s, n in self._select(query, {})}

    def iter_tasks(self) -> Iterator[Task]:
        """Every task, oldest first, a page at a time."""
        after: str | None = None
        while True:
            page = self.list_tasks(TaskFilter(after_id=after, limit=500))
            yield from page
            if len(page) < 500:
                return
            after = page[-1].id

    def events(self, task_id: str) -> list[Event]:
        """One task's events in order."""
        return [_event(r) for r in self._select(_SELECT_EVENTS, {"id": task_id})]

    # -- change signal ---------------------------------------------------------

    def change_token(self) -> int:
        """A value that changes whenever anything is committed."""
        return self._signal.token()

    def wait_for_change(self, token: int, timeout: float) -> int:
        """Block until something is committed after ``token`` was read, or time runs out."""
        return self._signal.wait(token, timeout)

    def close(self) -> None:
        """Release connections."""
        self._signal.close()
        self._connections.close()
        self._engine.dispose()


# -- row mapping ---------------------------------------------------------------
# Rows travel as tuples in the tables' column order: every SELECT above selects
# whole tables, and the driver gets insert values in that order directly.

_TASK_COLUMNS = _COLUMNS[T.name]
_DRAFT_COLUMNS = _COLUMNS[D.name]
_DECISION_COLUMNS = _COLUMNS[DC.name]
_EVENT_COLUMNS = _COLUMNS[E.name]
_GET_TASK = operator.attrgetter(*_TASK_COLUMNS)
_GET_DECISION = operator.attrgetter(*_DECISION_COLUMNS)
_GET_EVENT = operator.attrgetter(*_EVENT_COLUMNS)
_TASK_STATUS, _TASK_INPUT = _TASK_COLUMNS.index("status"), _TASK_COLUMNS.index("input")
_DECISION_KIND = _DECISION_COLUMNS.index("kind")
_EVENT_PAYLOAD = _EVENT_COLUMNS.index("payload")
_STATUSES = {status.value: status for status in TaskStatus}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _task_values(task: Task) -> tuple[Any, ...]:
    values = list(_GET_TASK(task))
    values[_TASK_STATUS] = task.status.value
    values[_TASK_INPUT] = _dumps(task.input)
    return tuple(values)


def _task(row: Row) -> Task:
    values = dict(zip(_TASK_COLUMNS, row, strict=True))
    values["status"] = _STATUSES[values["status"]]
    values["input"] = json.loads(values["input"])
    return Task(**values)


def _draft_values(draft: Draft) -> tuple[Any, ...]:
    row = {
        "id": draft.id,
        "task_id": draft.task_id,
        "attempt": draft.attempt,
        "provider": draft.provider,
        "model": draft.model,
        "messages": _dumps(draft.messages),
        "output": draft.output,
        "prompt_tokens": draft.usage.prompt_tokens,
        "completion_tokens": draft.usage.completion_tokens,
        "latency_ms": draft.latency_ms,
        "created_at": draft.created_at,
        "feedback": draft.feedback,
    }
    return tuple([row[name] for name in _DRAFT_COLUMNS])


def _draft(row: Row) -> Draft:
    values = dict(zip(_DRAFT_COLUMNS, row, strict=True))
    usage = Usage(values.pop("prompt_tokens"), values.pop("completion_tokens"))
    values["messages"] = json.loads(values["messages"])
    return Draft(usage=usage, **values)


def _decision_values(decision: Decision) -> tuple[Any, ...]:
    values = list(_GET_DECISION(decision))
    values[_DECISION_KIND] = decision.kind.value
    return tuple(values)


def _decision(row: Row) -> Decision:
    values = dict(zip(_DECISION_COLUMNS, row, strict=True))
    values["kind"] = DecisionKind(values["kind"])
    return Decision(**values)


def _event_values(event: Event) -> tuple[Any, ...]:
    values = list(_GET_EVENT(event))
    values[_EVENT_PAYLOAD] = _dumps(event.payload)
    return tuple(values)


def _event(row: Row) -> Event:
    values = dict(zip(_EVENT_COLUMNS, row, strict=True))
    values["payload"] = json.loads(values["payload"])
    return Event(**values)
