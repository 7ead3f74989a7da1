"""Copying an installation to another database (``placet migrate-store``).

Every row of every table moves as it is: ids, hashes, JSON text and floats
are copied as values, never re-encoded, so the audit chains verify on the
target exactly as on the source. The source is read in one snapshot and never
written; the target is written in one transaction, so a failed copy leaves it
as it was.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from placet.errors import StoreError, UsageError
from placet.store import schema
from placet.store.engines import make_engine
from placet.store.migrate import HEAD_REVISION, current_revision, ensure_schema
from placet.store.sqlite import sqlite_path

# Parents before children, so every foreign key finds its row.
TABLES = (
    schema.users,
    schema.api_tokens,
    schema.security_events,
    schema.tasks,
    schema.drafts,
    schema.decisions,
    schema.events,
    schema.audit_log,
    schema.audit_pending,
    schema.handlers,
    schema.handler_deliveries,
    schema.examples,  # on SQLite, its full-text index follows by trigger
    schema.notifications,  # the outbox: what was sent, what gave up, what is still to send
    schema.channel_health,
    schema.account_emails,  # where each account's e-mails go
    schema.link_uses,  # the signed links already used: single use survives the move
    schema.slack_posts,  # the Slack messages to update when their task is decided
    schema.provider_pace,  # each worker's pace against a hosted API (issue 22)
)
# Tables whose integer ids the target numbers itself, in the source's order.
RENUMBERED = (schema.audit_pending, schema.examples)
BATCH_SIZE = 1000

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in all


class TargetNotEmptyError(UsageError):
    """The target database already holds data; pass --force to replace it."""


def count_rows(conn: Connection) -> dict[str, int]:
    """How many rows each copied table holds."""
    return {
        table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        for table in TABLES
    }


def copy_store(
    source_url: str,
    target_url: str,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Copy every row to the target; return how many rows of each table were copied."""
    if batch_size < 1:
        raise UsageError("the batch size must be at least 1")
    if _database_of(source_url) == _database_of(target_url):
        raise UsageError(f"{source_url} is the database to copy from: name another to copy to")
    source, target = make_engine(source_url), make_engine(target_url)
    try:
        return _copy(source, target, force, batch_size, progress or (lambda *_: None))
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"the copy failed and wrote nothing: {exc}") from exc
    finally:
        source.dispose()
        target.dispose()


def _database_of(url: str) -> tuple[str, ...]:
    """What a URL points at, however it is spelled (a SQLite file by its real path)."""
    path = sqlite_path(url)
    if path is not None:
        return ("sqlite", os.path.realpath(path))
    parsed = sa.engine.make_url(url)
    host = parsed.host or "localhost"
    return (parsed.get_backend_name(), host, str(parsed.port or ""), parsed.database or "")


def _copy(
    source: Engine, target: Engine, force: bool, batch_size: int, progress: Progress
) -> dict[str, int]:
    with source.connect() as src:
        revision = current_revision(src)
        if revision != HEAD_REVISION:
            raise UsageError(
                f"the source database is at revision {revision or 'none (empty)'}, not "
                f"{HEAD_REVISION}: run `placet db upgrade` on it first"
            )
    ensure_schema(target)
    with _snapshot(source) as src, _transaction(target) as dst:
        totals = count_rows(src)
        held = {name: n for name, n in count_rows(dst).items() if n}
        if held and not force:
            what = ", ".join(f"{n} {name}" for name, n in held.items())
            raise TargetNotEmptyError(
                f"the target database is not empty ({what}); pass --force to replace its contents"
            )
        for table in reversed(TABLES):
            dst.execute(table.delete())
        for table in TABLES:
            copied = 0
            progress(table.name, copied, totals[table.name])
            for batch in _batches(src, table, batch_size):
                left = {"id"} if table in RENUMBERED else set()  # e.g. the audit queue, in order
                left.update(schema.DERIVED.get(table.name, ()))  # the target makes its own
                if left:
                    batch = [{k: v for k, v in row.items() if k not in left} for row in batch]
                dst.execute(table.insert(), batch)
                copied += len(batch)
                progress(table.name, copied, totals[table.name])
        copied_counts = count_rows(dst)
        if copied_counts != totals:
            raise StoreError(f"copied {copied_counts} rows but the source holds {totals}")
    return totals


def _batches(conn: Connection, table: sa.Table, size: int) -> Iterator[list[dict[str, Any]]]:
    """The table's rows in primary-key order, ``size`` at a time (keyset pagination)."""
    key = list(table.primary_key.columns)
    query = sa.select(table).order_by(*key).limit(size)
    last: tuple[Any, ...] | None = None
    while True:
        page = query if last is None else query.where(sa.tuple_(*key) > sa.tuple_(*last))
        found = [dict(row._mapping) for row in conn.execute(page)]
        if not found:
            return
        yield found
        last = tuple(found[-1][column.name] for column in key)


@contextlib.contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that reads one moment of the source and writes nothing."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")  # the driver itself runs in autocommit (sqlite.py)
        else:
            conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            yield conn
        finally:
            conn.rollback()


@contextlib.contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction on the target, committed only if the block succeeds."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
