"""Engine set-up: SQLite pragmas and transaction control."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.errors import ConfigError

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_SECONDS = 30
# A lifecycle step dirties ~8 pages (row, indexes, audit event), so SQLite's
# default checkpoint every 1,000 WAL pages came every ~40 items, and with
# synchronous=NORMAL each checkpoint costs two fsyncs: most of the commit time.
# 10,000 pages (~40 MB of WAL while connections are open) checkpoints about as
# often per item as a one-row-per-commit workload does with the default.
WAL_AUTOCHECKPOINT_PAGES = 10_000


def sqlite_path(url: str) -> str | None:
    """The file a ``sqlite:///`` URL names, or None for other databases."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return parsed.database or ":memory:"


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for the URL, with SQLite tuned for many small commits."""
    try:
        path = sqlite_path(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}") from exc
    if path is None:
        return sa.create_engine(url, pool_pre_ping=True)
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
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous_level()}")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()
