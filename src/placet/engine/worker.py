"""The drafting worker: claims queued tasks and drafts them until stopped."""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
from collections.abc import Callable

from placet.domain.models import Task, TaskStatus
from placet.engine import DRAFT_FAILURES, ChunkSink, Engine
from placet.engine.inflight import InFlight
from placet.errors import ConflictError, PlacetError
from placet.providers.base import Chunk
from placet.providers.pacing import paces, share_limits

Report = Callable[[str], None]


def worker_name(prefix: str = "worker") -> str:
    """A name unique to this process, for leases and the audit trail."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}"


SEAL_EVERY_SECONDS = 2.0  # how long new events may wait, at most, to join the global log
# How often due timers (reminders, escalations, deadlines) are looked for: a timer
# fires within this of its due time, with a worker running.
TIMERS_EVERY_SECONDS = 0.5
# A worker that wrote its pace this recently still drafts against that API's limits.
PEERS_WITHIN_SECONDS = 3 * SEAL_EVERY_SECONDS
MIN_WAIT_SECONDS = 0.005  # a timer due now is swept without spinning


class StoppedAtOnceError(Exception):
    """Raised inside a draft in flight when its worker was stopped at once (Ctrl-C
    twice): the engine hands the task back, and the draft is not saved."""


class Worker:
    """Drafts queued tasks, up to ``concurrency`` at once; a stop request lets the drafts
    in flight finish.

    With ``concurrency`` 1 the loop drafts on its own thread, as it always did. With more,
    ``concurrency`` drafting threads draft while the loop claims the next task (the store
    is synchronous, and a draft mostly waits on the network), never more at once than a
    model's own slots (``Settings.drafts_at_once``: one for a local model unless
    configured), and the loop keeps the leases of the drafts in flight alive.
    """

    def __init__(
        self,
        engine: Engine,
        name: str | None = None,
        report: Report = print,
        stream_to: Callable[[Task], ChunkSink | None] | None = None,
        concurrency: int = 1,
    ) -> None:
        self.engine = engine
        self.name = name or worker_name()
        self._report = report
        self._stream_to = stream_to  # where each task's draft streams, e.g. to the dashboard
        self.stop_requested = threading.Event()
        self.drafted = 0
        self._next_seal = 0.0
        self._next_timers = 0.0
        self.concurrency = concurrency
        self.in_flight = InFlight(concurrency, self._slots_for)
        self._counting = threading.Lock()
        self._stopped_at_once = threading.Event()
        self._published_paces = False
        self._next_renewal = 0.0
        self._claimed: queue.SimpleQueue[Task | None] = queue.SimpleQueue()  # to the drafters

    def run(self, max_tasks: int | None = None) -> None:
        """Draft tasks as they come, until stopped (or ``max_tasks`` are drafted)."""
        if self.concurrency > 1:
            self._run_many(max_tasks)
        else:
            self._run_one_at_a_time(max_tasks)
        with contextlib.suppress(PlacetError):  # the pace as it ended, for placet status
            self._publish_paces()

    def _run_one_at_a_time(self, max_tasks: int | None) -> None:
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

    # -- many drafts at once -------------------------------------------------------

    def _run_many(self, max_tasks: int | None) -> None:
        """Claim while there is room, each draft on its own thread. A first Ctrl-C lets
        the drafts in flight finish; a second hands them back and stops at once."""
        self.say_slots()
        self._start_drafters()
        try:
            self._claim_while_room(max_tasks)
            self._finish_in_flight()
        except KeyboardInterrupt:
            try:  # entered at once: a second Ctrl-C may come as soon as the first is said
                self.stop()
                self._report(
                    f"stopping: {len(self.in_flight)} draft(s) in flight finish first; "
                    "Ctrl-C again to hand them back and stop at once"
                )
                self._finish_in_flight()
            except KeyboardInterrupt:
                self.stop_at_once()
                raise
        self._stop_drafters()

    def _claim_while_room(self, max_tasks: int | None) -> None:
        token = self.engine.change_token()
        while not self.stop_requested.is_set():
            room = self.concurrency
            if max_tasks is not None:
                if self.drafted >= max_tasks:
                    return
                room = min(room, max_tasks - self.drafted)
            if not self.in_flight.wait_for_room(room, self._until_timers()):
                self._housekeeping()
                continue
            task = self.engine.claim(
                self.name, skip_kinds=self._kinds_without_slots(), drafting_now=self.in_flight.ids()
            )
            if task is None:
                self._housekeeping()
                token = self.engine.wait_for_change(token, self._until_timers())
                continue
            self._start(task)
            self._housekeeping()

    def say_slots(self) -> None:
        """Say which models draft fewer at once than the worker could (local ones)."""
        for model in sorted(set(self.engine.model_of_each_kind().values())):
            slots = self._slots_for(model)
            if slots < self.concurrency:
                self._report(
                    f"{model} drafts {slots} at a time (a model run in this process is "
                    f'CPU-bound; [concurrency] "{model}" = N in placet.toml changes it)'
                )

    def _slots_for(self, model: str) -> int:
        return self.engine.settings.drafts_at_once(model, self.concurrency)

    def _kinds_without_slots(self) -> frozenset[str]:
        full = self.in_flight.full_models()
        if not full:
            return frozenset()
        models = self.engine.model_of_each_kind()
        return frozenset(kind for kind, model in models.items() if model in full)

    def _start(self, task: Task) -> None:
        model = self.engine.model_of_each_kind().get(task.kind, "")
        self.in_flight.add(task, model)
        self._claimed.put(task)

    def _start_drafters(self) -> None:
        """One thread per slot, kept for the whole run: each keeps its own database
        connection and HTTP connection, which a thread per draft would open again."""
        for number in range(self.concurrency):
            thread = threading.Thread(target=self._drafter, name=f"placet-drafter-{number}")
            thread.daemon = True  # a stop at once does not wait for a draft stuck on the network
            thread.start()

    def _stop_drafters(self) -> None:
        for _ in range(self.concurrency):
            self._claimed.put(None)

    def _drafter(self) -> None:
        while (task := self._claimed.get()) is not None:
            self._draft_in_flight(task)

    def _draft_in_flight(self, task: Task) -> None:
        try:
            self._draft(task)
        except StoppedAtOnceError:
            pass  # handed back by stop_at_once (and by the engine): nothing more to say
        except PlacetError as exc:  # the database failed under it: the lease brings it back
            self._report(f"could not finish {task.id}: {exc.message}")
        finally:
            self.in_flight.remove(task.id)

    def _finish_in_flight(self) -> None:
        while not self.in_flight.wait_until_empty(self._until_timers()):
            self._housekeeping()

    def _housekeeping(self) -> None:
        self._renew_leases_when_due()
        self._seal_when_due()
        self._fire_timers_when_due()

    def _renew_leases_when_due(self) -> None:
        """Keep the leases of the drafts in flight alive while this process lives: a draft
        may wait its turn at a rate limit (providers/pacing.py) before its first token."""
        now = time.monotonic()
        if now < self._next_renewal:
            return
        lease = self.engine.settings.lease_seconds
        self._next_renewal = now + lease / 3
        until = time.time() + lease
        for task in self.in_flight.tasks():
            try:
                self.engine.store.extend_lease(task.id, self.name, until)
            except PlacetError as exc:  # the draft's own renewal, or the next round, tries again
                self._report(f"could not renew the lease of {task.id}: {exc.message}")

    def stop_at_once(self) -> None:
        """Hand every task in flight back to the queue now, without its draft."""
        self.stop_requested.set()
        self._stopped_at_once.set()
        tasks = self.in_flight.tasks()
        for task in tasks:
            self.engine.release(task, self.name, "the worker was stopped at once")
        self._report(f"stopped at once: {len(tasks)} task(s) handed back to the queue")

    def _sink_for(self, task: Task) -> ChunkSink | None:
        sink = self._stream_to(task) if self._stream_to else None
        if self.concurrency == 1:
            return sink  # Ctrl-C reaches the one draft as KeyboardInterrupt

        def checked(chunk: Chunk) -> None:
            if self._stopped_at_once.is_set():
                raise StoppedAtOnceError(task.id)
            if sink is not None:
                sink(chunk)

        return checked

    # -- housekeeping between drafts ------------------------------------------------

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
        """Log what was written meanwhile in the global audit log, every few seconds
        (and write this worker's pace against hosted APIs, for placet status)."""
        now = time.monotonic()
        if now < self._next_seal:
            return
        self._next_seal = now + SEAL_EVERY_SECONDS
        try:
            self.engine.seal_audit_log()
            self._publish_paces()
        except PlacetError as exc:  # the next idle moment tries again
            self._report(f"could not seal the audit log yet: {exc.message}")

    def _publish_paces(self) -> None:
        """Write what this process knows of each hosted API's limits, when it sent any;
        and read how many workers draft against each, so each spends only its share."""
        found = {pace.endpoint: pace.as_dict() for pace in paces() if pace.sent}
        if found or self._published_paces:
            self.engine.store.paces().publish(self.name, found, time.time())
            self._published_paces = bool(found)
        if found:
            workers: dict[str, set[str]] = {}
            for row in self.engine.provider_paces(PEERS_WITHIN_SECONDS):
                workers.setdefault(row.endpoint, set()).add(row.worker)
            share_limits(lambda endpoint: len(workers.get(endpoint, ())))

    def _draft(self, task: Task) -> None:
        self._report(f"drafting {task.id} ({task.kind}, attempt {task.attempt})")
        try:
            drafted = self.engine.draft(task, self.name, self._sink_for(task))
        except DRAFT_FAILURES as exc:  # the task is failed with the reason; on to the next
            self._report(f"failed {task.id}: {exc.message} (retry with: placet retry {task.id})")
            return
        except ConflictError as exc:
            self._report(f"gave up {task.id}: {exc.message}")
            return
        with self._counting:
            self.drafted += 1
        if drafted.status is TaskStatus.QUEUED:  # the supervisor sent it back (auto_revise)
            self._report(f"the supervisor sent {drafted.id} back for another draft: a check failed")
            return
        self._report(f"ready for review {drafted.id} (attempt {drafted.attempt})")

    def stop(self) -> None:
        """Finish the drafts in flight, then stop."""
        self.stop_requested.set()
