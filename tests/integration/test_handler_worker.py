"""``placet worker --app`` as a real subprocess runs an app's handlers after commit, at least once.

The app is a module in a scratch folder whose handlers append lines to a log
file; decisions come from this process (the SDK's engine) and from the
``placet approve`` command, while a worker runs and while none does. A
worker SIGKILLed mid-handler leaves the delivery to the next worker, which
runs it again with the same idempotency key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.deliveries import DeliveryStatus, idempotency_key
from placet.domain.models import DecisionKind, Task, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.store import open_store
from placet.testing import person
from tests.conformance import postgres
from tests.e2e.conftest import Background

KIND = TaskKind("welcome", template="Welcome {name}.", max_attempts=1)
WAIT_SECONDS = 90.0  # the most a step may take; never asserted on
CONFIG = """\
[placet]
lease_seconds = 1

[kinds.welcome]
template = "Welcome {name}."
max_attempts = 1
"""
APP = """\
import os
import time

import placet

client = placet.connect()


def log(line):
    fd = os.open(os.environ["HANDLER_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(fd, (line + "\\n").encode())
    os.close(fd)


@client.on_approved("welcome")
def send(outcome, key):
    attempt = placet.current_delivery().attempt
    log(f"start {outcome.task_id} {key} {attempt}")
    if outcome.input["name"] == "Hang" and attempt == 1:
        time.sleep(3600)  # the test kills the worker here
    log(f"sent {outcome.task_id} {key}")


@client.on_rejected("welcome")
async def note(outcome, key):
    log(f"rejected {outcome.task_id} {key}")
"""
SEND, NOTE = "handlers_app.send", "handlers_app.note"


class App:
    """The scratch folder with the app, its database, and how to run commands there."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.log = folder / "handlers.log"
        (folder / "placet.toml").write_text(CONFIG)
        (folder / "handlers_app.py").write_text(APP)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
        self.env.update(PLACET_DATABASE_URL=url, PLACET_USER="tester", HANDLER_LOG=str(self.log))
        settings = Settings(database_url=url, kinds={KIND.name: KIND})
        self.engine = Engine(open_store(url), settings)

    def worker(self, *options: str) -> Background:
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", "worker", "--app", "handlers_app:client",
             "--no-folder", *options],
            cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = Background(process)
        worker.expect(rf"running handlers( \(\d+ at a time\))?: ({SEND}, {NOTE}|{NOTE}, {SEND})")
        return worker

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "placet", *args],
            cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def waiting(self, name: str) -> Task:
        return self.engine.propose(KIND.name, {"name": name}, "dev", f"Welcome {name}.")

    def decide(self, name: str, kind: DecisionKind = DecisionKind.APPROVE) -> Task:
        task = self.waiting(name)
        reason = "Not now." if kind is DecisionKind.REJECT else None
        return self.engine.decide(DecisionRequest(task.id, kind, person("reviewer"), reason=reason))

    def key(self, handler: str, task: Task) -> str:
        return idempotency_key(handler, self.engine.detail(task.id).decisions[-1].id)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def wait_for(self, line: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while line not in self.lines():
            assert time.monotonic() < deadline, f"never logged {line!r}: {self.lines()}"
            time.sleep(0.05)


def stop(worker: Background) -> None:
    worker.process.send_signal(signal.SIGTERM)
    code, _ = worker.finish(timeout=60)
    assert code == 0, "".join(worker.seen)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    if request.param == "sqlite":
        opened = App(tmp_path, f"sqlite:///{tmp_path / 'placet.db'}")
        yield opened
        opened.engine.store.close()
        return
    with postgres.fresh_schema(str(tmp_path)) as url:
        opened = App(tmp_path, url)
        yield opened
        opened.engine.store.close()


@pytest.mark.slow
def test_every_decision_is_handled_once_whoever_made_it_and_whenever(app: App) -> None:
    worker = app.worker()
    try:
        approved = app.decide("Ada")
        rejected = app.decide("Bob", DecisionKind.REJECT)
        by_cli = app.waiting("Cy")
        assert app.cli("approve", by_cli.id).returncode == 0
        app.wait_for(f"sent {by_cli.id} {app.key(SEND, by_cli)}")
        app.wait_for(f"sent {approved.id} {app.key(SEND, approved)}")
        app.wait_for(f"rejected {rejected.id} {app.key(NOTE, rejected)}")
    finally:
        stop(worker)
    backlog = app.decide("Dee")  # no worker runs now
    worker = app.worker("--handler-threads", "3")
    try:
        app.wait_for(f"sent {backlog.id} {app.key(SEND, backlog)}")
    finally:
        stop(worker)
    sent = [line for line in app.lines() if line.startswith(("sent", "rejected"))]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 4  # each exactly once
    shown = app.cli("show", approved.id)
    assert shown.returncode == 0 and f"{SEND}  delivered  1 attempt" in shown.stdout


@pytest.mark.slow
def test_a_handler_killed_midway_runs_again_with_the_same_key(app: App) -> None:
    worker = app.worker()
    try:
        task = app.decide("Hang")
        key = app.key(SEND, task)
        app.wait_for(f"start {task.id} {key} 1")
    finally:
        worker.process.send_signal(signal.SIGKILL)
        worker.kill()
    worker = app.worker()
    try:
        app.wait_for(f"sent {task.id} {key}")
    finally:
        stop(worker)
    assert app.lines() == [f"start {task.id} {key} 1", f"start {task.id} {key} 2",
                           f"sent {task.id} {key}"]  # fmt: skip
    (delivery,) = app.engine.store.deliveries().for_task(task.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    succeeded = [e for e in app.engine.store.events(task.id) if e.type == "handler_succeeded"]
    assert len(succeeded) == 1 and succeeded[0].payload["idempotency_key"] == key
    assert verify_store(app.engine).ok
