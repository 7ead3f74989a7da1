"""Transactions on the tables beside the Store port's hot path (deliveries, the audit log).

Through the SQLAlchemy engine of the same database. On SQLite a write takes
the same per-process turn as the store's own writers (``sqlite.writer_turn``)
and the write lock from its first statement (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from placet.errors import StoreError
from placet.store.sqlite import writer_key, writer_turn


class SideTables:
    """Read and write transactions on one database through SQLAlchemy."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._turn_key = writer_key(engine.url.database or "") if self.sqlite else None

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction; on SQLite it holds the write lock from the start."""
        turn = writer_turn(self._turn_key) if self._turn_key else contextlib.nullcontext()
        try:
            with turn, self.engine.connect() as conn:
                if self.sqlite:  # the driver runs in autocommit; Placet begins itself
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"database write failed: {exc}") from exc

    def rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """The rows of one read."""
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(statement, params or {}))
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"database read failed: {exc}") from exc
