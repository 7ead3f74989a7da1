"""The drafting worker: claims queued tasks and drafts them until stopped."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

from placet.domain.models import Task, TaskStatus
from placet.engine import DRAFT_FAILURES, ChunkSink, Engine
from placet.errors import ConflictError, PlacetError

Report = Callable[[str], None]


def worker_name(prefix: str = "worker") -> str:
    """A name unique to this process, for leases and the audit trail."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}"


SEAL_EVERY_SECONDS = 2.0  # how long new events may wait, at most, to join the global log
# How often due timers (reminders, escalations, deadlines) are looked for: a timer
# fires within this of its due time, with a worker running.
TIMERS_EVERY_SECONDS = 0.5
MIN_WAIT_SECONDS = 0.005  # a timer due now is swept without spinning


class Worker:
    """Drafts one task at a time; a stop request lets the current draft finish."""

    def __init__(
        self,
        engine: Engine,
        name: str | None = None,
        report: Report = print,
        stream_to: Callable[[Task], ChunkSink | None] | None = None,
    ) -> None:
        self.engine = engine
        self.name = name or worker_name()
        self._report = report
        self._stream_to = stream_to  # where each task's draft streams, e.g. to the dashboard
        self.stop_requested = threading.Event()
        self.drafted = 0
        self._next_seal = 0.0
        self._next_timers = 0.0

    def run(self, max_tasks: int | None = None) -> None:
        """Draft tasks as they come, until stopped (or ``max_tasks`` are drafted)."""
        token = self.engine.change_token()
        while not self.stop_requested.is_set():
            if max_tasks is not None and self.drafted >= max_tasks:
                return
            task = self.engine.claim(self.name)
            if task is None:
                self._seal_when_due()
                self._fire_timers_when_due()
                # Wake on any commit, and often enough for expired leases and due timers.
                token = self.engine.wait_for_change(token, self._until_timers())
                continue
            self._draft(task)
            self._seal_when_due()  # a worker that never idles still logs every few seconds
            self._fire_timers_when_due()

    def _fire_timers_when_due(self) -> None:
        """Fire the reminders, escalations and deadlines that are due: at least twice a
        second, and again the moment the next one known falls due."""
        now = time.monotonic()
        if now < self._next_timers:
            return
        self._next_timers = now + TIMERS_EVERY_SECONDS
        try:
            fired, next_due = self.engine.sweep_timers(look_ahead=TIMERS_EVERY_SECONDS)
        except PlacetError as exc:  # the next moment tries again; nothing fired is lost
            self._report(f"could not fire timers yet: {exc.message}")
            return
        if next_due is not None:  # wall clock to monotonic: sweep right when it is due
            self._next_timers = min(self._next_timers, now + max(0.0, next_due - time.time()))
        if fired:
            self._report(f"fired {fired} timer(s): reminders, escalations, deadlines")

    def _until_timers(self) -> float:
        """How long an idle worker may wait before the next timer sweep."""
        return max(
            MIN_WAIT_SECONDS, min(TIMERS_EVERY_SECONDS, self._next_timers - time.monotonic())
        )

    def _seal_when_due(self) -> None:
        """Log what was written meanwhile in the global audit log, every few seconds."""
        now = time.monotonic()
        if now < self._next_seal:
            return
        self._next_seal = now + SEAL_EVERY_SECONDS
        try:
            self.engine.seal_audit_log()
        except PlacetError as exc:  # the next idle moment tries again
            self._report(f"could not seal the audit log yet: {exc.message}")

    def _draft(self, task: Task) -> None:
        self._report(f"drafting {task.id} ({task.kind}, attempt {task.attempt})")
        try:
            sink = self._stream_to(task) if self._stream_to else None
            drafted = self.engine.draft(task, self.name, sink)
        except DRAFT_FAILURES as exc:  # the task is failed with the reason; on to the next
            self._report(f"failed {task.id}: {exc.message} (retry with: placet retry {task.id})")
            return
        except ConflictError as exc:
            self._report(f"gave up {task.id}: {exc.message}")
            return
        self.drafted += 1
        if drafted.status is TaskStatus.QUEUED:  # the supervisor sent it back (auto_revise)
            self._report(f"the supervisor sent {drafted.id} back for another draft: a check failed")
            return
        self._report(f"ready for review {drafted.id} (attempt {drafted.attempt})")

    def stop(self) -> None:
        """Finish the current draft, then stop."""
        self.stop_requested.set()
