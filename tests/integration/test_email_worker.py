"""``placet worker`` as a real subprocess sends the e-mails, and a worker killed (SIGKILL)
while the SMTP server has a message but has not yet answered loses nothing: the next
worker sends every message, at least once, each under the Message-ID it always had.
On SQLite and PostgreSQL, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.config import load_settings
from placet.domain.deliveries import DeliveryStatus
from placet.domain.notifications import NotificationRecord
from placet.engine import Engine
from placet.engine.links import set_email
from placet.store import open_store
from tests.conformance import postgres
from tests.e2e.conftest import Background
from tests.integration.smtp_receiver import SmtpReceiver

KEY = "a-test-server-key-for-the-email-worker"
WAIT_SECONDS = 90.0  # the most a step may take; never asserted on
TASKS = 4


class Folder:
    """A working folder whose placet.toml mails ana and lea through the receiver."""

    def __init__(self, folder: Path, url: str, smtp: SmtpReceiver) -> None:
        self.folder = folder
        (folder / "placet.toml").write_text(
            '[placet]\nlease_seconds = 1\nnotify = ["email:ana", "email:lea"]\n'
            'base_url = "https://placet.example.com"\n'
            '[kinds.welcome]\ntemplate = "Welcome {name}."\n'
            f'[channels.email]\nsmtp_host = "{smtp.host}"\nsmtp_port = {smtp.port}\n'
            'security = "none"\nfrom = "placet@example.com"\ntimeout = 2\n'
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
        self.env.update(PLACET_DATABASE_URL=url, PLACET_USER="tester", PLACET_SECRET_KEY=KEY)
        os.environ.update(PLACET_DATABASE_URL=url, PLACET_SECRET_KEY=KEY)
        try:
            settings = load_settings(folder)
        finally:
            del os.environ["PLACET_DATABASE_URL"], os.environ["PLACET_SECRET_KEY"]
        self.engine = Engine(open_store(url), settings)
        for name in ("ana", "lea"):
            self.engine.accounts.add_user(name, "a long enough password", ["reviewer"])
            set_email(self.engine, name, f"{name}@example.com", "admin")

    def worker(self) -> Background:
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", "worker", "--no-drafting", "--no-folder"],
            cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = Background(process)
        worker.expect(r"sending notifications to: email")
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
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Folder, SmtpReceiver]]:
    with SmtpReceiver() as smtp:
        if request.param == "sqlite":
            opened = Folder(tmp_path, f"sqlite:///{tmp_path / 'placet.db'}", smtp)
            yield opened, smtp
            opened.engine.close(store_too=True)
            return
        with postgres.fresh_schema(str(tmp_path)) as url:
            opened = Folder(tmp_path, url, smtp)
            yield opened, smtp
            opened.engine.close(store_too=True)


def stop(worker: Background) -> None:
    worker.process.send_signal(signal.SIGTERM)
    code, _ = worker.finish(timeout=60)
    assert code == 0, "".join(worker.seen)


@pytest.mark.slow
def test_a_worker_killed_mid_send_loses_no_email_and_keeps_every_message_id(
    folder: tuple[Folder, SmtpReceiver],
) -> None:
    place, smtp = folder
    for n in range(TASKS):
        place.engine.propose("welcome", {"name": f"N{n}"}, "tester", f"Welcome N{n}.")
    ids_before = {n.id for n in place.notifications()}
    assert len(ids_before) == TASKS * 2  # ana and lea, each task
    smtp.answer(None, delay=30.0)  # the first message: the server holds back its answer
    worker = place.worker()
    try:
        (first,) = smtp.wait_for_start(1)
    finally:
        worker.process.send_signal(signal.SIGKILL)  # the message handed over, no answer yet
        worker.kill()
    cut = next(n for n in place.notifications() if f"<msg_{n.id}@example.com>" == first)
    assert (cut.status, cut.attempts) == (DeliveryStatus.PENDING, 1)
    worker = place.worker()
    try:
        delivered = place.wait_until_delivered(TASKS * 2)
    finally:
        stop(worker)
    assert {n.id for n in delivered} == ids_before  # nothing lost, nothing new
    expected = {f"<msg_{n.id}@example.com>" for n in delivered}
    arrived = {got.message_id for got in smtp.messages}
    assert arrived == expected  # every one arrived, each under its own Message-ID
    assert smtp.started.count(first) == 2  # the one cut off was sent again, the same message
    again = next(n for n in delivered if n.id == cut.id)
    assert again.attempts == 2 and again.last_code == 250
    copies = [got for got in smtp.messages if got.message_id == first]
    assert all(got.recipients == copies[0].recipients for got in copies)
