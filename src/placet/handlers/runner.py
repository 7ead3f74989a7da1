"""Running outcome handlers after commit, at least once (``placet worker --app``).

The loop: find newly committed final decisions (``placet.handlers.sweep``), claim a
due delivery under a lease, run its handler, and record how it went, both in
the delivery's row and as an audit event on the task (``handler_succeeded``
or ``handler_failed``). A handler that raises is tried again after a
doubling delay, up to its ``max_attempts``, then left ``failed`` for a person
to look at. A worker killed mid-handler stops renewing its lease, and another
worker (or this one, restarted) runs the delivery again with the same key.

Idle, the loop sleeps on the store's change signal, like the drafting worker:
a decision committed anywhere wakes it at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable

from placet.domain.deliveries import LOWEST_ID, DeliveryRecord, idempotency_key, retry_delay
from placet.domain.ids import id_floor
from placet.domain.models import JsonObject
from placet.domain.outcomes import outcome_of
from placet.engine import Engine
from placet.engine.worker import worker_name
from placet.errors import ConflictError, StoreError, UsageError
from placet.handlers.base import Delivery, Handler, call_handler
from placet.handlers.sweep import Sweeper
from placet.store.deliveries import DeliveryStore

Report = Callable[[str], None]
IDLE_SECONDS = 1.0  # the longest sleep: also when nothing signals, a due retry is noticed
MIN_IDLE_SECONDS = 0.1  # a due delivery another worker is claiming right now: look again soon
RECORD_TRIES = 5
ERROR_CHARS = 2000


class HandlerRunner:
    """Delivers final decisions to outcome handlers until stopped."""

    def __init__(
        self,
        engine: Engine,
        handlers: Iterable[Handler],
        *,
        name: str | None = None,
        report: Report = print,
        clock: Callable[[], float] = time.time,
        sweeper_for: Callable[[DeliveryStore, Handler], Sweeper] | None = None,
        lead: bool = True,
    ) -> None:
        self.engine = engine
        self.handlers = {handler.name: handler for handler in handlers}
        self.name = name or worker_name("handlers")
        self.deliveries = engine.deliveries()
        self._report = report
        self._clock = clock
        # The lead registers the handlers and finds new decisions; in a pool, the
        # others only claim and run the deliveries it makes.
        self._lead = lead
        make = sweeper_for or (lambda store, handler: Sweeper(store, handler, clock=clock))
        chosen = self.handlers.values() if lead else ()
        self._sweepers = [make(self.deliveries, handler) for handler in chosen]
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stop_requested = threading.Event()
        self.attempts_run = 0

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Deliver until ``stop`` (or ``self.stop()``) is set."""
        stop = stop or self.stop_requested
        self.register()
        token = self.engine.change_token()  # read before each sweep, so no commit slips by
        try:
            while not stop.is_set() and not self.stop_requested.is_set():
                self.sweep()
                if self.run_one() or self.behind:
                    continue
                token = self.engine.wait_for_change(token, self._idle_seconds())
        finally:
            self.close()

    def run_pending(self) -> int:
        """Deliver everything due now, then return how many attempts ran (for scripts, tests)."""
        self.register()
        before = self.attempts_run
        while True:
            self.sweep()
            if not self.run_one() and not self.behind:
                return self.attempts_run - before

    def stop(self) -> None:
        """Finish the current handler, then stop."""
        self.stop_requested.set()

    def close(self) -> None:
        """Close the event loop async handlers ran on."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def register(self) -> None:
        """Record each handler the first time it is seen, and warn about unknown kinds."""
        if not self._lead:
            return
        now = self._clock()
        for handler in self.handlers.values():
            register_handler(self.deliveries, handler, now)
            if handler.kind not in self.engine.kinds:
                self._report(
                    f"warning: handler {handler.name} waits for kind {handler.kind!r}, "
                    "which this process does not define"
                )

    def sweep(self) -> int:
        """Make the delivery rows of newly committed decisions; return how many."""
        return sum(sweeper.sweep() for sweeper in self._sweepers)

    @property
    def behind(self) -> bool:
        """True while a backlog of decisions is still being walked, a page limit at a time."""
        return any(sweeper.behind for sweeper in self._sweepers)

    def _idle_seconds(self) -> float:
        due = self.deliveries.next_due(list(self.handlers))
        if due is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(MIN_IDLE_SECONDS, due - self._clock()))

    # -- one delivery --------------------------------------------------------------------

    def run_one(self) -> bool:
        """Claim one due delivery and run it; False when none is due."""
        lease = self.engine.settings.lease_seconds
        # The kill switch: the handlers of a paused kind (or all, paused) hold their deliveries.
        controls = self.engine.controls
        live = [name for name, h in self.handlers.items() if controls.paused(h.kind) is None]
        if not live:
            return False
        record = self.deliveries.claim(live, self.name, self._clock(), lease)
        if record is None:
            return False
        self.attempts_run += 1
        handler = self.handlers[record.handler]
        if record.attempts > handler.max_attempts:  # the earlier tries never finished
            self._failed(handler, record, "the last attempt never finished (worker lost)")
            return True
        self._deliver(handler, record)
        return True

    def _deliver(self, handler: Handler, record: DeliveryRecord) -> None:
        delivery = Delivery(
            handler.name,
            record.task_id,
            record.decision_id,
            idempotency_key(handler.name, record.decision_id),
            record.attempts,
            handler.max_attempts,
        )
        self._report(f"handler {handler.name}: {record.task_id} (attempt {record.attempts})")
        try:
            lease = self.engine.settings.lease_seconds
            with _Heartbeat(self.deliveries, record, lease, self._clock):
                task = self.engine.get(record.task_id)
                detail = self.engine.detail(task.id)
                outcome = outcome_of(task, detail.decisions, detail.events)
                call_handler(handler, outcome, delivery, self._event_loop)
        except Exception as exc:
            self._failed(handler, record, repr(exc)[:ERROR_CHARS])
            return
        except BaseException:
            # Interrupted (Ctrl-C): hand the delivery back to be run again at once.
            self.deliveries.fail(record, "interrupted", self._clock(), self._clock())
            raise
        self._succeeded(handler, record, delivery)

    def _succeeded(self, handler: Handler, record: DeliveryRecord, delivery: Delivery) -> None:
        # The audit event first: the handler did run. A crash before the delivery
        # is marked then costs a second run (at least once), never a run the
        # trail does not show.
        self._record(record.task_id, "handler_succeeded", _payload(handler, record))
        if self.deliveries.succeed(record, self._clock()):
            self._report(f"handler {handler.name}: {record.task_id} delivered")

    def _failed(self, handler: Handler, record: DeliveryRecord, error: str) -> None:
        now = self._clock()
        gave_up = record.attempts >= handler.max_attempts
        retry_at = None if gave_up else now + retry_delay(record.attempts, handler.retry_delay)
        if not self.deliveries.fail(record, error, retry_at, now):
            return  # the lease lapsed and another run has it now
        if gave_up:
            self._report(f"handler {handler.name}: {record.task_id} failed for good: {error}")
        else:
            self._report(f"handler {handler.name}: {record.task_id} failed, will retry: {error}")
        payload = {**_payload(handler, record), "error": error, "next_try_at": retry_at}
        self._record(record.task_id, "handler_failed", payload)

    def _record(self, task_id: str, event_type: str, payload: JsonObject) -> None:
        """Append the audit event; the delivery row already holds the truth if this fails."""
        problem = record_event(self.engine, task_id, self.name, event_type, payload)
        if problem is not None:
            self._report(problem)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        # One loop for the runner's life: an async handler's clients (an HTTP
        # session, a database pool) may be bound to the loop they were made on.
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop


class HandlerPool:
    """Several runners on threads of one process, so handlers that wait (on a mail
    server, an HTTP API) overlap instead of queueing behind each other."""

    def __init__(
        self, engine: Engine, handlers: Iterable[Handler], threads: int, report: Report = print
    ) -> None:
        if threads < 1:
            raise UsageError(f"handler threads must be at least 1, not {threads}")
        chosen = list(handlers)
        base = worker_name("handlers")
        self.runners = [
            HandlerRunner(
                engine,
                chosen,
                name=base if threads == 1 else f"{base}-{index + 1}",
                report=report,
                lead=index == 0,
            )
            for index in range(threads)
        ]

    def run(self, stop: threading.Event | None = None) -> None:
        """Run every runner until ``stop`` is set; the first error stops all, then is raised."""
        stop = stop or threading.Event()
        failures: list[BaseException] = []

        def run_one(runner: HandlerRunner) -> None:
            try:
                runner.run(stop)
            except BaseException as exc:
                failures.append(exc)
                stop.set()

        helpers = [
            threading.Thread(target=run_one, args=(runner,), name=f"placet-{runner.name}")
            for runner in self.runners[1:]
        ]
        for helper in helpers:
            helper.start()
        try:
            run_one(self.runners[0])
        finally:
            stop.set()  # the lead is done (stopped or failed): so are the others
            for helper in helpers:
                helper.join()
        if failures:
            raise failures[0]


def record_event(
    engine: Engine, task_id: str, actor: str, event_type: str, payload: JsonObject
) -> str | None:
    """Append a handler's audit event to its task; None, or why it could not be."""
    for _ in range(RECORD_TRIES):
        try:
            engine.record(task_id, actor, event_type, payload)
            return None
        except ConflictError:
            continue  # another event landed on the task first: read it again
        except StoreError as exc:
            return f"could not record {event_type} on {task_id}: {exc.message}"
    return f"could not record {event_type} on {task_id}: the task kept changing"


def register_handler(deliveries: DeliveryStore, handler: Handler, now: float) -> None:
    """Record a handler as first seen ``now``, unless it was seen before."""
    since = LOWEST_ID if handler.backfill else id_floor(now)
    deliveries.register(handler.name, handler.kind, handler.outcome, now, since)


def _payload(handler: Handler, record: DeliveryRecord) -> JsonObject:
    # "decision", not "decision_id": the audit reads an event with a decision_id
    # as the record of that decision itself.
    return {
        "handler": handler.name,
        "decision": record.decision_id,
        "idempotency_key": idempotency_key(handler.name, record.decision_id),
        "attempt": record.attempts,
    }


class _Heartbeat:
    """Keeps a running delivery's lease alive from a side thread until the handler returns."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        record: DeliveryRecord,
        lease: float,
        clock: Callable[[], float],
    ) -> None:
        self._deliveries = deliveries
        self._clock = clock
        self._record = record
        self._lease = lease
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="placet-lease", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self._lease / 3):
            try:
                if not self._deliveries.extend(self._record, self._clock() + self._lease):
                    return  # taken over after a lapse; that run now owns it
            except StoreError:
                continue  # the database blinked; try again on the next beat
