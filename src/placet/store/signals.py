"""Change signals: how a waiter learns, cheaply, that something was committed.

SQLite: ``PRAGMA data_version`` on a connection that never writes changes when
any other connection commits. Reading it is a few microseconds, so a waiter
polls it every millisecond and wakes about a millisecond after the commit.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Protocol

from sqlalchemy.engine import Engine

from placet.errors import StoreError
from placet.store.sqlite import sqlite_path

POLL_SECONDS = 0.001


class ChangeSignal(Protocol):
    """Tells waiters that something was committed."""

    def token(self) -> int:
        """A value that changes whenever anything is committed."""
        ...

    def wait(self, token: int, timeout: float) -> int:
        """Block until the value differs from ``token`` or time runs out."""
        ...

    def close(self) -> None:
        """Release what the signal holds."""
        ...


class SqliteDataVersionSignal:
    """Polls ``PRAGMA data_version`` on a read-only connection per thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self._path, check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot watch {self._path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def token(self) -> int:
        """The database's data_version as this thread's connection sees it."""
        row = self._connection().execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def wait(self, token: int, timeout: float) -> int:
        """Poll until data_version moves or the timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.token()
            if current != token or time.monotonic() >= deadline:
                return current
            time.sleep(POLL_SECONDS)

    def close(self) -> None:
        """Close every connection the signal opened."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


class PollingSignal:
    """A fallback for databases without a cheaper signal: a clock tick."""

    def __init__(self, interval: float = 0.05) -> None:
        self._interval = interval

    def token(self) -> int:
        """A counter that advances every interval."""
        return int(time.monotonic() / self._interval)

    def wait(self, token: int, timeout: float) -> int:
        """Sleep one interval (or the timeout, if shorter)."""
        time.sleep(min(self._interval, max(timeout, 0.0)))
        return self.token()

    def close(self) -> None:
        """Nothing to release."""


def signal_for(engine: Engine) -> ChangeSignal:
    """The cheapest change signal the engine's database offers."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is not None:
        return SqliteDataVersionSignal(path)
    return PollingSignal()
