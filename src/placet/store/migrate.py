"""Schema migrations with Alembic, run on open when the schema is behind."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

HEAD_REVISION = "0002"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def ensure_schema(engine: Engine) -> None:
    """Upgrade the database to the newest revision if it is behind."""
    with engine.connect() as conn:
        if current_revision(conn) == HEAD_REVISION:
            return
    upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision``, holding the write lock throughout."""
    from alembic import command

    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Two processes opening a new database at once must not both create it.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        command.upgrade(alembic_config(conn), revision)
        conn.commit()


def alembic_config(conn: Connection | None = None) -> alembic.config.Config:  # type: ignore[name-defined]  # noqa: F821
    """An Alembic configuration for Placet's migrations, bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config
