"""Outcome handlers' durable state: who is registered, and each delivery.

Kept apart from the Store port's hot path: deliveries are read and written
through the SQLAlchemy engine of the same database, on SQLite and PostgreSQL
alike. Two tables (migration 0004):

* ``handlers``: one row per handler name, with ``swept_id``: every final
  decision of the handler's kind with an id up to it has its delivery row.
* ``handler_deliveries``: one row per (handler, decision), with the status,
  the attempts made, and ``next_try_at``: when it may be tried next, which
  while a worker runs it is when that worker's lease ends. A worker that dies
  mid-handler just stops pushing it out, and another worker takes the row.

Several workers never run one delivery at once: a claim locks the row it
takes (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the write lock,
taken with ``BEGIN IMMEDIATE``, serialises claimers) and pushes
``next_try_at`` past the lease before it commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from placet.domain.deliveries import DeliveryRecord, DeliveryStatus, Found, HandlerRecord
from placet.domain.models import TaskStatus
from placet.store.schema import decisions, handler_deliveries, handlers, tasks
from placet.store.sidetables import SideTables

H, HD, DC, T = handlers, handler_deliveries, decisions, tasks
_LATER = DC.alias("later")
PENDING = DeliveryStatus.PENDING.value


# The ids of the next page of decisions, in id order: the walk's unit of work.
DECISION_PAGE = (
    sa.select(DC.c.id)
    .where(DC.c.id > sa.bindparam("after"))
    .order_by(DC.c.id)
    .limit(sa.bindparam("size"))
)
# In one page of decisions: those that ended a task of the kind with the outcome
# (the task's last decision, on a task in that status) and have no delivery row.
# The task is checked in a correlated EXISTS, not a join: joined, SQLite drives
# the query from the (kind, status) index, every approved task of the kind, a
# million rows at scale, instead of the page's range of decision ids.
UNDELIVERED = (
    sa.select(DC.c.id, DC.c.task_id)
    .where(DC.c.id > sa.bindparam("after"), DC.c.id <= sa.bindparam("through"))
    .where(
        sa.exists().where(
            T.c.id == DC.c.task_id,
            T.c.kind == sa.bindparam("kind"),
            T.c.status == sa.bindparam("outcome"),
        )
    )
    .where(
        ~sa.exists().where(_LATER.c.task_id == DC.c.task_id, _LATER.c.id > DC.c.id),
        ~sa.exists().where(HD.c.handler == sa.bindparam("handler"), HD.c.decision_id == DC.c.id),
    )
    .order_by(DC.c.id)
)
ADVANCE = (
    H.update()
    .where(H.c.name == sa.bindparam("b_name"), H.c.swept_id < sa.bindparam("b_swept"))
    .values(swept_id=sa.bindparam("b_swept"))
)
DUE = (
    sa.select(HD)
    .where(HD.c.status == PENDING, HD.c.next_try_at <= sa.bindparam("now"))
    .where(HD.c.handler.in_(sa.bindparam("names", expanding=True)))
    .order_by(HD.c.next_try_at)
    .limit(1)
    .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds the write lock instead
)
NEXT_DUE = (
    sa.select(sa.func.min(HD.c.next_try_at))
    .where(HD.c.status == PENDING)
    .where(HD.c.handler.in_(sa.bindparam("names", expanding=True)))
)


def _key(handler: str, decision_id: str) -> Any:
    return sa.and_(HD.c.handler == handler, HD.c.decision_id == decision_id)


class DeliveryStore:
    """Handler registrations and deliveries, in the database of a SQL store."""

    def __init__(self, engine: Engine) -> None:
        self._tables = SideTables(engine)
        self._engine = engine
        self._sqlite = self._tables.sqlite

    def _write(self) -> contextlib.AbstractContextManager[Connection]:
        """One write transaction; on SQLite it holds the write lock from the start."""
        return self._tables.write()

    def _rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        return self._tables.rows(statement, params)

    # -- handlers ------------------------------------------------------------------------

    def register(self, name: str, kind: str, outcome: TaskStatus, now: float, since: str) -> None:
        """Record a handler the first time it is seen; a known name is left as it is."""
        row = {
            "name": name,
            "kind": kind,
            "outcome": outcome.value,
            "first_seen_at": now,
            "swept_id": since,
        }
        with self._write() as conn:
            conn.execute(self._insert_new(H, ["name"]), [row])

    def handler(self, name: str) -> HandlerRecord | None:
        """The registered handler of that name, if any."""
        found = self._rows(sa.select(H).where(H.c.name == name))
        if not found:
            return None
        row = found[0]._mapping
        return HandlerRecord(
            row["name"], row["kind"], TaskStatus(row["outcome"]), row["first_seen_at"],
            row["swept_id"],
        )  # fmt: skip

    def to_sweep(self, kind: str, outcome: TaskStatus, decision_id: str) -> list[str]:
        """The handlers of this kind and outcome whose sweep has not reached the decision."""
        query = (
            sa.select(H.c.name)
            .where(H.c.kind == kind, H.c.outcome == outcome.value, H.c.swept_id < decision_id)
            .order_by(H.c.name)
        )
        return [row[0] for row in self._rows(query)]

    def advance(self, name: str, swept_id: str) -> None:
        """Move a handler's swept mark forward (never back: workers may race here)."""
        with self._write() as conn:
            conn.execute(ADVANCE, {"b_name": name, "b_swept": swept_id})

    # -- the walk over decisions -------------------------------------------------------

    def decision_page(self, after: str, size: int) -> list[str]:
        """The ids of up to ``size`` decisions after ``after``, in id order."""
        return [row[0] for row in self._rows(DECISION_PAGE, {"after": after, "size": size})]

    def undelivered(
        self, handler: str, kind: str, outcome: TaskStatus, after: str, through: str
    ) -> list[Found]:
        """Final decisions in (after, through] of the kind and outcome, not yet delivered."""
        params = {
            "handler": handler,
            "kind": kind,
            "outcome": outcome.value,
            "after": after,
            "through": through,
        }
        return [Found(row[0], row[1]) for row in self._rows(UNDELIVERED, params)]

    def add(self, handler: str, found: Sequence[Found], now: float) -> None:
        """Create pending deliveries; one another worker created first is left alone."""
        rows = [
            {
                "handler": handler,
                "decision_id": item.decision_id,
                "task_id": item.task_id,
                "status": PENDING,
                "attempts": 0,
                "next_try_at": now,
                "lease_owner": None,
                "created_at": now,
                "finished_at": None,
                "last_error": None,
            }
            for item in found
        ]
        if rows:
            with self._write() as conn:
                conn.execute(self._insert_new(HD, ["handler", "decision_id"]), rows)

    def _insert_new(self, table: sa.Table, key: list[str]) -> Any:
        if self._sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=key)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=key)

    # -- running deliveries ------------------------------------------------------------

    def claim(
        self, names: Sequence[str], owner: str, now: float, lease_seconds: float
    ) -> DeliveryRecord | None:
        """Take the most overdue pending delivery of these handlers, under a lease."""
        due = self.next_due(names)
        if due is None or due > now:
            return None  # an idle worker's look must not take SQLite's write lock
        with self._write() as conn:
            row = conn.execute(DUE, {"now": now, "names": list(names)}).first()
            if row is None:
                return None
            found = _delivery(row._mapping)
            record = replace(
                found,
                attempts=found.attempts + 1,
                lease_owner=owner,
                next_try_at=now + lease_seconds,
            )
            values = {
                "attempts": record.attempts,
                "lease_owner": owner,
                "next_try_at": record.next_try_at,
            }
            conn.execute(HD.update().where(_key(record.handler, record.decision_id)), values)
        return record

    def extend(self, record: DeliveryRecord, until: float) -> bool:
        """Push the lease of a running delivery out; False if it is no longer this run's."""
        with self._write() as conn:
            result = conn.execute(
                HD.update()
                .where(_key(record.handler, record.decision_id), *_still_running(record))
                .values(next_try_at=until)
            )
        return bool(result.rowcount == 1)

    def succeed(self, record: DeliveryRecord, now: float) -> bool:
        """Mark delivered; False if it already was (by a run whose lease had lapsed)."""
        with self._write() as conn:
            result = conn.execute(
                HD.update()
                .where(_key(record.handler, record.decision_id), HD.c.status == PENDING)
                .values(status=DeliveryStatus.DELIVERED.value, finished_at=now, last_error=None)
            )
        return bool(result.rowcount == 1)

    def fail(self, record: DeliveryRecord, error: str, retry_at: float | None, now: float) -> bool:
        """Schedule the next try at ``retry_at``, or with None give up; False if not this run's."""
        values: dict[str, Any] = {"last_error": error, "lease_owner": None}
        if retry_at is None:
            values.update(status=DeliveryStatus.FAILED.value, finished_at=now)
        else:
            values["next_try_at"] = retry_at
        with self._write() as conn:
            result = conn.execute(
                HD.update()
                .where(_key(record.handler, record.decision_id), *_still_running(record))
                .values(**values)
            )
        return bool(result.rowcount == 1)

    def next_due(self, names: Sequence[str]) -> float | None:
        """When the earliest pending delivery of these handlers may run."""
        if not names:
            return None
        found = self._rows(NEXT_DUE, {"names": list(names)})
        return float(found[0][0]) if found and found[0][0] is not None else None

    def for_task(self, task_id: str) -> list[DeliveryRecord]:
        """Every delivery of one task's decisions, oldest first."""
        query = sa.select(HD).where(HD.c.task_id == task_id).order_by(HD.c.created_at, HD.c.handler)
        return [_delivery(row._mapping) for row in self._rows(query)]

    def finished(self) -> list[DeliveryRecord]:
        """Every delivery that ended (delivered, or failed for good), by task."""
        query = (
            sa.select(HD)
            .where(HD.c.status != DeliveryStatus.PENDING.value)
            .order_by(HD.c.task_id, HD.c.created_at, HD.c.handler)
        )
        return [_delivery(row._mapping) for row in self._rows(query)]

    def failed(self, limit: int) -> list[DeliveryRecord]:
        """Deliveries whose handler gave up, the most recent first."""
        query = (
            sa.select(HD)
            .where(HD.c.status == DeliveryStatus.FAILED.value)
            .order_by(HD.c.finished_at.desc(), HD.c.decision_id.desc())
            .limit(limit)
        )
        return [_delivery(row._mapping) for row in self._rows(query)]

    def retry(self, record: DeliveryRecord, now: float) -> bool:
        """Give a delivery that failed for good a fresh set of attempts, due now.

        False if it is not failed (any more): another retry came first, or it
        never gave up. Its last error stays until the next attempt ends.
        """
        with self._write() as conn:
            result = conn.execute(
                HD.update()
                .where(
                    _key(record.handler, record.decision_id),
                    HD.c.status == DeliveryStatus.FAILED.value,
                )
                .values(
                    status=PENDING, attempts=0, next_try_at=now, lease_owner=None, finished_at=None
                )
            )
        return bool(result.rowcount == 1)

    def get(self, handler: str, decision_id: str) -> DeliveryRecord | None:
        """One delivery, if it exists."""
        found = self._rows(sa.select(HD).where(_key(handler, decision_id)))
        return _delivery(found[0]._mapping) if found else None


def _still_running(record: DeliveryRecord) -> tuple[Any, ...]:
    # The lease holder and attempt number fence out a run whose lease lapsed and
    # was taken over: only the current run may reschedule or extend.
    return (
        HD.c.status == PENDING,
        HD.c.lease_owner == record.lease_owner,
        HD.c.attempts == record.attempts,
    )


def _delivery(row: Any) -> DeliveryRecord:
    values = dict(row)
    values["status"] = DeliveryStatus(values["status"])
    return DeliveryRecord(**values)
