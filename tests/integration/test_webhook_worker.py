"""``placet worker`` as a real subprocess sends the notifications, and a worker killed
(SIGKILL) mid-delivery loses nothing: the next worker sends every notification, at least
once, each with the id it always had. On SQLite and PostgreSQL, against a real receiver
on loopback that verifies every signature with the Standard Webhooks library."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.deliveries import DeliveryStatus
from tests.integration.sending_worker import DATABASES, SendingFolder, database_url, kill, stop
from tests.integration.webhook_receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TASKS = 5


class Folder(SendingFolder):
    """A working folder whose placet.toml sends to the receiver, and its database."""

    def __init__(self, folder: Path, url: str, receiver: Receiver) -> None:
        toml = (
            '[placet]\nlease_seconds = 1\nnotify = ["webhook:ops"]\n'
            '[kinds.welcome]\ntemplate = "Welcome {name}."\n'
            f'[channels.webhook.ops]\nurl = "{receiver.url}"\ntimeout = 2\n'
        )
        super().__init__(folder, url, toml, {"PLACET_WEBHOOK_OPS_SECRET": SECRET}, "webhook:ops")


@pytest.fixture(params=DATABASES)
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Folder, Receiver]]:
    with Receiver(SECRET) as receiver, database_url(request.param, tmp_path) as url:
        opened = Folder(tmp_path, url, receiver)
        yield opened, receiver
        opened.close()


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
        kill(worker)  # mid-delivery: no answer yet
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
