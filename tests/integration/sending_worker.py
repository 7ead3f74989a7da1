"""A working folder that ``placet worker`` sends notifications from, as a real subprocess:
what the kill tests of each channel (webhooks, e-mail, Slack) share."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from placet.config import load_settings
from placet.domain.deliveries import DeliveryStatus
from placet.domain.notifications import NotificationRecord
from placet.engine import Engine
from placet.store import open_store
from tests.conformance import postgres
from tests.e2e.conftest import Background

WAIT_SECONDS = 90.0  # the most a step may take; never asserted on
DATABASES = ["sqlite", "postgresql"]  # the fixtures' params


class SendingFolder:
    """A folder with ``toml`` as its placet.toml on the database at ``url``; ``env`` holds
    the channel's secrets (for this process and the workers); ``sends_to`` is what a
    worker says it sends to once it is ready."""

    def __init__(
        self, folder: Path, url: str, toml: str, env: Mapping[str, str], sends_to: str
    ) -> None:
        self.folder = folder
        self.sends_to = sends_to
        (folder / "placet.toml").write_text(toml)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
        self.env.update(PLACET_DATABASE_URL=url, PLACET_USER="tester", **env)
        saved = dict(os.environ)
        os.environ.update(PLACET_DATABASE_URL=url, **env)
        try:
            settings = load_settings(folder)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.engine = Engine(open_store(url), settings)

    def worker(self) -> Background:
        """``placet worker`` sending notifications only, once it says it is."""
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", "worker", "--no-drafting", "--no-folder"],
            cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = Background(process)
        worker.expect(rf"sending notifications to: {self.sends_to}")
        return worker

    def notifications(self) -> list[NotificationRecord]:
        """Every notification of every task."""
        found: list[NotificationRecord] = []
        for task in self.engine.iter_tasks():
            found += self.engine.notifications().for_task(task.id)
        return found

    def wait_until_delivered(self, count: int) -> list[NotificationRecord]:
        """The notifications once there are ``count``, all delivered."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            found = self.notifications()
            if len(found) == count and all(n.status is DeliveryStatus.DELIVERED for n in found):
                return found
            assert time.monotonic() < deadline, f"not all delivered: {found}"
            time.sleep(0.1)

    def close(self) -> None:
        """Close the engine and its store."""
        self.engine.close(store_too=True)


@contextlib.contextmanager
def database_url(database: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database of that kind (``sqlite`` or ``postgresql``) for one test."""
    if database == "sqlite":
        yield f"sqlite:///{tmp_path / 'placet.db'}"
        return
    with postgres.fresh_schema(str(tmp_path)) as url:
        yield url


def kill(worker: Background) -> None:
    """SIGKILL: no clean-up, no handing back."""
    worker.process.send_signal(signal.SIGKILL)
    worker.kill()


def stop(worker: Background) -> None:
    """SIGTERM, and a clean exit."""
    worker.process.send_signal(signal.SIGTERM)
    code, _ = worker.finish(timeout=60)
    assert code == 0, "".join(worker.seen)
