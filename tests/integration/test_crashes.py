"""Crashes under load on PostgreSQL: SIGKILL workers, deciders and executors at random.

Worker, decider and executor processes (``tests/integration/crash_actors.py``)
share one PostgreSQL schema. For a bounded time, a random one is SIGKILLed at
a random moment and a fresh one started in its place; then the survivors run
until every task is finished. Then nothing may be lost or doubled:

* every decision a decider saw committed is in the store;
* no task is left in drafting past its lease (every task is finished);
* no approved call ran twice (its side effect is logged once at most);
* no attempt was drafted twice;
* every audit chain verifies.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import Event, TaskStatus
from placet.engine import Engine
from placet.engine.auditing import verify_store
from placet.store.sql import SqlStore
from tests.conformance import postgres as pg
from tests.integration import crash_actors
from tests.integration.crash_actors import KIND, engine_for

ROOT = Path(__file__).resolve().parents[2]
TASKS = 40
CHAOS_SECONDS = 15.0
MAX_KILLS = 16
SETTLE_SECONDS = 40.0
FINAL = {TaskStatus.APPROVED, TaskStatus.REJECTED}
ROLES = {"worker": 3, "decider": 2, "executor": 2}


@dataclass
class Actor:
    """One running actor process and its log."""

    role: str
    name: str
    log: Path
    process: subprocess.Popen[bytes]


@dataclass
class Cast:
    """Starts, kills and replaces actors; remembers every log."""

    url: str
    folder: Path
    actors: list[Actor] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    started: int = 0
    killed: set[str] = field(default_factory=set)  # names of the actors killed

    def start(self, role: str) -> Actor:
        self.started += 1
        name = f"{role}-{self.started}"
        log = self.folder / f"{name}.log"
        with (self.folder / f"{name}.err").open("wb") as errors:  # the child keeps its own copy
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.crash_actors", role, self.url,
                 str(log), name],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )  # fmt: skip
        actor = Actor(role, name, log, process)
        self.actors.append(actor)
        self.logs.append(log)
        return actor

    def kill_one(self, rng: random.Random) -> Actor:
        victim = rng.choice(self.actors)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        self.killed.add(victim.name)
        self.actors.remove(victim)
        return self.start(victim.role)

    def stop_all(self) -> None:
        for actor in self.actors:
            actor.process.send_signal(signal.SIGTERM)
        for actor in self.actors:
            try:
                actor.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                actor.process.kill()
                actor.process.wait()

    def lines(self, prefix: str) -> list[list[str]]:
        found = []
        for log in self.logs:
            if log.exists():
                found += [line.split() for line in log.read_text().splitlines()]
        return [words[1:] for words in found if words and words[0] == prefix]


@pytest.fixture
def cast(tmp_path: Path) -> Iterator[Cast]:
    with pg.fresh_schema() as url:
        crew = Cast(url, tmp_path)
        try:
            yield crew
        finally:
            crew.stop_all()


def test_sigkills_lose_nothing_and_double_nothing(cast: Cast) -> None:
    engine = engine_for(cast.url)
    store = engine.store
    assert isinstance(store, SqlStore)
    try:
        ids = [engine.submit(KIND.name, {"name": f"user{n}"}, "dev").id for n in range(TASKS)]
        for role, count in ROLES.items():
            for _ in range(count):
                cast.start(role)
        rng = random.Random(os.environ.get("PLACET_CRASH_SEED", "4"))
        kills, chaos_ends = 0, time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < chaos_ends and kills < MAX_KILLS:
            time.sleep(rng.uniform(0.2, 1.2))
            cast.kill_one(rng)
            kills += 1
        assert kills >= 8
        settled = _wait_until_finished(store, ids, time.monotonic() + SETTLE_SECONDS, cast.killed)
        cast.stop_all()
        assert settled, _statuses(store, ids)
        _check_nothing_lost_or_doubled(cast, store, ids)
    finally:
        engine.close()
        store.close()


def _wait_until_finished(
    store: SqlStore, ids: list[str], deadline: float, killed: set[str]
) -> bool:
    """True once every task is final and every approved call has run.

    A call whose executor was killed after marking it started, and before
    recording how it ended, stays started and unfinished: that is the promise
    (never run twice), so it counts as settled.
    """
    while time.monotonic() < deadline:
        tasks = [store.get_task(task_id) for task_id in ids]
        if all(task.status in FINAL for task in tasks) and all(
            _execution_settled(store.events(task.id), killed)
            for task in tasks
            if task.status is TaskStatus.APPROVED
        ):
            return True
        time.sleep(0.5)
    return False


def _execution_settled(events: list[Event], killed: set[str]) -> bool:
    if any(e.type == "execution_finished" for e in events):
        return True
    return any(e.type == "execution_started" and e.actor in killed for e in events)


def _statuses(store: SqlStore, ids: list[str]) -> Counter[str]:
    return Counter(store.get_task(task_id).status.value for task_id in ids)


def _check_nothing_lost_or_doubled(cast: Cast, store: SqlStore, ids: list[str]) -> None:
    decided = cast.lines("decided")
    assert len(decided) >= TASKS  # every task was decided at least once
    for task_id, decision_id in decided:
        assert decision_id in {d.id for d in store.detail(task_id).decisions}
    effects = Counter(task_id for (task_id,) in cast.lines("effect"))
    assert effects and max(effects.values()) == 1, effects.most_common(3)
    now = time.time()
    for task_id in ids:
        detail = store.detail(task_id)
        task = detail.task
        assert not (task.status is TaskStatus.DRAFTING and (task.lease_expires_at or 0) < now)
        attempts = [draft.attempt for draft in detail.drafts]
        assert len(attempts) == len(set(attempts)), (task_id, attempts)
        started = [e for e in detail.events if e.type == "execution_started"]
        assert len(started) == (1 if task.status is TaskStatus.APPROVED else 0)
        if task.status is TaskStatus.APPROVED:
            assert effects[task_id] <= 1
    report = verify_store(Engine(store, Settings()))
    assert report.ok, report.problems[:5]
    assert report.tasks == TASKS


def test_sigterm_lets_a_worker_finish_its_draft(cast: Cast) -> None:
    engine = engine_for(cast.url)
    try:
        task = engine.submit(KIND.name, {"name": "Rahul"}, "dev")
        worker = cast.start("worker")
        deadline = time.monotonic() + 20
        while engine.get(task.id).status is not TaskStatus.DRAFTING:
            assert time.monotonic() < deadline, "the worker never claimed the task"
            time.sleep(0.02)
        worker.process.send_signal(signal.SIGTERM)  # mid-draft: a draft takes ~0.5 s
        assert worker.process.wait(timeout=20) == 0
        assert engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
        assert "worker stopped" in worker.log.read_text()
    finally:
        engine.close()
        engine.store.close()


def test_the_actors_module_is_importable() -> None:
    assert crash_actors.LEASE_SECONDS < 5  # killed workers' tasks come back quickly
