"""The PostgreSQL change signal: LISTEN/NOTIFY, with polling as the fallback.

Every state change sends ``pg_notify(channel, task_id)`` in its own
transaction, so the notification is delivered exactly when the change is
visible. A thread per store listens on one dedicated connection (opened on
the first wait, so a command that never waits opens none) and wakes waiters
the moment a notification lands.

A notification can be lost: the listening connection drops, or a
transaction-mode pooler hands LISTEN to a server connection nobody reads.
So every ``POLL_SECONDS`` the thread also reads ``pg_current_snapshot()``,
which changes whenever any writing transaction has committed since the last
read (its xid leaves the in-progress list, or the horizon moves past it). A
change nobody announced still wakes waiters then; an idle database costs one
tiny query per interval and per process, not per waiter. While the listener
cannot connect at all, waiters are woken every interval to look for
themselves.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import Any

import psycopg
from psycopg import sql

POLL_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 10
_WAKE_EVENTS = select.POLLIN | select.POLLERR | select.POLLHUP


class PgNotifySignal:
    """A counter of the commits this process has heard of, and a way to wait on it."""

    def __init__(self, conninfo: str, channel: str, poll_seconds: float = POLL_SECONDS) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._poll_seconds = poll_seconds
        self._changes = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake_fds: tuple[int, int] | None = None  # a pipe that interrupts the poll on close

    # -- the ChangeSignal protocol ----------------------------------------------------

    def token(self) -> int:
        """The number of commits heard of; LISTEN is in place before it returns."""
        self._start()
        with self._cond:
            return self._changes

    def wait(self, token: int, timeout: float) -> int:
        """Block until a commit is heard of after ``token`` or time runs out."""
        self._start()
        with self._cond:
            self._cond.wait_for(
                lambda: self._changes != token or self._stop.is_set(), max(timeout, 0.0)
            )
            return self._changes

    def close(self) -> None:
        """Stop listening and close the connection."""
        with self._start_lock:
            self._stop.set()
            thread, fds = self._thread, self._wake_fds
        if fds is not None:
            os.write(fds[1], b"x")
        if thread is not None:
            thread.join()
        with self._cond:
            self._cond.notify_all()
        if fds is not None:
            for fd in fds:
                os.close(fd)
            self._wake_fds = None

    # -- the listening thread ----------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._stop.is_set():
                    self._wake_fds = os.pipe()
                    self._thread = threading.Thread(
                        target=self._run, name=f"placet-listen-{self._channel}", daemon=True
                    )
                    self._thread.start()
        # A token read before LISTEN is in place could miss the next commit.
        self._ready.wait(CONNECT_TIMEOUT_SECONDS)

    def _bump(self) -> None:
        with self._cond:
            self._changes += 1
            self._cond.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    application_name=listener_name(self._channel),
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._bump()  # commits may have landed while nobody listened
                    self._ready.set()
                    self._listen(conn)
            except psycopg.Error:
                # Not listening: wake waiters every interval so they look for
                # themselves, and try again.
                self._ready.set()
                self._bump()
                self._stop.wait(self._poll_seconds)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        assert self._wake_fds is not None
        poller = select.poll()  # not select(): that fails for descriptors past 1023
        poller.register(conn.fileno(), _WAKE_EVENTS)
        poller.register(self._wake_fds[0], select.POLLIN)
        snapshot = _snapshot(conn)
        next_poll = time.monotonic() + self._poll_seconds
        while not self._stop.is_set():
            pause = max(0.0, next_poll - time.monotonic())
            if poller.poll(pause * 1000) and _drain(conn):
                self._bump()
            if time.monotonic() >= next_poll:
                current = _snapshot(conn)
                # Notifications that arrived during the query wait in psycopg's
                # backlog, where the socket poll cannot see them.
                if _drain(conn) or current != snapshot:
                    self._bump()
                snapshot, next_poll = current, time.monotonic() + self._poll_seconds


def listener_name(channel: str) -> str:
    """The listening connection's application_name, for pg_stat_activity."""
    return f"placet-listen:{channel}"[:63]


def _drain(conn: psycopg.Connection[Any]) -> bool:
    """Read every notification already received; True if there was any."""
    heard = False
    for _ in conn.notifies(timeout=0):
        heard = True
    return heard


def _snapshot(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT pg_current_snapshot()::text").fetchone()
    return str(row[0]) if row else ""
