"""SQLite WAL checkpoints on a thread of their own, so that commits do not wait for them.

With ``synchronous=NORMAL`` a commit only writes to the WAL; the waiting is in
the checkpoint that copies the WAL back into the database file: it syncs the
WAL and then the database, and SQLite runs it inside whichever commit passed
the WAL's size limit. On the lifecycle benchmark that was one commit in ~300
waiting 15-20 ms, half of all the time spent committing (BENCHMARKS.md,
section 1). Here the writers count their commits and every so often wake a
thread that runs a PASSIVE checkpoint on its own connection: it copies what
is already committed, never blocks a writer or a reader, and releases the
GIL while SQLite works. The connections' own ``wal_autocheckpoint`` stays on
as the backstop (a process that never writes much, or a WAL this thread could
not catch up with, is checkpointed as before).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# ~10 WAL pages per lifecycle commit: a checkpoint every ~1,000 pages. Measured
# on the lifecycle benchmark against every 200, 600 and 2,000 commits: the
# smaller the WAL it finds, the less its sync costs the commits beside it.
COMMITS_PER_CHECKPOINT = 100
STOP_WAIT_SECONDS = 30  # a checkpoint in progress when the store closes finishes first


class WalCheckpointer:
    """Wakes a checkpointing thread every ``every`` commits; ``every=0`` turns it off.

    The thread starts on the first checkpoint due, so a short command that
    commits a few times never starts one.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], every: int) -> None:
        self._connect = connect
        self._every = every
        self._commits = 0
        self._due = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._pid = os.getpid()
        self.completed = 0  # checkpoints run to the end, for tests and diagnostics

    def committed(self) -> None:
        """Count one commit; wake the thread when a checkpoint is due."""
        if not self._every:
            return
        self._commits += 1  # writers call this in turn, holding this process's writer lock
        if self._commits >= self._every:
            self._commits = 0
            self._wake()

    def _wake(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's thread and locks are not ours
            self._pid, self._thread = os.getpid(), None
            self._due, self._start_lock = threading.Event(), threading.Lock()
        with self._start_lock:  # not started after close()
            if self._stopping:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="placet-wal-checkpoint", daemon=True
                )
                self._thread.start()
        self._due.set()

    def _run(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            log.warning("background WAL checkpoints are off: %s", exc)
            return
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._stopping:
                    return
                self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # another process's checkpoint, a closing file: next time
            log.debug("background WAL checkpoint skipped: %s", exc)
            return
        self.completed += 1

    def close(self) -> None:
        """Stop the thread, letting a checkpoint in progress finish."""
        with self._start_lock:
            self._stopping = True
            thread = self._thread
        self._due.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_WAIT_SECONDS)
