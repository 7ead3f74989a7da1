"""``placet worker`` as a real subprocess sends the e-mails, and a worker killed (SIGKILL)
while the SMTP server has a message but has not yet answered loses nothing: the next
worker sends every message, at least once, each under the Message-ID it always had.
On SQLite and PostgreSQL, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.deliveries import DeliveryStatus
from placet.engine.links import set_email
from tests.integration.sending_worker import DATABASES, SendingFolder, database_url, kill, stop
from tests.integration.smtp_receiver import SmtpReceiver

KEY = "a-test-server-key-for-the-email-worker"
TASKS = 4


class Folder(SendingFolder):
    """A working folder whose placet.toml mails ana and lea through the receiver."""

    def __init__(self, folder: Path, url: str, smtp: SmtpReceiver) -> None:
        toml = (
            '[placet]\nlease_seconds = 1\nnotify = ["email:ana", "email:lea"]\n'
            'base_url = "https://placet.example.com"\n'
            '[kinds.welcome]\ntemplate = "Welcome {name}."\n'
            f'[channels.email]\nsmtp_host = "{smtp.host}"\nsmtp_port = {smtp.port}\n'
            'security = "none"\nfrom = "placet@example.com"\ntimeout = 2\n'
        )
        super().__init__(folder, url, toml, {"PLACET_SECRET_KEY": KEY}, "email")
        for name in ("ana", "lea"):
            self.engine.accounts.add_user(name, "a long enough password", ["reviewer"])
            set_email(self.engine, name, f"{name}@example.com", "admin")


@pytest.fixture(params=DATABASES)
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Folder, SmtpReceiver]]:
    with SmtpReceiver() as smtp, database_url(request.param, tmp_path) as url:
        opened = Folder(tmp_path, url, smtp)
        yield opened, smtp
        opened.close()


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
        kill(worker)  # the message handed over, no answer yet
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
