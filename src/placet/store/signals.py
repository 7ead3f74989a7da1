"""Change signals: how a waiter learns, cheaply, that something was committed.

(PostgreSQL's, LISTEN/NOTIFY with a polling fallback, is in ``pgnotify``.)

SQLite: ``PRAGMA data_version`` on a connection that never writes changes when
any other connection commits. Reading it is a few microseconds. On Linux a
waiter sleeps on an inotify watch of the ``-wal`` file, which every commit
writes to, and reads data_version only when the file was written (every
millisecond for a short while then, because the commit becomes visible a
moment after its last write), so an idle waiter costs next to nothing; a slow
safety poll covers anything the watch misses. Elsewhere it polls every
millisecond. Either way it wakes about a millisecond after the commit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import sqlite3
import sys
import threading
import time
from typing import Protocol

from placet.errors import StoreError

POLL_SECONDS = 0.001
# With a watch: after the WAL is written, poll every millisecond for this long
# (the commit lands after its last write, and at synchronous=FULL after an
# fsync too), then back off, doubling the pause up to the safety poll.
BURST_SECONDS = 0.01
SAFETY_POLL_SECONDS = 0.1


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


class _WalWatch:
    """An inotify watch on one file (Linux only): tells that it was written."""

    _IN_MODIFY = 0x2
    _IN_NONBLOCK_CLOEXEC = os.O_NONBLOCK | os.O_CLOEXEC

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._poll = select.poll()  # not select(): that fails for descriptors past 1023
        self._poll.register(fd, select.POLLIN)

    @classmethod
    def open(cls, path: str) -> _WalWatch | None:
        """A watch on ``path``, or None where inotify is missing or fails."""
        if not sys.platform.startswith("linux") or not os.path.exists(path):
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(cls._IN_NONBLOCK_CLOEXEC)
        except (OSError, AttributeError):
            return None
        if fd < 0:
            return None  # for example, out of inotify instances: poll instead
        if libc.inotify_add_watch(fd, os.fsencode(path), cls._IN_MODIFY) < 0:
            os.close(fd)
            return None
        return cls(fd)

    def wait(self, timeout: float) -> bool:
        """Block until the file is written or time runs out; True if it was written."""
        if not self._poll.poll(max(timeout, 0.0) * 1000):
            return False
        self.drain()
        return True

    def drain(self) -> None:
        """Forget the writes seen so far: one wake-up per wait is enough."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self._fd, 65536):
                pass

    def close(self) -> None:
        """Stop watching."""
        with contextlib.suppress(OSError):
            os.close(self._fd)


class SqliteDataVersionSignal:
    """Reads ``PRAGMA data_version`` on a read-only connection per thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._watches: list[_WalWatch] = []
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

    def _watch(self) -> _WalWatch | None:
        # Opened after this thread's connection exists, so the -wal file does too.
        if not hasattr(self._local, "watch"):
            opened = _WalWatch.open(self._path + "-wal")
            self._local.watch = opened
            if opened is not None:
                with self._lock:
                    self._watches.append(opened)
        watch: _WalWatch | None = self._local.watch
        return watch

    def wait(self, token: int, timeout: float) -> int:
        """Sleep until data_version moves or the timeout passes."""
        deadline = time.monotonic() + timeout
        self.token()  # opens this thread's connection (and so the -wal file) if needed
        watch = self._watch()
        if watch is not None:
            watch.drain()  # writes from before this wait are old news
        pause, fast_until = POLL_SECONDS, 0.0  # a commit may be landing as we start
        while True:
            # Read data_version after the watch exists and before every sleep, so
            # a commit is either seen here or wakes the sleep below.
            current = self.token()
            now = time.monotonic()
            if current != token or now >= deadline:
                return current
            if watch is None:
                time.sleep(min(POLL_SECONDS, deadline - now))
            elif watch.wait(min(pause, deadline - now)):
                pause, fast_until = POLL_SECONDS, time.monotonic() + BURST_SECONDS
            elif time.monotonic() >= fast_until:
                pause = min(pause * 2, SAFETY_POLL_SECONDS)

    def close(self) -> None:
        """Close every connection and watch the signal opened."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            for watch in self._watches:
                watch.close()
            self._watches.clear()
        self._local = threading.local()
