"""The processes tests/integration/test_crashes.py kills: workers, deciders, executors.

    python -m tests.integration.crash_actors ROLE DATABASE_URL LOG_FILE NAME

* ``worker``: ``placet.engine.worker.Worker`` with a slow fake provider (a draft takes
  about half a second, so kills land mid-draft), stopping on SIGTERM as
  ``placet worker`` does;
* ``decider``: what an API process does for reviewers: picks a task awaiting
  review and approves, edits, revises or rejects it; after each decision
  commits it appends ``decided TASK DECISION`` to its log;
* ``executor``: runs each approved call once: ``Engine.start_execution``
  first, then the side effect (a line ``effect TASK`` in its log), then the
  outcome is recorded.

Every actor uses a short lease, so a killed worker's task comes back quickly.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest, Engine
from placet.engine.worker import Worker
from placet.errors import ConflictError, InvalidTransitionError, StoreError
from placet.providers.base import Chunk, CompletionRequest
from placet.store import open_store
from placet.testing import FakeProvider, person

KIND = TaskKind(
    name="crash_email", template="Write a short onboarding email to {name}.", max_attempts=3
)
LEASE_SECONDS = 2.0
WORD_SECONDS = 0.05


class SlowProvider(FakeProvider):
    """FakeProvider, a word every 50 ms: a draft is long enough to be killed in."""

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """The fake answer, slowly."""
        for chunk in super().stream(request):
            time.sleep(WORD_SECONDS)
            yield chunk


def engine_for(url: str) -> Engine:
    """An engine on the shared database with the slow provider and a short lease."""
    settings = Settings(database_url=url, kinds={KIND.name: KIND}, lease_seconds=LEASE_SECONDS)
    provider = SlowProvider()
    return Engine(open_store(url), settings, provider_for=lambda _model: provider)


class Log:
    """An append-only log; a line is in the kernel once ``write`` returns, kill or not."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def line(self, text: str) -> None:
        """Append one line."""
        os.write(self._fd, (text + "\n").encode())


def run_worker(engine: Engine, log: Log, name: str) -> None:
    """Draft until SIGTERM, which lets the current draft finish (as ``placet worker``)."""
    worker = Worker(engine, name=name, report=lambda message: log.line(f"worker {message}"))
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()
    log.line("worker stopped")


def run_decider(engine: Engine, log: Log, name: str, stop: threading.Event) -> None:
    """Decide on drafts awaiting review, at random, until stopped."""
    rng = random.Random(name)
    token = engine.store.change_token()
    while not stop.is_set():
        waiting = engine.list_tasks(TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), limit=20))
        if not waiting:
            token = engine.store.wait_for_change(token, 0.5)
            continue
        task = rng.choice(waiting)
        kind = rng.choices(list(DecisionKind), weights=[5, 2, 2, 1])[0]
        request = DecisionRequest(
            task.id, kind, person(name), draft_id=task.current_draft_id,
            expected_version=task.version,
            text="Edited by a person." if kind is DecisionKind.EDIT else None,
            feedback="Warmer, please." if kind is DecisionKind.REVISE else None,
            reason="Not for us." if kind is DecisionKind.REJECT else None,
        )  # fmt: skip
        try:
            decided = engine.decide(request)
        except ConflictError:
            continue  # another decider was first
        last = engine.detail(decided.id).decisions[-1]
        log.line(f"decided {decided.id} {last.id}")


def run_executor(engine: Engine, log: Log, name: str, stop: threading.Event) -> None:
    """Run each approved call once, until stopped."""
    token = engine.store.change_token()
    while not stop.is_set():
        started_any = False
        for task in engine.list_tasks(TaskFilter(statuses=(TaskStatus.APPROVED,), limit=500)):
            if any(e.type == "execution_started" for e in engine.store.events(task.id)):
                continue
            try:
                engine.start_execution(task.id, name, f"effect-{task.id}")
            except (ConflictError, InvalidTransitionError):
                continue  # started by someone else, now or before a crash
            log.line(f"effect {task.id}")  # the side effect itself: runs at most once
            engine.record(task.id, name, "execution_finished", {"ok": True})
            started_any = True
        if not started_any:
            token = engine.store.wait_for_change(token, 0.5)


def main(role: str, url: str, log_path: str, name: str) -> None:
    """Run one actor until it is stopped or killed."""
    engine = engine_for(url)
    log = Log(log_path)
    log.line(f"started {role} {name} {os.getpid()}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if role == "worker":
            run_worker(engine, log, name)
        elif role == "decider":
            run_decider(engine, log, name, stop)
        elif role == "executor":
            run_executor(engine, log, name, stop)
        else:
            raise SystemExit(f"unknown role {role}")
    except StoreError as exc:  # the database went away under us: exit, to be restarted
        log.line(f"store error {exc}")
    finally:
        engine.close()
        engine.store.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
