"""Schema migrations with Alembic, run on open when the schema is behind.

SQLite and PostgreSQL share one history. Two processes opening a new
database at once must not both create it: the upgrade runs under a lock
(SQLite's write lock; on PostgreSQL a transaction-scoped advisory lock), and
Alembic reads the revision again once the lock is held, so the second
process finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from placet.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

HEAD_REVISION = "0019"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any fixed 64-bit number that no other application in the database uses for
# its own advisory locks: "placet" in ASCII.
ADVISORY_LOCK_KEY = 0x706C61636574


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against Placet's migrations."""

    current: str | None  # None: an empty database
    head: str
    pending: tuple[str, ...]  # the revisions an upgrade would run, oldest first

    @property
    def up_to_date(self) -> bool:
        """True when no migration is pending."""
        return not self.pending


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


def refuse_unknown(current: str | None, script: ScriptDirectory | None = None) -> None:
    """Raise ``StoreError`` when a newer Placet migrated the database past what this one knows."""
    from alembic.script import ScriptDirectory

    script = script or ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {r.revision for r in script.walk_revisions()}:
        raise StoreError(
            f"the database is at schema revision {current}, which a newer Placet made; "
            f"this Placet knows revisions up to {HEAD_REVISION}: upgrade Placet to open it"
        )


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision``, holding a lock throughout."""
    from alembic import command

    with engine.connect() as conn:
        # Alembic's own error for it is a traceback about a revision it cannot find.
        refuse_unknown(current_revision(conn))
        if conn.dialect.name == "sqlite":
            _upgrade_sqlite(conn, lambda: command.upgrade(alembic_config(conn), revision))
            return
        if conn.dialect.name == "postgresql":
            # Released at commit; DDL is transactional there, so a second
            # process waits here and then finds the schema already made.
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        command.upgrade(alembic_config(conn), revision)
        conn.commit()


def _upgrade_sqlite(conn: Connection, run: Callable[[], None]) -> None:
    """Run migrations under SQLite's write lock, with foreign keys off.

    A migration that rebuilds a table (SQLite cannot alter a constraint)
    drops the old one, which with foreign keys on would delete or refuse its
    children. SQLite's own procedure: keys off outside the transaction, then
    ``foreign_key_check`` before commit. The connection goes back to the
    pool, so its keys are turned back on whatever happens.
    """
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        run()
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            conn.rollback()
            table, row, parent, _ = broken[0]
            raise StoreError(
                f"after migrating, {len(broken)} rows refer to rows that do not exist "
                f"(first: {table} row {row}, in {parent}); nothing was changed"
            )
        conn.commit()
    finally:
        conn.rollback()  # nothing left to roll back after a commit; needed before the PRAGMA
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def status(engine: Engine) -> SchemaStatus:
    """The current revision, the newest one, and what an upgrade would run."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    with engine.connect() as conn:
        current = current_revision(conn)
    refuse_unknown(current, script)
    newer = script.iterate_revisions("heads", current or "base")
    pending = tuple(reversed([revision.revision for revision in newer]))
    return SchemaStatus(current, script.get_current_head() or HEAD_REVISION, pending)


def alembic_config(conn: Connection | None = None) -> Config:
    """An Alembic configuration for Placet's migrations, bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config
