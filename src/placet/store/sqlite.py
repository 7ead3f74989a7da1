"""SQLite: engine set-up, pragmas, and the store's transactions on it.

Statements run straight on a driver connection that each thread keeps: on the
lifecycle's hot path, pool checkout and SQLAlchemy's per-call execution
context cost more than the SQL itself. Writers in one process first take
turns on a lock per database file (woken at once, never napping in SQLite's
busy handler); then each write starts with ``BEGIN IMMEDIATE``, so writers in
different processes queue on the busy timeout instead of failing when a read
lock is upgraded. A read of one statement runs on its own (SQLite gives every
statement a consistent snapshot) and a read of several shares one transaction.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.domain.changes import Change
from placet.domain.models import Event, Task
from placet.errors import ConfigError, NotFoundError, StoreError
from placet.store import checkpoints, rows, schema
from placet.store.base import ClaimChange
from placet.store.examples import EXAMPLE_UPSERT_SQLITE, entry_values
from placet.store.statements import (
    CLAIM_EXPIRED,
    CLAIM_QUEUED,
    COLUMNS,
    EXTEND_LEASE,
    INSERTS,
    SELECT_BY_KEY,
    SELECT_TASK,
    UPDATE_ORDER,
    UPDATE_TASK,
    CompiledSet,
    Params,
    Row,
    T,
    compile_statement,
)

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_SECONDS = 30  # writers in other processes: SQLite's busy handler
TURN_TIMEOUT_SECONDS = 30  # writers in this process: the writer lock
# A lifecycle step dirties ~8 pages (row, indexes, audit event), so SQLite's
# default checkpoint every 1,000 WAL pages came every ~40 items, and with
# synchronous=NORMAL each checkpoint costs two fsyncs: most of the commit time.
# 10,000 pages (~40 MB of WAL while connections are open) checkpoints about as
# often per item as a one-row-per-commit workload does with the default.
WAL_AUTOCHECKPOINT_PAGES = 10_000
# Every commit writes each page it changed, whole, to the WAL, and a lifecycle
# step changes a few hundred bytes on each of ~9 pages: with 2 KB pages a
# commit writes half the bytes. Measured (bench/lifecycle.py, BENCHMARKS.md
# section 1): ~7% less time per item than SQLite's 4 KB default, also with
# drafts of 1.3 KB; 1 KB pages are slower again (rows spill onto more pages).
# Only a new database takes it: an existing file keeps the size it was made with.
PAGE_SIZE_BYTES = 2048


def sqlite_path(url: str) -> str | None:
    """The file a ``sqlite:///`` URL names, or None for other databases."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return parsed.database or ":memory:"


def make_sqlite_engine(url: str, path: str) -> Engine:
    """A SQLAlchemy engine on a SQLite file, tuned for many small commits."""
    if path == ":memory:":
        raise ConfigError("an in-memory SQLite database cannot be shared; use a file path")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
    sa.event.listen(engine, "connect", _configure_sqlite)
    return engine


def connect_sqlite(path: str) -> sqlite3.Connection:
    """A driver connection configured exactly as the engine's pooled ones.

    The store keeps one per thread for its hot paths, so a call costs no
    pool checkout and no SQLAlchemy execution context.
    """
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    try:
        _configure_sqlite(conn, None)
    except BaseException:
        conn.close()
        raise
    return conn


def synchronous_level() -> str:
    """The SQLite ``synchronous`` setting, from PLACET_SQLITE_SYNCHRONOUS."""
    level = os.environ.get("PLACET_SQLITE_SYNCHRONOUS", "FULL").upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise ConfigError(
            f"PLACET_SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_LEVELS)}"
        )
    return level


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Placet issues BEGIN / BEGIN IMMEDIATE itself; the driver's implicit
    # transactions would otherwise start too late and as the wrong kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE_BYTES}")  # before WAL fixes the file's
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous_level()}")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()


_process = os.getpid()  # this process's id, kept current by the fork hook below
# One lock per database file for every writer in this process. SQLite makes a
# writer that finds the file locked sleep in its busy handler (1, 2, 5, ... up
# to 100 ms a try) rather than wake it when the lock is free; threads taking
# turns on a Python lock first are woken at once, so only writers in other
# processes ever meet the busy handler.
_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()


def writer_key(path: str) -> str:
    """The key of this process's writer lock for the database file at ``path``.

    Writers look the lock up by key at every write, so the fresh lock a
    forked child gets (see ``_forked``) is the one they take.
    """
    key = os.path.realpath(path)
    with _writer_locks_guard:
        _writer_locks.setdefault(key, threading.Lock())
    return key


@contextlib.contextmanager
def writer_turn(key: str) -> Iterator[None]:
    """This process's turn to write to a database file, for writers outside the store."""
    turn = _writer_locks[key]
    _take(turn)
    try:
        yield
    finally:
        turn.release()


def _take(turn: threading.Lock) -> None:
    if not turn.acquire(timeout=TURN_TIMEOUT_SECONDS):
        raise StoreError(f"database write failed: busy for {TURN_TIMEOUT_SECONDS} s")


def _forked() -> None:
    global _process  # the child's own id: connections opened before the fork are not its own
    _process = os.getpid()
    # A lock some other thread of the parent held at the fork would never be
    # released in the child.
    global _writer_locks_guard  # replaced, like the locks it guards
    _writer_locks_guard = threading.Lock()
    for key in _writer_locks:
        _writer_locks[key] = threading.Lock()


os.register_at_fork(after_in_child=_forked)


class ThreadConnections:
    """One driver connection per thread, opened on first use.

    A connection whose thread has ended is closed the next time a thread
    opens one, so short-lived threads do not pile connections up. A forked
    child opens its own and leaves the parent's alone.
    """

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._pid = _process
        self._local = threading.local()
        self._open: dict[threading.Thread, Any] = {}
        self._lock = threading.Lock()

    def get(self) -> Any:
        """This thread's connection."""
        # Compared with the hook-kept id, not os.getpid(): that is a system call,
        # and this runs for every statement.
        conn = getattr(self._local, "conn", None)
        if conn is None or self._pid != _process:
            conn = self._open_one()
        return conn

    def _open_one(self) -> Any:
        if self._pid != _process:  # forked: the parent's connections are not ours
            self._pid, self._local, self._open = _process, threading.local(), {}
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


class SqliteBackend:
    """The store's transactions on SQLite; writers take turns, then SQLite's write lock."""

    def __init__(self, path: str, sql: CompiledSet, dialect: sa.engine.Dialect) -> None:
        self._sql = sql
        self._dialect = dialect
        connect = functools.partial(connect_sqlite, path)
        self._connections = ThreadConnections(connect)
        self._lock_key = writer_key(path)
        self._checkpointer = checkpoints.WalCheckpointer(
            connect, checkpoints.COMMITS_PER_CHECKPOINT
        )

    # -- statements and transactions -----------------------------------------

    def _run(self, cursor: Any, statement: sa.sql.ClauseElement, params: Params) -> Any:
        sql = self._sql.get(id(statement)) or compile_statement(statement, self._dialect)
        cursor.execute(sql.text, sql.bind(params))
        return cursor

    def _insert(self, cursor: Any, table: sa.Table, values: tuple[Any, ...]) -> None:
        """Insert one row given as values in the table's column order."""
        sql = self._sql[id(INSERTS[table.name])]
        cursor.execute(sql.text, sql.bind_values(COLUMNS[table.name], values))

    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(
            self._connections.get(), _writer_locks[self._lock_key], self._checkpointer
        )

    @contextlib.contextmanager
    def read(self) -> Iterator[Callable[[sa.sql.ClauseElement, Params], list[Row]]]:
        """Several reads that see one snapshot."""
        conn = self._connections.get()
        try:
            try:
                cursor = conn.cursor()
                cursor.execute("BEGIN")
                yield lambda statement, params: self._run(cursor, statement, params).fetchall()
            finally:
                _rollback(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"database read failed: {exc}") from exc

    def select(self, statement: sa.sql.ClauseElement, params: Params) -> list[Row]:
        """The rows of one statement, read on its own (no explicit transaction)."""
        try:
            found: list[Row] = self._run(
                self._connections.get().cursor(), statement, params
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"database read failed: {exc}") from exc
        return found

    # -- writes -------------------------------------------------------------

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a task and its first events; a known idempotency key returns that task."""
        try:
            return self._create_task(task, events)
        except StoreError as exc:
            key = task.idempotency_key
            if key is None or not isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise
            found = self.select(SELECT_BY_KEY, {"key": key})  # another process took the key first
            if not found:
                raise
            return rows.task(found[0])

    def _create_task(self, task: Task, events: Sequence[Event]) -> Task:
        with self._write() as cursor:
            if task.idempotency_key is not None:
                row = self._run(cursor, SELECT_BY_KEY, {"key": task.idempotency_key})
                found = row.fetchone()
                if found is not None:
                    return rows.task(found)
            self._insert(cursor, schema.tasks, rows.task_values(task))
            if len(events) == 1:  # as a task is made: executemany costs more for one row
                self._insert_event(cursor, events[0])
                return task
            for event in events:
                self._insert_event(cursor, event)
        return task

    def _insert_event(self, cursor: Any, event: Event) -> None:
        self._insert(cursor, schema.events, rows.event_values(event))

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        with self._write() as cursor:
            self._apply(cursor, change)
        return change.task

    def apply_all(self, changes: Sequence[Change]) -> Task:
        """Apply changes in order in one transaction: all of them, or (on a conflict) none."""
        with self._write() as cursor:
            for change in changes:
                self._apply(cursor, change)
        return changes[-1].task

    def _apply(self, cursor: Any, change: Change) -> None:
        update = self._sql[id(UPDATE_TASK)]
        cursor.execute(update.text, update.bind_values(UPDATE_ORDER, rows.update_values(change)))
        if cursor.rowcount != 1:
            raise self._conflict(cursor, change)
        if change.draft is not None:
            self._insert(cursor, schema.drafts, rows.draft_values(change.draft))
        if change.decision is not None:
            self._insert(cursor, schema.decisions, rows.decision_values(change.decision))
        self._insert_event(cursor, change.event)
        if change.example is not None:  # its full-text index follows by trigger
            cursor.execute(EXAMPLE_UPSERT_SQLITE, entry_values(change.example))
        for notice in change.notices:  # the outbox: sent after this commits, never before
            self._insert(cursor, schema.notifications, rows.notice_values(notice))

    def _conflict(self, cursor: Any, change: Change) -> Exception:
        row = self._run(cursor, SELECT_TASK, {"id": change.task.id}).fetchone()
        if row is None:
            return NotFoundError(f"no task with id {change.task.id}")
        return rows.conflict(rows.task(row), change)

    def claim(
        self, now: float, change_for: ClaimChange, task_id: str | None, skip_kinds: frozenset[str]
    ) -> Task | None:
        """Claim under the write lock: no other writer runs until the claim commits."""
        # An idle worker's poll must not take the write lock.
        if task_id is None and _next_to_claim(now, self._first, skip_kinds) is None:
            return None
        with self._write() as cursor:
            if task_id is not None:
                row = self._run(cursor, SELECT_TASK, {"id": task_id}).fetchone()
                if row is None:
                    raise NotFoundError(f"no task with id {task_id}")
            else:
                row = _next_to_claim(
                    now, lambda st, p: self._run(cursor, st, p).fetchone(), skip_kinds
                )
            change = change_for(rows.task(row)) if row is not None else None
            if change is None:
                return None
            self._apply(cursor, change)
        return change.task

    def _first(self, statement: sa.sql.ClauseElement, params: Params) -> Row | None:
        found = self.select(statement, params)
        return found[0] if found else None

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out; False if ``owner`` no longer holds it."""
        params = {"b_id": task_id, "b_owner": owner, "until": expires_at}
        with self._write() as cursor:
            return bool(self._run(cursor, EXTEND_LEASE, params).rowcount == 1)

    def close(self) -> None:
        """Close every connection."""
        self._checkpointer.close()
        self._connections.close()


def _next_to_claim(
    now: float,
    first: Callable[[sa.sql.ClauseElement, Params], Row | None],
    skip_kinds: frozenset[str] = frozenset(),
) -> Row | None:
    """As on PostgreSQL: a drafting task whose lease ran out, else the oldest queued one.

    Two probes in id order, not CLAIMABLE: its OR sorts every queued task to find the first.
    While kinds are paused the probes pass over them (compiled then, not prebuilt).
    """
    expired, queued = CLAIM_EXPIRED, CLAIM_QUEUED
    if skip_kinds:
        # Values bound in place, not an expanding IN: it compiles without its `now`.
        paused = T.c.kind.not_in([sa.literal(kind) for kind in sorted(skip_kinds)])
        expired, queued = (statement.where(paused) for statement in (expired, queued))
    return first(expired, {"now": now}) or first(queued, {})


class _WriteTransaction:
    """``with`` it: a cursor inside one write transaction, committed on success.

    A class rather than a generator-based context manager: three of these run
    per lifecycle item, and the generator machinery cost more than the BEGIN.
    """

    __slots__ = ("_checkpointer", "_conn", "_turn")

    def __init__(
        self,
        conn: sqlite3.Connection,
        turn: threading.Lock,
        checkpointer: checkpoints.WalCheckpointer,
    ) -> None:
        self._conn = conn
        self._turn = turn  # this process's writers take turns on it (see _writer_locks)
        self._checkpointer = checkpointer

    def __enter__(self) -> sqlite3.Cursor:
        _take(self._turn)
        try:
            cursor = self._conn.cursor()
            # Take the write lock now, not on the first write, so two writers
            # queue on the busy timeout instead of failing a lock upgrade.
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            _rollback(self._conn)
            self._turn.release()
            raise StoreError(f"database write failed: {exc}") from exc
        except BaseException:
            self._turn.release()
            raise
        return cursor

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: Any
    ) -> None:
        try:
            if kind is None:
                try:
                    self._conn.commit()
                except sqlite3.Error as exc:
                    error = exc
                else:
                    self._checkpointer.committed()
                    return
            _rollback(self._conn)  # a kept connection must not stay in a transaction
            if isinstance(error, sqlite3.Error):
                raise StoreError(f"database write failed: {error}") from error
        finally:
            self._turn.release()


def _rollback(conn: sqlite3.Connection) -> None:
    # The error that got us here is the one to report, not a failed rollback.
    with contextlib.suppress(sqlite3.Error):
        conn.rollback()
