"""Every SQL statement on the global audit log: the queue, the log, and its checks.

The chaining and the rules are the engine's and the domain's
(``engine/auditlog.py``, ``domain/auditlog.py``); this module reads and writes
rows, and asks the database the set questions a walk in Python would be slow
at (logged events whose rows are gone, events never logged).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.domain.auditlog import LogEntry
from placet.store.schema import (
    UNLOGGED,
    audit_log,
    audit_pending,
    events,
    security_events,
    tasks,
    users,
)
from placet.store.sidetables import SideTables

L, P, E, T = audit_log, audit_pending, events, tasks
SEAL_BATCH = 5000
# The tasks with events the log does not cover yet, through ix_tasks_unlogged
# (its WHERE written as the index's, so both databases use it).
_UNLOGGED_TASKS = sa.select(T.c.id, T.c.event_count, T.c.head_hash).where(UNLOGGED).order_by(T.c.id)
_UNLOGGED_EVENTS = sa.select(
    sa.func.coalesce(sa.func.sum(T.c.event_count - T.c.logged_count), 0)
).where(UNLOGGED)
# Which logged events no longer match a row: gone (a deleted task, a cut tail, a
# rollback) or with another hash (rewritten after it was logged).
_LOGGED_BUT_CHANGED = (
    sa.select(L.c.position, L.c.task_id, L.c.seq, E.c.hash)
    .select_from(L.outerjoin(E, sa.and_(E.c.task_id == L.c.task_id, E.c.seq == L.c.seq)))
    .where(L.c.kind == "event")
    .where(sa.or_(E.c.hash.is_(None), E.c.hash != L.c.entry_hash))
    .order_by(L.c.position)
)
# Events that are neither logged nor waiting to be: written behind Placet's back.
# An entry covers its event and, through the task's chain, every one before it,
# so an event is logged when an entry (or a queued one) has its seq or a later
# one; it waits when its task's row counts it as not logged yet.
_COVERED = sa.union_all(
    sa.select(L.c.task_id, L.c.seq).where(L.c.kind == "event"),
    sa.select(P.c.task_id, P.c.seq).where(P.c.task_id.is_not(None)),
).subquery("covered")
_TOPS = (
    sa.select(_COVERED.c.task_id, sa.func.max(_COVERED.c.seq).label("top"))
    .group_by(_COVERED.c.task_id)
    .subquery("tops")
)
_NEVER_LOGGED = (
    sa.select(E.c.task_id, E.c.seq)
    .select_from(
        E.outerjoin(_TOPS, _TOPS.c.task_id == E.c.task_id).outerjoin(T, T.c.id == E.c.task_id)
    )
    .where(E.c.seq > sa.func.coalesce(_TOPS.c.top, 0))
    .where(sa.or_(T.c.id.is_(None), E.c.seq <= T.c.logged_count, E.c.seq > T.c.event_count))
    .order_by(E.c.task_id, E.c.seq)
)
_COLUMNS = (*(c.name for c in L.c if c.name != "chain_hash"), "chain_hash")
_ROW_OF = operator.attrgetter(*_COLUMNS[:-1])  # an entry's values in the insert's order
Link = Callable[[str, LogEntry], str]  # an entry's chain hash, after the head given
# An entry before its place in the log: kind, task id, seq, ref, entry hash, legacy.
Fact = tuple[str, str | None, int | None, str | None, str, bool]
_EVENT = "event"


class SqlAuditLog:
    """The global audit log in the same database as the tasks."""

    def __init__(self, engine: Engine) -> None:
        self._tables = SideTables(engine)
        mark = "?" if self._tables.sqlite else "%s"
        self._insert_sql = (
            f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_COLUMNS))})"
        )
        self._counted_sql = f"UPDATE tasks SET logged_count = {mark} WHERE id = {mark}"

    def seal(self, link: Link, key_id: str | None, now: float) -> int:
        """Log one batch, chained after the head: the queue, then the tasks not yet logged.

        A task gets one entry, for its newest event: the task's own chain links
        that event to every one before it. Returns how many entries were made.
        """
        with self._tables.write() as conn:
            if not self._tables.sqlite:  # one sealer at a time; SQLite's write lock is one
                conn.execute(sa.text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
            last = conn.execute(sa.select(L).order_by(L.c.position.desc()).limit(1)).first()
            if key_id is None and last is not None and last.key_id is not None:
                return 0  # a keyed log is sealed only with the key: left for a keyed sealer
            queued = sa.select(P.c.id, P.c.kind, P.c.task_id, P.c.seq, P.c.ref, P.c.entry_hash)
            pending = conn.execute(queued.order_by(P.c.id).limit(SEAL_BATCH)).all()
            room = SEAL_BATCH - len(pending)
            heads = conn.execute(_UNLOGGED_TASKS.limit(room)).all() if room else []
            if not pending and not heads:
                return 0
            facts = _queued_facts(conn, pending)
            facts += [
                (_EVENT, task_id, count, None, hash_, False) for task_id, count, hash_ in heads
            ]
            position, head = (last.position, last.chain_hash) if last else (0, "0" * 64)
            rows = []
            for fact in facts:
                position += 1
                entry = LogEntry(position, *fact, key_id, now)
                head = link(head, entry)
                rows.append((*_ROW_OF(entry), head))
            # Straight to the driver: this runs for every entry ever logged.
            conn.exec_driver_sql(self._insert_sql, rows)
            if pending:  # exactly these: on PostgreSQL a lower id may commit after this read
                conn.execute(P.delete().where(P.c.id.in_([row[0] for row in pending])))
            if heads:  # a task changed since is still counted short, and sealed next time
                conn.exec_driver_sql(self._counted_sql, [(row[1], row[0]) for row in heads])
        return len(rows)

    def entries(self, batch: int = 10000) -> Iterator[LogEntry]:
        """Every entry, in position order (read in batches)."""
        after = 0
        while True:
            query = sa.select(L).where(L.c.position > after).order_by(L.c.position).limit(batch)
            rows = self._tables.rows(query)
            yield from (_from_row(row) for row in rows)
            if len(rows) < batch:
                return
            after = rows[-1].position

    def task_entries(self, task_id: str) -> dict[int, LogEntry]:
        """One task's entries, by the seq each was logged at (each covers those before it)."""
        rows = self._tables.rows(sa.select(L).where(L.c.task_id == task_id))
        return {row.seq: _from_row(row) for row in rows if row.kind == "event"}

    def changed_events(self) -> list[tuple[int, str, int, str | None]]:
        """Logged events whose row is gone or hashes differently: (position, task, seq, hash)."""
        return [tuple(row) for row in self._tables.rows(_LOGGED_BUT_CHANGED)]

    def never_logged(self, limit: int = 100) -> list[tuple[str, int]]:
        """Events neither logged nor queued to be (at most ``limit``)."""
        return [tuple(row) for row in self._tables.rows(_NEVER_LOGGED.limit(limit))]

    def any_keyed(self) -> bool:
        """True when some entry was chained under an audit key."""
        query = sa.select(L.c.position).where(L.c.key_id.is_not(None)).limit(1)
        return bool(self._tables.rows(query))

    def pending_count(self) -> int:
        """How many events and security events wait for the sealer."""
        queued = self._tables.rows(sa.select(sa.func.count()).select_from(P))[0][0]
        return int(queued) + int(self._tables.rows(_UNLOGGED_EVENTS)[0][0])

    def queue_security_event(self, conn: Any, event_id: str, entry_hash: str) -> None:
        """Queue a security event's entry, in the caller's transaction."""
        conn.execute(P.insert().values(kind="security", ref=event_id, entry_hash=entry_hash))

    def user_rows(self) -> list[Any]:
        """Every account's name, roles (text) and disabled flag."""
        return self._tables.rows(sa.select(users.c.name, users.c.roles, users.c.disabled))

    def security_rows(self) -> list[Any]:
        """Every security event row, oldest first."""
        return self._tables.rows(sa.select(security_events).order_by(security_events.c.id))

    def security_entries(self) -> dict[str, LogEntry]:
        """Each logged or queued security event's entry (a queued one has position 0)."""
        queued = sa.select(P).where(P.c.kind.in_(("security", "legacy_security")))
        found = {
            row.ref: LogEntry(0, "security", None, None, row.ref, row.entry_hash, False, None, 0.0)
            for row in self._tables.rows(queued)
        }
        logged = sa.select(L).where(L.c.kind == "security")
        found.update({row.ref: _from_row(row) for row in self._tables.rows(logged)})
        return found


def _queued_facts(conn: Any, pending: Sequence[Any]) -> list[Fact]:
    """What the queue holds (security events; events queued before tasks were counted)."""
    if not pending:
        return []
    legacy_era = conn.execute(sa.select(L.c.position).where(~L.c.legacy).limit(1)).first()
    facts: list[Fact] = []
    for _id, kind, task_id, seq, ref, entry_hash in pending:
        # A legacy entry (queued by migration 0008) counts as one only in the
        # first seal: one queued later by anybody else is an ordinary entry.
        legacy = kind.startswith("legacy_") and legacy_era is None
        shown = "security" if kind.endswith("security") else _EVENT
        facts.append((shown, task_id, seq, ref, entry_hash, legacy))
    return facts


def _from_row(row: Any) -> LogEntry:
    return LogEntry(
        row.position,
        row.kind,
        row.task_id,
        row.seq,
        row.ref,
        row.entry_hash,
        bool(row.legacy),
        row.key_id,
        row.sealed_at,
        row.chain_hash,
    )
