"""Database URLs and SQLAlchemy engines for the databases Placet runs on.

Users write ``sqlite:///placet.db`` or ``postgresql://user@host/db`` (also
``postgres://``); Placet always talks to PostgreSQL through psycopg 3, so
such a URL maps to SQLAlchemy's ``postgresql+psycopg`` dialect here, once.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from placet.errors import ConfigError

POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")
PSYCOPG_HINT = "PostgreSQL needs psycopg 3: pip install 'placet[postgres]'"


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for a database URL, or ConfigError naming what is accepted."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return parsed
    raise ConfigError(
        f"Placet cannot use the database {parsed.render_as_string()!r}: "
        "give sqlite:///FILE or postgresql://USER@HOST/DATABASE"
    )


def is_postgres(url: str) -> bool:
    """True when the URL names a PostgreSQL database."""
    return parse_url(url).get_backend_name() == "postgresql"


def libpq_url(url: URL) -> str:
    """The URL as libpq (and so psycopg) takes it, password included."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for the URL: SQLite tuned for small commits, or PostgreSQL."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        from placet.store.sqlite import make_sqlite_engine

        return make_sqlite_engine(parsed.render_as_string(hide_password=False),
                                  parsed.database or ":memory:")  # fmt: skip
    try:
        import psycopg  # noqa: F401  # the dialect imports it late; fail early and clearly
    except ImportError as exc:
        raise ConfigError(PSYCOPG_HINT) from exc
    # This engine serves migrations, accounts and copies; the store's hot path
    # has its own pool of psycopg connections. Few connections suffice here.
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=8)
