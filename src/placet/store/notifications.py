"""The notifications outbox after commit: claiming, recording each try, and channel health.

A notification row is written by the store's own backends in the transaction
of the change it tells of (``rows.notice_values``); everything after that is
here, through the SQLAlchemy engine of the same database, as the handlers'
deliveries are (``store/deliveries.py``, the same shape):

* ``claim`` takes the most overdue pending notification under a lease (``FOR
  UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock, taken with ``BEGIN
  IMMEDIATE``, serialises claimers) and counts the try; a worker killed while
  sending just stops, and once the lease has run out another takes the row,
  with the same id, so the receiver gets it at least once.
* ``succeed`` and ``fail`` record how a try went; ``fail`` is fenced by the
  lease holder and the try's number, so a try whose lease lapsed cannot
  reschedule what another worker now holds.
* ``channel_health`` keeps, per channel, since when its tries have failed.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from placet.domain.deliveries import DeliveryStatus
from placet.domain.notifications import ChannelHealth, NotificationRecord
from placet.store.schema import PENDING_NOTICE, channel_health, notifications
from placet.store.sidetables import SideTables

N, H = notifications, channel_health
PENDING, FAILED = DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value

# Both through the partial index of pending notifications, soonest first.
DUE = (
    sa.select(N)
    .where(PENDING_NOTICE, N.c.next_try_at <= sa.bindparam("now"))
    .order_by(N.c.next_try_at)
    .limit(1)
    .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds the write lock instead
)
NEXT_DUE = sa.select(sa.func.min(N.c.next_try_at)).where(PENDING_NOTICE)


class NotificationStore:
    """The notifications outbox and the channels' health, in the database of a SQL store."""

    def __init__(self, engine: Engine) -> None:
        self._tables = SideTables(engine)
        self._sqlite = self._tables.sqlite

    def _write(self) -> contextlib.AbstractContextManager[Connection]:
        return self._tables.write()

    def _rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        return self._tables.rows(statement, params)

    # -- sending -----------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the earliest pending notification may be tried."""
        found = self._rows(NEXT_DUE)
        return float(found[0][0]) if found and found[0][0] is not None else None

    def claim(self, owner: str, now: float, lease_seconds: float) -> NotificationRecord | None:
        """Take the most overdue pending notification under a lease, counting the try."""
        due = self.next_due()
        if due is None or due > now:
            return None  # an idle worker's look must not take SQLite's write lock
        with self._write() as conn:
            row = conn.execute(DUE, {"now": now}).first()
            if row is None:
                return None
            found = _record(row._mapping)
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
            conn.execute(N.update().where(N.c.id == record.id), values)
        return record

    def succeed(self, record: NotificationRecord, now: float, code: int | None) -> bool:
        """Mark delivered; False if it already was (by a try whose lease had lapsed)."""
        values = {
            "status": DeliveryStatus.DELIVERED.value,
            "finished_at": now,
            "last_error": None,
            "last_code": code,
            "lease_owner": None,
        }
        with self._write() as conn:
            result = conn.execute(
                N.update().where(N.c.id == record.id, N.c.status == PENDING).values(values)
            )
            if result.rowcount == 1:
                self._healthy(conn, record.channel, now)
        return bool(result.rowcount == 1)

    def fail(
        self,
        record: NotificationRecord,
        error: str,
        code: int | None,
        retry_at: float | None,
        now: float,
    ) -> bool:
        """Schedule the next try at ``retry_at``, or with None give up; False if not this try's."""
        values: dict[str, Any] = {"last_error": error, "last_code": code, "lease_owner": None}
        if retry_at is None:
            values.update(status=FAILED, finished_at=now)
        else:
            values["next_try_at"] = retry_at
        with self._write() as conn:
            result = conn.execute(
                N.update().where(N.c.id == record.id, *_still_running(record)).values(values)
            )
            if result.rowcount == 1:
                self._failing(conn, record.channel, now, error)
        return bool(result.rowcount == 1)

    def hand_back(self, record: NotificationRecord, now: float) -> None:
        """Give a try back undone (the worker is stopping): due again at once, uncounted."""
        values = {"next_try_at": now, "lease_owner": None, "attempts": record.attempts - 1}
        with self._write() as conn:
            conn.execute(N.update().where(N.c.id == record.id, *_still_running(record)), values)

    # -- reading and retrying ----------------------------------------------------------

    def get(self, notice_id: str) -> NotificationRecord | None:
        """One notification, if it exists."""
        found = self._rows(sa.select(N).where(N.c.id == notice_id))
        return _record(found[0]._mapping) if found else None

    def for_task(self, task_id: str) -> list[NotificationRecord]:
        """Every notification of one task, oldest first."""
        query = sa.select(N).where(N.c.task_id == task_id).order_by(N.c.id)
        return [_record(row._mapping) for row in self._rows(query)]

    def failed(self, limit: int) -> list[NotificationRecord]:
        """Notifications that gave up, the most recent first."""
        query = (
            sa.select(N)
            .where(N.c.status == FAILED)
            .order_by(N.c.finished_at.desc(), N.c.id.desc())
            .limit(limit)
        )
        return [_record(row._mapping) for row in self._rows(query)]

    def retry(self, notice_id: str, now: float) -> bool:
        """Give a notification that gave up a fresh set of tries, due now (same id).

        False if it is not failed (any more): another retry came first, or it
        never gave up. Its last error stays until the next try ends.
        """
        values = {
            "status": PENDING,
            "attempts": 0,
            "next_try_at": now,
            "lease_owner": None,
            "finished_at": None,
        }
        with self._write() as conn:
            result = conn.execute(
                N.update().where(N.c.id == notice_id, N.c.status == FAILED).values(values)
            )
        return bool(result.rowcount == 1)

    def undelivered(self) -> dict[tuple[str, str], int]:
        """How many notifications wait (pending) or gave up (failed), by channel."""
        query = (
            sa.select(N.c.channel, N.c.status, sa.func.count())
            .where(N.c.status.in_([PENDING, FAILED]))
            .group_by(N.c.channel, N.c.status)
        )
        return {(row[0], row[1]): int(row[2]) for row in self._rows(query)}

    # -- channel health ----------------------------------------------------------------

    def health(self) -> list[ChannelHealth]:
        """Every channel's health row, by channel."""
        return [
            ChannelHealth(**row._mapping) for row in self._rows(sa.select(H).order_by(H.c.channel))
        ]

    def _upsert(self) -> Any:
        if self._sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(H)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(H)

    def _healthy(self, conn: Connection, channel: str, now: float) -> None:
        """A try succeeded at ``now``: the channel is not failing (unless it failed since)."""
        insert = self._upsert()
        new = {"channel": channel, "failing_since": None, "last_ok_at": now, "failures": 0}
        later_failure = sa.and_(H.c.failing_since.is_not(None), H.c.failing_since > now)
        conn.execute(
            insert.values(new).on_conflict_do_update(
                index_elements=["channel"],
                set_={
                    "last_ok_at": sa.case((H.c.last_ok_at > now, H.c.last_ok_at), else_=now),
                    "failing_since": sa.case((later_failure, H.c.failing_since), else_=None),
                    "failures": sa.case((later_failure, H.c.failures), else_=0),
                },
            )
        )

    def _failing(self, conn: Connection, channel: str, now: float, error: str) -> None:
        """A try failed at ``now``: failing since then, unless it was already."""
        insert = self._upsert()
        new = {
            "channel": channel,
            "failing_since": now,
            "last_failed_at": now,
            "last_error": error,
            "failures": 1,
        }
        succeeded_since = sa.and_(H.c.last_ok_at.is_not(None), H.c.last_ok_at > now)
        conn.execute(
            insert.values(new).on_conflict_do_update(
                index_elements=["channel"],
                set_={
                    "failing_since": sa.case(
                        (H.c.failing_since.is_not(None), H.c.failing_since),
                        (succeeded_since, None),
                        else_=now,
                    ),
                    "last_failed_at": now,
                    "last_error": error,
                    "failures": sa.case((succeeded_since, H.c.failures), else_=H.c.failures + 1),
                },
            )
        )


def _still_running(record: NotificationRecord) -> tuple[Any, ...]:
    # The lease holder and the try's number fence out a try whose lease lapsed and
    # was taken over: only the current try may reschedule the notification.
    return (
        N.c.status == PENDING,
        N.c.lease_owner == record.lease_owner,
        N.c.attempts == record.attempts,
    )


def _record(row: Any) -> NotificationRecord:
    values = dict(row)
    values["status"] = DeliveryStatus(values["status"])
    return NotificationRecord(**values)
