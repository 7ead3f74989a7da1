"""The SQL store, on SQLite or PostgreSQL.

Statements are described once with SQLAlchemy Core (``statements``) and
compiled once for the store's dialect. Reads are the same on both databases;
writes, claims and the change signal differ, so a backend per dialect does
those: ``sqlite.SqliteBackend`` (per-thread connections, the write lock
serialises writers) and ``postgres.PostgresBackend`` (a connection pool,
one-statement compare-and-set, ``FOR UPDATE SKIP LOCKED`` claims,
LISTEN/NOTIFY).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.domain.changes import Change
from placet.domain.examples import ExampleEntry, is_excluded
from placet.domain.models import Decision, Draft, Event, Task, TaskDetail, TaskStatus
from placet.domain.queries import TaskFilter
from placet.errors import NotFoundError, StoreError
from placet.store import examples, rows, schema
from placet.store.accounts import SqlAccountStore
from placet.store.auditlog import SqlAuditLog
from placet.store.base import ClaimChange
from placet.store.deliveries import DeliveryStore
from placet.store.engines import make_engine
from placet.store.idsearch import ids_ending_with, ids_starting_with
from placet.store.kept import KeptRecords
from placet.store.links import LinkStore
from placet.store.listing import (
    FEW_OF_A_REQUESTER,
    list_query,
    requester_besides,
    requester_probe,
)
from placet.store.migrate import ensure_schema
from placet.store.notifications import NotificationStore
from placet.store.paces import PaceStore
from placet.store.sidetables import SideTables
from placet.store.signals import ChangeSignal, SqliteDataVersionSignal
from placet.store.slack_posts import SlackPostStore
from placet.store.sqlite import SqliteBackend, sqlite_path
from placet.store.statements import (
    CLAIMABLE,
    DUE_TASKS,
    SELECT_DECISIONS,
    SELECT_DRAFT,
    SELECT_DRAFTS,
    SELECT_EVENTS,
    SELECT_TASK,
    Params,
    Row,
    compile_all,
    compile_statement,
)
from placet.store.statements import T as _T

Reader = Callable[[sa.sql.ClauseElement, Params], list[Row]]
PAGE = 500
# A draft is never changed once saved, so a kept copy is never stale: the
# engine reads the draft it decides on, and a worker the one it revises,
# usually just after this process saved or showed it, and that read then
# costs no round trip. The audit reads the tables, never these copies.
DRAFTS_KEPT = 128


class Backend(Protocol):
    """What differs between databases: transactions, claims, connections."""

    def select(self, statement: sa.sql.ClauseElement, params: Params) -> list[Row]:
        """The rows of one statement."""
        ...

    def read(self) -> contextlib.AbstractContextManager[Reader]:
        """Several reads that see one snapshot."""
        ...

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a task and its first events; a known idempotency key returns that task."""
        ...

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        ...

    def apply_all(self, changes: Sequence[Change]) -> Task:
        """Apply changes in order in one transaction, or raise ``ConflictError``."""
        ...

    def claim(
        self, now: float, change_for: ClaimChange, task_id: str | None, skip_kinds: frozenset[str]
    ) -> Task | None:
        """Claim one task so no other claimer gets it (none of ``skip_kinds``)."""
        ...

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class SqlStore:
    """A Store on SQL: SQLite (the embedded default) or PostgreSQL (scale-out)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine = make_engine(url)
        try:
            ensure_schema(self._engine)
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(f"cannot open the database at {url}: {exc}") from exc
        self._sql = compile_all(self._engine.dialect)
        on_sqlite = self._engine.dialect.name == "sqlite"
        self._similar = examples.SIMILAR_SQLITE if on_sqlite else examples.SIMILAR_PG
        for statement in (self._similar, examples.LATEST, examples.ENTRY, examples.UNINDEXED):
            self._sql[id(statement)] = compile_statement(statement, self._engine.dialect)
        # Planned for its words each time: a plan made once for any words walked thousands
        # of rows for a word that the GIN index finds in a few (store/examples.py).
        similar = self._sql[id(self._similar)]
        self._sql[id(self._similar)] = dataclasses.replace(similar, prepare=False)
        self._drafts: KeptRecords[Draft] = KeptRecords(DRAFTS_KEPT)
        self._accounts: SqlAccountStore | None = None
        self._db: Backend
        self._signal: ChangeSignal
        path = sqlite_path(url)
        self._sqlite = path is not None  # see _walk_requester and listing.list_query
        if path is not None:
            self._db = SqliteBackend(path, self._sql, self._engine.dialect)
            self._signal = SqliteDataVersionSignal(path)
        else:
            self._db, self._signal = self._open_postgres()

    def _open_postgres(self) -> tuple[Backend, ChangeSignal]:
        import psycopg

        from placet.store.postgres import PostgresBackend

        # The migration check's connection is not needed again on most
        # processes; accounts open their own when they are used.
        self._engine.dispose()
        try:
            backend = PostgresBackend(self._engine, self._sql)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the database at {self.url}: {exc}") from exc
        return backend, backend.signal()

    def deliveries(self) -> DeliveryStore:
        """Outcome handlers' registrations and deliveries, in the same database."""
        return DeliveryStore(self._engine)

    def audit_log(self) -> SqlAuditLog:
        """The global audit log, in the same database."""
        return SqlAuditLog(self._engine)

    def notifications(self) -> NotificationStore:
        """The notifications outbox and the channels' health, in the same database."""
        return NotificationStore(self._engine)

    def links(self) -> LinkStore:
        """Accounts' e-mail addresses and the signed links used, in the same database."""
        return LinkStore(self._engine)

    def slack_posts(self) -> SlackPostStore:
        """The Slack messages posted about each task, in the same database."""
        return SlackPostStore(self._engine)

    def paces(self) -> PaceStore:
        """Each worker's pace against each hosted API, in the same database."""
        return PaceStore(self._engine)

    def accounts(self) -> SqlAccountStore:
        """The accounts kept in the same database."""
        if self._accounts is None:
            self._accounts = SqlAccountStore(self._engine)
        return self._accounts

    @property
    def sql_engine(self) -> Engine:
        """The SQLAlchemy engine on the same database, for tables outside the Store port."""
        return self._engine

    # -- writes -------------------------------------------------------------

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a new task and its first events; a known idempotency key returns that task."""
        return self._db.create_task(task, events)

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        task = self._db.apply(change)
        if change.draft is not None:
            self._drafts.keep(change.draft.id, change.draft)
        return task

    def apply_all(self, changes: Sequence[Change]) -> Task:
        """Apply changes in order in one transaction: all of them, or (on a conflict) none."""
        task = self._db.apply_all(changes)
        for change in changes:
            if change.draft is not None:
                self._drafts.keep(change.draft.id, change.draft)
        return task

    def claim(
        self,
        now: float,
        change_for: ClaimChange,
        task_id: str | None = None,
        skip_kinds: frozenset[str] = frozenset(),
    ) -> Task | None:
        """Claim one task for drafting so that no other claimer gets it too."""
        return self._db.claim(now, change_for, task_id, skip_kinds)

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out; False if ``owner`` no longer holds it."""
        return self._db.extend_lease(task_id, owner, expires_at)

    # -- reads --------------------------------------------------------------

    def get_task(self, task_id: str) -> Task:
        """The task, or raise ``NotFoundError``."""
        found = self._db.select(SELECT_TASK, {"id": task_id})
        if not found:
            raise NotFoundError(f"no task with id {task_id}")
        return rows.task(found[0])

    def get_draft(self, draft_id: str) -> Draft:
        """The draft, or raise ``NotFoundError``."""
        kept = self._drafts.get(draft_id)
        if kept is not None:
            return kept
        found = self._db.select(SELECT_DRAFT, {"id": draft_id})
        if not found:
            raise NotFoundError(f"no draft with id {draft_id}")
        draft = rows.draft(found[0])
        self._drafts.keep(draft.id, draft)
        return draft

    def detail(self, task_id: str) -> TaskDetail:
        """The task with its drafts, decisions and events, as of one moment."""
        params = {"id": task_id}
        with self._db.read() as read:
            found = read(SELECT_TASK, params)
            if not found:
                raise NotFoundError(f"no task with id {task_id}")
            drafts = [rows.draft(r) for r in read(SELECT_DRAFTS, params)]
            decisions = [rows.decision(r) for r in read(SELECT_DECISIONS, params)]
            events = [rows.event(r) for r in read(SELECT_EVENTS, params)]
        return TaskDetail(rows.task(found[0]), drafts, decisions, events)

    def list_tasks(self, task_filter: TaskFilter) -> list[Task]:
        """Tasks matching the filter, in id order (keyset paginated)."""
        by_requester = self._walk_requester(task_filter)
        query = list_query(task_filter, by_requester, status_under_kind=self._sqlite)
        return [rows.task(r) for r in self._db.select(query, {})]

    def task_ids_starting_with(self, prefix: str, limit: int) -> list[str]:
        """Ids of tasks that start with ``prefix``, in id order, up to ``limit`` (a range)."""
        return [str(row[0]) for row in self._db.select(ids_starting_with(prefix, limit), {})]

    def task_ids_ending_with(self, suffix: str, limit: int) -> list[str]:
        """Ids of tasks that end with ``suffix``, in id order, up to ``limit`` (reads every id)."""
        return [str(row[0]) for row in self._db.select(ids_ending_with(suffix, limit), {})]

    def _walk_requester(self, task_filter: TaskFilter) -> bool:
        # PostgreSQL's planner knows how many tasks a requester has; SQLite's does not.
        requester = requester_besides(task_filter)
        if not self._sqlite or requester is None:
            return False
        ((count,),) = self._db.select(requester_probe(requester), {})
        return int(count) <= FEW_OF_A_REQUESTER

    def claimable(self, now: float, limit: int) -> list[Task]:
        """Queued tasks, and drafting tasks whose lease ran out, oldest first."""
        return [rows.task(r) for r in self._db.select(CLAIMABLE, {"now": now, "limit": limit})]

    def due_tasks(self, now: float, limit: int) -> list[Task]:
        """Tasks whose next timer (reminder, escalation, deadline) is due, soonest first."""
        return [rows.task(r) for r in self._db.select(DUE_TASKS, {"now": now, "limit": limit})]

    def count_by_status(self) -> dict[tuple[str, TaskStatus], int]:
        """How many tasks there are of each kind in each status."""
        query = sa.select(_T.c.kind, _T.c.status, sa.func.count()).group_by(_T.c.kind, _T.c.status)
        return {(k, TaskStatus(s)): n for k, s, n in self._db.select(query, {})}

    def count_decisions(self, kind: str) -> int:
        """How many decisions were made on tasks of a kind (every verdict, any draft)."""
        decisions = schema.decisions
        query = (
            sa.select(sa.func.count())
            .select_from(decisions.join(_T, decisions.c.task_id == _T.c.id))
            .where(_T.c.kind == sa.bindparam("kind"))
        )
        return int(self._db.select(query, {"kind": kind})[0][0])

    def iter_tasks(self) -> Iterator[Task]:
        """Every task, oldest first, a page at a time."""
        after: str | None = None
        while True:
            page = self.list_tasks(TaskFilter(after_id=after, limit=PAGE))
            yield from page
            if len(page) < PAGE:
                return
            after = page[-1].id

    def events(self, task_id: str) -> list[Event]:
        """One task's events in order."""
        return [rows.event(r) for r in self._db.select(SELECT_EVENTS, {"id": task_id})]

    def decisions(self, task_id: str) -> list[Decision]:
        """One task's decisions in order."""
        return [rows.decision(r) for r in self._db.select(SELECT_DECISIONS, {"id": task_id})]

    # -- examples from approved work (store/examples.py) --------------------------

    def similar_examples(
        self, kind: str, terms: Sequence[str], limit: int, besides: str
    ) -> list[Task]:
        """Up to ``limit`` approved tasks of the kind, not marked "not an example", whose
        input shares the most with ``terms``; the latest approved fill up and break ties."""
        found: list[Task] = []
        if terms:
            query = examples.fts5_query(terms) if self._sqlite else examples.tsquery(terms)
            params = examples.similar_params(kind, query, limit, besides)
            found = [rows.task(r) for r in self._db.select(self._similar, params)]
        if len(found) < limit:
            chosen = {task.id for task in found}
            wanted = limit + len(chosen)
            window = wanted + examples.LATEST_SLACK
            params = {"kind": kind, "besides": besides, "limit": wanted, "window": window}
            latest = [rows.task(r) for r in self._db.select(examples.LATEST, params)]
            found += [task for task in latest if task.id not in chosen][: limit - len(found)]
        return found

    def index_examples(self, kind: str) -> int:
        """Give every approved task of the kind that has no example row one; how many were."""
        tables = SideTables(self._engine)
        insert = examples.insert_missing(self._engine.dialect.name)
        added = 0
        while True:
            found = self._db.select(examples.UNINDEXED, {"kind": kind})
            if found:
                made = examples.backfill_rows(
                    found, lambda task_id: is_excluded(self.events(task_id))
                )
                with tables.write() as conn:
                    conn.execute(insert, made)
                added += len(found)
            if len(found) < examples.BACKFILL_BATCH:
                return added

    def example_entry(self, task_id: str) -> ExampleEntry | None:
        """The task's example row, or None when it has none."""
        found = self._db.select(examples.ENTRY, {"id": task_id})
        return examples.entry(found[0]) if found else None

    def examples_index_problems(self) -> list[str]:
        """Where the full-text index of the examples differs from their rows: SQLite's FTS5
        table beside them, PostgreSQL's stored tsvectors (each row's, read in full)."""
        if not self._sqlite:
            astray = [str(row[0]) for row in self._db.select(examples.TERMS_ASTRAY, {})]
            return [
                f"task {task_id}: its example's search terms were altered" for task_id in astray
            ]
        with SideTables(self._engine).write() as conn:
            try:
                conn.exec_driver_sql(examples.FTS_INTEGRITY)
            except sa.exc.DatabaseError as exc:
                said = getattr(exc.orig, "args", ("",))[0] if exc.orig else str(exc)
                return [f"the examples' search index does not match their rows ({said})"]
        return []

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
        self._db.close()
        self._engine.dispose()
