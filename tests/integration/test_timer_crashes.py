"""Sweepers killed with SIGKILL mid-sweep: no reminder is lost, none is sent twice.

Each firing is one compare-and-set transaction on its task, so a killed
sweeper either recorded a reminder or did not; the next sweeper (or the same,
restarted) carries on from the task's events. Reminders fall due every second
while sweepers are killed and restarted at random moments.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from placet.config import Settings
from placet.domain.models import TaskKind
from placet.engine import Engine
from placet.store.sql import SqlStore
from placet.testing import FakeProvider

NAG = TaskKind(name="nag", template="A note about {topic}.", remind_after=1.0)
SWEEPER = """
import sys, time
from placet.config import Settings
from placet.domain.models import TaskKind
from placet.engine import Engine
from placet.store.sql import SqlStore
from placet.testing import FakeProvider
kind = TaskKind(name="nag", template="A note about {topic}.", remind_after=1.0)
url = sys.argv[1]
engine = Engine(SqlStore(url), Settings(database_url=url, kinds={"nag": kind}),
                provider_for=lambda _m: FakeProvider())
print("ready", flush=True)
while True:
    engine.fire_timers(limit=20)
"""


def make_engine(url: str) -> Engine:
    settings = Settings(database_url=url, kinds={"nag": NAG})
    return Engine(SqlStore(url), settings, provider_for=lambda _model: FakeProvider())


def test_killed_sweepers_lose_no_reminder_and_send_none_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'placet.db'}"
    engine = make_engine(url)
    try:
        task_ids = []
        for index in range(60):
            task = engine.submit("nag", {"topic": f"t{index}"}, "rita", claim_as="w")
            task_ids.append(engine.draft(task, "w").id)
        chance = random.Random(7)
        for _ in range(12):
            sweeper = subprocess.Popen(
                [sys.executable, "-c", SWEEPER, url], stdout=subprocess.PIPE, text=True
            )
            assert sweeper.stdout is not None and sweeper.stdout.readline().strip() == "ready"
            time.sleep(chance.uniform(0.05, 0.4))
            sweeper.send_signal(signal.SIGKILL)
            sweeper.wait(10)
            sweeper.stdout.close()
        now = time.time()
        engine.fire_timers(now, limit=1000)  # what any sweeper does next
        for task_id in task_ids:
            events = engine.task_events(task_id)
            since = next(e.created_at for e in events if e.type == "save_draft")
            numbers = [e.payload["number"] for e in events if e.type == "reminder"]
            assert numbers == sorted(set(numbers)), numbers  # none twice, none out of order
            assert numbers and numbers[-1] == int(now - since), (numbers, now - since)  # none lost
            assert engine.get(task_id).due_at == since + (numbers[-1] + 1) * NAG.remind_after
    finally:
        engine.store.close()
