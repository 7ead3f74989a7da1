"""Engine set-up: SQLite pragmas and transaction control."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.errors import ConfigError

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


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
    engine = sa.create_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine, "connect", _configure_sqlite)
    return engine


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
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
