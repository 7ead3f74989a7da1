"""The SQL store (SQLite now; the same statements serve PostgreSQL).

Hot-path statements are built once at import and executed with parameters:
building a statement per call costs more than the SQL itself. Writes on SQLite
start with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead
of failing when a read lock is upgraded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

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
from placet.store.sqlite import make_engine

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
_UPDATE_TASK = (
    T.update()
    .where(T.c.id == sa.bindparam("b_id"))
    .where(T.c.version == sa.bindparam("b_version"))
    .where(T.c.status == sa.bindparam("b_status"))
    .values({name: sa.bindparam(name) for name in _MUTABLE})
)
_SELECT_TASK = sa.select(T).where(T.c.id == sa.bindparam("id"))
_SELECT_DRAFT = sa.select(D).where(D.c.id == sa.bindparam("id"))
_EXTEND_LEASE = (
    T.update()
    .where(T.c.id == sa.bindparam("id"))
    .where(T.c.lease_owner == sa.bindparam("owner"))
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


class SqlStore:
    """A Store on SQLAlchemy Core."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine = make_engine(url)
        try:
            ensure_schema(self._engine)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open the database at {url}: {exc}") from exc
        self._signal: ChangeSignal = signal_for(self._engine)
        self._local = threading.local()

    # -- transactions -----------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    conn.begin()
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"database write failed: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN")  # one snapshot for every read below
                yield conn
                conn.rollback()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"database read failed: {exc}") from exc

    # -- writes -------------------------------------------------------------

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a new task and its first events; a known idempotency key returns that task."""
        try:
            with self._write() as conn:
                if task.idempotency_key is not None:
                    row = conn.execute(_SELECT_BY_KEY, {"key": task.idempotency_key}).first()
                    if row is not None:
                        return _task(row._mapping)
                conn.execute(_INSERT_TASK, _task_row(task))
                conn.execute(_INSERT_EVENT, [_event_row(event) for event in events])
        except StoreError as exc:
            if task.idempotency_key is not None and isinstance(
                exc.__cause__, sa.exc.IntegrityError
            ):
                return self._by_key(task.idempotency_key)
            raise
        return task

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        params = {name: _column_value(getattr(change.task, name)) for name in _MUTABLE}
        params.update(
            b_id=change.task.id,
            b_version=change.expected_version,
            b_status=change.expected_status.value,
        )
        with self._write() as conn:
            if conn.execute(_UPDATE_TASK, params).rowcount != 1:
                raise self._conflict(conn, change)
            if change.draft is not None:
                conn.execute(_INSERT_DRAFT, _draft_row(change.draft))
            if change.decision is not None:
                conn.execute(_INSERT_DECISION, _decision_row(change.decision))
            conn.execute(_INSERT_EVENT, _event_row(change.event))
        return change.task

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out; False if ``owner`` no longer holds it."""
        params = {"id": task_id, "owner": owner, "until": expires_at}
        with self._write() as conn:
            return bool(conn.execute(_EXTEND_LEASE, params).rowcount == 1)

    def _conflict(self, conn: Connection, change: Change) -> ConflictError | NotFoundError:
        row = conn.execute(_SELECT_TASK, {"id": change.task.id}).first()
        if row is None:
            return NotFoundError(f"no task with id {change.task.id}")
        current = _task(row._mapping)
        return ConflictError(
            f"task {current.id} changed since you looked at it: it is now "
            f"{current.status.value} (version {current.version}, you had "
            f"{change.expected_version}); nothing was changed"
        )

    # -- reads --------------------------------------------------------------

    def get_task(self, task_id: str) -> Task:
        """The task, or raise ``NotFoundError``."""
        with self._read() as conn:
            row = conn.execute(_SELECT_TASK, {"id": task_id}).first()
        if row is None:
            raise NotFoundError(f"no task with id {task_id}")
        return _task(row._mapping)

    def _by_key(self, key: str) -> Task:
        with self._read() as conn:
            row = conn.execute(_SELECT_BY_KEY, {"key": key}).first()
        if row is None:
            raise StoreError(f"idempotency key {key} vanished")
        return _task(row._mapping)

    def get_draft(self, draft_id: str) -> Draft:
        """The draft, or raise ``NotFoundError``."""
        with self._read() as conn:
            row = conn.execute(_SELECT_DRAFT, {"id": draft_id}).first()
        if row is None:
            raise NotFoundError(f"no draft with id {draft_id}")
        return _draft(row._mapping)

    def detail(self, task_id: str) -> TaskDetail:
        """The task with its drafts, decisions and events."""
        with self._read() as conn:
            row = conn.execute(_SELECT_TASK, {"id": task_id}).first()
            if row is None:
                raise NotFoundError(f"no task with id {task_id}")
            params = {"id": task_id}
            drafts = [_draft(r._mapping) for r in conn.execute(_SELECT_DRAFTS, params)]
            decisions = [_decision(r._mapping) for r in conn.execute(_SELECT_DECISIONS, params)]
            events = [_event(r._mapping) for r in conn.execute(_SELECT_EVENTS, params)]
        return TaskDetail(_task(row._mapping), drafts, decisions, events)

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
        with self._read() as conn:
            return [_task(r._mapping) for r in conn.execute(query)]

    def claimable(self, now: float, limit: int) -> list[Task]:
        """Queued tasks, and drafting tasks whose lease ran out, oldest first."""
        with self._read() as conn:
            rows = conn.execute(_CLAIMABLE, {"now": now, "limit": limit})
            return [_task(r._mapping) for r in rows]

    def count_by_status(self) -> dict[tuple[str, TaskStatus], int]:
        """How many tasks there are of each kind in each status."""
        query = sa.select(T.c.kind, T.c.status, sa.func.count()).group_by(T.c.kind, T.c.status)
        with self._read() as conn:
            return {(k, TaskStatus(s)): n for k, s, n in conn.execute(query)}

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
        with self._read() as conn:
            return [_event(r._mapping) for r in conn.execute(_SELECT_EVENTS, {"id": task_id})]

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
        self._engine.dispose()


# -- row mapping ---------------------------------------------------------------


def _column_value(value: Any) -> Any:
    return value.value if isinstance(value, TaskStatus) else value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _task_row(task: Task) -> dict[str, Any]:
    row = {name: getattr(task, name) for name in _COLUMNS[T.name]}
    row["status"] = task.status.value
    row["input"] = _dumps(task.input)
    return row


def _task(row: Any) -> Task:
    values = dict(row)
    values["status"] = TaskStatus(values["status"])
    values["input"] = json.loads(values["input"])
    return Task(**values)


def _draft_row(draft: Draft) -> dict[str, Any]:
    return {
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


def _draft(row: Any) -> Draft:
    values = dict(row)
    usage = Usage(values.pop("prompt_tokens"), values.pop("completion_tokens"))
    values["messages"] = json.loads(values["messages"])
    return Draft(usage=usage, **values)


def _decision_row(decision: Decision) -> dict[str, Any]:
    row = {name: getattr(decision, name) for name in _COLUMNS[DC.name]}
    row["kind"] = decision.kind.value
    return row


def _decision(row: Any) -> Decision:
    values = dict(row)
    values["kind"] = DecisionKind(values["kind"])
    return Decision(**values)


def _event_row(event: Event) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in _COLUMNS[E.name]}
    row["payload"] = _dumps(event.payload)
    return row


def _event(row: Any) -> Event:
    values = dict(row)
    values["payload"] = json.loads(values["payload"])
    return Event(**values)
