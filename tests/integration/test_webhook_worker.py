"""``placet worker`` as a real subprocess sends the notifications, and a worker killed
(SIGKILL) mid-delivery loses nothing: the next worker sends every notification, at least
once, each with the id it always had. On SQLite and PostgreSQL, against a real receiver
on loopback that verifies every signature with the Standard Webhooks library."""

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
from tests.conformance import postgres
from tests.e2e.conftest import Background
from tests.integration.webhook_receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WAIT_SECONDS = 90.0  # the most a step may take; never asserted on
TASKS = 5


class Folder:
    """A working folder whose placet.toml sends to the receiver, and its database."""

    def __init__(self, folder: Path, url: str, receiver: Receiver) -> None:
        self.folder = folder
        (folder / "placet.toml").write_text(
            '[placet]\nlease_seconds = 1\nnotify = ["webhook:ops"]\n'
            '[kinds.welcome]\ntemplate = "Welcome {name}."\n'
            f'[channels.webhook.ops]\nurl = "{receiver.url}"\ntimeout = 2\n'
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
        self.env.update(
            PLACET_DATABASE_URL=url, PLACET_USER="tester", PLACET_WEBHOOK_OPS_SECRET=SECRET
        )
        os.environ.update(PLACET_DATABASE_URL=url, PLACET_WEBHOOK_OPS_SECRET=SECRET)
        try:
            settings = load_settings(folder)
        finally:
            del os.environ["PLACET_DATABASE_URL"], os.environ["PLACET_WEBHOOK_OPS_SECRET"]
        self.engine = Engine(open_store(url), settings)

    def worker(self) -> Background:
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", "worker", "--no-drafting", "--no-folder"],
            cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = Background(process)
        worker.expect(r"sending notifications to: webhook:ops")
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
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Folder, Receiver]]:
    with Receiver(SECRET) as receiver:
        if request.param == "sqlite":
            opened = Folder(tmp_path, f"sqlite:///{tmp_path / 'placet.db'}", receiver)
            yield opened, receiver
            opened.engine.close(store_too=True)
            return
        with postgres.fresh_schema(str(tmp_path)) as url:
            opened = Folder(tmp_path, url, receiver)
            yield opened, receiver
            opened.engine.close(store_too=True)


def stop(worker: Background) -> None:
    worker.process.send_signal(signal.SIGTERM)
    code, _ = worker.finish(timeout=60)
    assert code == 0, "".join(worker.seen)


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing_and_keeps_every_id(
    folder: tuple[Folder, Receiver],
) -> None:
    place, receiver = folder
    tasks = [
        place.engine.propose("welcome", {"name": f"N{n}"}, "ana", f"Welcome N{n}.")
        for n in range(TASKS)
    ]
    ids_before = {n.id for n in place.notifications()}
    assert len(ids_before) == TASKS
    receiver.answer(204, delay=30.0)  # the first message: the receiver takes its time
    worker = place.worker()
    try:
        (first,) = receiver.wait_for(1)
    finally:
        worker.process.send_signal(signal.SIGKILL)  # mid-delivery: no answer yet
        worker.kill()
    sending = next(n for n in place.notifications() if n.webhook_id == first.id)
    assert (sending.status, sending.attempts) == (DeliveryStatus.PENDING, 1)
    worker = place.worker()
    try:
        delivered = place.wait_until_delivered(TASKS)
    finally:
        stop(worker)
    assert {n.id for n in delivered} == ids_before  # nothing lost, nothing new
    arrived = Counter(request.id for request in receiver.requests)
    assert set(arrived) == {n.webhook_id for n in delivered}  # every one arrived...
    assert arrived[first.id] == 2  # ...the one cut off twice, under the same id
    assert all(request.verified for request in receiver.requests)
    again = next(n for n in delivered if n.webhook_id == first.id)
    assert again.attempts == 2 and again.last_code == 204
    bodies = {request.id: request.body for request in receiver.requests}
    assert all(bodies[n.webhook_id] == n.body.encode() for n in delivered)
    assert {request.json["data"]["task_id"] for request in receiver.requests} == {
        task.id for task in tasks
    }
