"""``placet worker`` as a real subprocess posts to Slack (the loopback Web API), and a
worker killed (SIGKILL) while Slack has not yet answered loses nothing: the next worker
posts that notification again, with the id it always had (in the message's metadata),
and every other one once. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.config import load_settings
from placet.domain.deliveries import DeliveryStatus
from placet.domain.notifications import NotificationRecord
from placet.engine import Engine
from placet.store import open_store
from placet.testing_slack import Call, LoopbackSlack
from tests.conformance import postgres
from tests.e2e.conftest import Background

TOKEN, SIGNING = "xoxb-worker", "signing-secret"
WAIT_SECONDS = 90.0  # the most a step may take; never asserted on
TASKS = 4


class Folder:
    """A working folder whose placet.toml posts to the loopback Slack, and its database."""

    def __init__(self, folder: Path, url: str, slack: LoopbackSlack) -> None:
        (folder / "placet.toml").write_text(
            '[placet]\nlease_seconds = 1\nnotify = ["slack:#reviews"]\n'
            '[kinds.welcome]\ntemplate = "Welcome {name}."\n'
            f'[channels.slack]\nbase_url = "{slack.base_url}"\ntimeout = 2\n'
        )
        secrets = {"PLACET_SLACK_BOT_TOKEN": TOKEN, "PLACET_SLACK_SIGNING_SECRET": SIGNING}
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
        self.env.update(PLACET_DATABASE_URL=url, PLACET_USER="tester", **secrets)
        saved = dict(os.environ)
        os.environ.update(PLACET_DATABASE_URL=url, **secrets)
        try:
            settings = load_settings(folder)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.engine = Engine(open_store(url), settings)

    def worker(self) -> Background:
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", "worker", "--no-drafting", "--no-folder"],
            cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = Background(process)
        worker.expect(r"sending notifications to: slack:#reviews")
        return worker

    def notifications(self) -> list[NotificationRecord]:
        found: list[NotificationRecord] = []
        for task in self.engine.iter_tasks():
            found += self.engine.notifications().for_task(task.id)
        return found

    def wait_until_delivered(self, count: int) -> list[NotificationRecord]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            found = self.notifications()
            if len(found) == count and all(n.status is DeliveryStatus.DELIVERED for n in found):
                return found
            assert time.monotonic() < deadline, f"not all delivered: {found}"
            time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def folder(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Folder, LoopbackSlack]]:
    with LoopbackSlack(TOKEN) as slack:
        if request.param == "sqlite":
            opened = Folder(tmp_path, f"sqlite:///{tmp_path / 'placet.db'}", slack)
            yield opened, slack
            opened.engine.close(store_too=True)
            return
        with postgres.fresh_schema(str(tmp_path)) as url:
            opened = Folder(tmp_path, url, slack)
            yield opened, slack
            opened.engine.close(store_too=True)


def message_id(call: Call) -> str:
    return str(call.args["metadata"]["event_payload"]["id"])


@pytest.mark.slow
def test_a_worker_killed_while_posting_to_slack_loses_nothing(
    folder: tuple[Folder, LoopbackSlack],
) -> None:
    place, slack = folder
    for n in range(TASKS):
        place.engine.propose("welcome", {"name": f"N{n}"}, "ana", f"Welcome N{n}.")
    ids_before = {n.webhook_id for n in place.notifications()}
    assert len(ids_before) == TASKS
    slack.slow(30.0)  # the first post: Slack takes its time, and the worker dies waiting
    worker = place.worker()
    try:
        (first,) = slack.wait_for("chat.postMessage", 1)
    finally:
        worker.process.send_signal(signal.SIGKILL)
        worker.kill()
    worker = place.worker()
    try:
        delivered = place.wait_until_delivered(TASKS)
    finally:
        worker.process.send_signal(signal.SIGTERM)
        code, _ = worker.finish(timeout=60)
        assert code == 0, "".join(worker.seen)
    assert {n.webhook_id for n in delivered} == ids_before  # nothing lost, nothing new
    posted = Counter(message_id(call) for call in slack.calls_to("chat.postMessage"))
    assert set(posted) == ids_before  # every one posted...
    assert posted[message_id(first)] == 2  # ...the one cut off twice, under the same id
    again = next(n for n in delivered if n.webhook_id == message_id(first))
    assert again.attempts == 2
    # Each task's message is kept once Slack accepted it, to be updated when decided.
    assert all(place.engine.slack_posts().for_task(n.task_id) for n in delivered)
