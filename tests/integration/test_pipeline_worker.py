"""A real ``placet worker`` advances pipelines, and a SIGKILL between submitting the next
step and recording it neither loses the step nor makes it twice (SQLite and PostgreSQL).

The app module the worker loads (``--app``) holds the worker, when told to, right after
the next step's submit commits and before anything else is recorded: the test kills it
there, then a second worker runs the delivery again. The step is keyed by its parent's
id, so the second run finds the first run's step; the parent names it once.
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
from placet.domain import pipelines
from placet.domain.models import DecisionKind, Task, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.store import open_store
from placet.testing import person
from tests.conformance import postgres
from tests.e2e.conftest import Background

WAIT_SECONDS = 90.0  # the most a step may take; never asserted on
HANDLER = "placet.pipeline.summarize"
SUMMARIZE = TaskKind(
    "summarize",
    template="Summarize: {text}",
    max_attempts=1,
    then=(("", "translate_fr"),),
    then_input=(("text", "{output}"),),
)
TRANSLATE = TaskKind("translate_fr", template="Translate to French: {text}", max_attempts=1)
CONFIG = """\
[placet]
lease_seconds = 1

[kinds.summarize]
template = "Summarize: {text}"
max_attempts = 1
then = "translate_fr"
then_input = { text = "{output}" }

[kinds.translate_fr]
template = "Translate to French: {text}"
max_attempts = 1
"""
APP = """\
import os
import time

import placet
from placet.engine import pipelines

client = placet.connect()

if os.environ.get("HOLD_AFTER_SUBMIT"):
    noted = pipelines._note_step

    def held(engine, detail, step):
        with open(os.environ["STEP_LOG"], "a") as log:
            log.write(step.id + "\\n")
        time.sleep(3600)  # the test kills the worker here
        noted(engine, detail, step)

    pipelines._note_step = held
"""


class App:
    """The scratch folder with the app, its database, and its workers."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.log = folder / "steps.log"
        (folder / "placet.toml").write_text(CONFIG)
        (folder / "pipeline_app.py").write_text(APP)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
        self.env.update(PLACET_DATABASE_URL=url, PLACET_USER="tester", STEP_LOG=str(self.log))
        kinds = {kind.name: kind for kind in (SUMMARIZE, TRANSLATE)}
        self.engine = Engine(open_store(url), Settings(database_url=url, kinds=kinds))

    def worker(self, hold: bool = False) -> Background:
        env = {**self.env, "HOLD_AFTER_SUBMIT": "1"} if hold else self.env
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", "worker", "--app", "pipeline_app:client",
             "--no-folder", "--no-drafting"],
            cwd=self.folder, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = Background(process)
        worker.expect(rf"running handlers: {HANDLER}")
        return worker

    def approved(self, text: str) -> Task:
        task = self.engine.propose("summarize", {"text": text}, "dev", f"Short: {text}")
        return self.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rev")))

    def steps(self) -> list[Task]:
        return [task for task in self.engine.iter_tasks() if task.kind == "translate_fr"]

    def wait_until(self, done: object, what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not done():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"never saw {what}"
            time.sleep(0.05)


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


def _nexts(app: App, task: Task) -> list[str]:
    events = app.engine.task_events(task.id)
    return [str(e.payload["step"]) for e in events if e.type == pipelines.NEXT_EVENT]


@pytest.mark.slow
def test_a_worker_killed_after_submitting_a_step_leaves_it_made_once(app: App) -> None:
    parent = app.approved("The meeting moved to Friday.")  # approved while no worker runs
    worker = app.worker(hold=True)
    try:
        app.wait_until(lambda: app.log.exists() and app.log.read_text().strip(), "the submit")
    finally:
        worker.process.send_signal(signal.SIGKILL)
        worker.kill()
    (made,) = app.log.read_text().split()
    assert [step.id for step in app.steps()] == [made]  # committed, not yet recorded
    assert _nexts(app, parent) == []
    worker = app.worker()
    try:
        app.wait_until(lambda: _nexts(app, parent), "the step recorded on its parent")
        later = app.approved("Lunch is at noon.")  # and a worker running advances at once
        app.wait_until(lambda: _nexts(app, later), "the second chain advance")
    finally:
        worker.process.send_signal(signal.SIGTERM)
        worker.finish(timeout=60)
    assert _nexts(app, parent) == [made]
    steps = sorted(app.steps(), key=lambda t: t.id)
    assert len(steps) == 2 and steps[0].id == made
    assert steps[0].input == {"text": "Short: The meeting moved to Friday."}
    succeeded = [e for e in app.engine.task_events(parent.id) if e.type == "handler_succeeded"]
    assert len(succeeded) == 1 and succeeded[0].payload["handler"] == HANDLER
    assert verify_store(app.engine).ok
