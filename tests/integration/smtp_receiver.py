"""A real SMTP server on loopback for tests (``aiosmtpd``): it records every message.

Each test may script the next answers to DATA (``answer("451 4.3.0 try later")``,
a delay in seconds before answering); with the script empty it accepts. It can
ask for a login (``users={"placet": "pw"}``; over plain SMTP, as loopback allows).

    with SmtpReceiver() as smtp:
        ...  # point [channels.email] at smtp.host, smtp.port
        (message,) = smtp.wait_for(1)
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.integration.fault_server import free_port

WAIT_SECONDS = 60.0  # the most a test waits for a message; never asserted on


@dataclass(frozen=True)
class Got:
    """One message the server took."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    login: str | None

    @property
    def message_id(self) -> str:
        """Its Message-ID header."""
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        """The text of its ``plain`` or ``html`` part."""
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None, f"no text/{subtype} part"
        text = str(found.get_content())  # type: ignore[attr-defined]
        return text.replace("\r\n", "\n")  # as the reader shows it


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.receiver.begun(str(message["Message-ID"]))
        answer, delay = self.receiver.next_answer()
        if delay:
            await asyncio.sleep(delay)
        if answer is not None:
            return answer
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else None
        got = Got(envelope.mail_from, tuple(envelope.rcpt_tos), message, login)
        self.receiver.record(got)
        return "250 2.0.0 OK"


class SmtpReceiver:
    """A running SMTP server on 127.0.0.1."""

    def __init__(
        self,
        users: dict[str, str] | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.users = users
        self.messages: list[Got] = []
        self.started: list[str] = []  # the Message-ID of each message handed over, answered or not
        self._script: deque[tuple[str | None, float]] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        options: dict[str, Any] = {}
        if users is not None:
            options.update(authenticator=self._authenticate, auth_require_tls=starttls is not None)
        if starttls is not None:  # STARTTLS offered, and required before anything is sent
            options.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:  # TLS from the first byte (port 465's way)
            options.update(ssl_context=implicit_tls)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **options)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        good = (
            isinstance(data, LoginPassword)
            and self.users is not None
            and self.users.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=good, handled=False, auth_data=data if good else None)

    def __enter__(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._controller.stop()

    def answer(self, *answers: str | None, delay: float = 0.0) -> None:
        """The next answers to DATA (None: accept), each after ``delay`` seconds."""
        with self._lock:
            self._script.extend((answer, delay) for answer in answers)

    def next_answer(self) -> tuple[str | None, float]:
        with self._lock:
            return self._script.popleft() if self._script else (None, 0.0)

    def begun(self, message_id: str) -> None:
        with self._arrived:
            self.started.append(message_id)
            self._arrived.notify_all()

    def wait_for_start(self, count: int) -> list[str]:
        """The Message-IDs of the first ``count`` messages handed over (before any answer)."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._arrived:
            while len(self.started) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"only {len(self.started)} of {count} messages were handed over"
                self._arrived.wait(left)
            return self.started[:count]

    def record(self, got: Got) -> None:
        with self._arrived:
            self.messages.append(got)
            self._arrived.notify_all()

    def wait_for(self, count: int) -> list[Got]:
        """The first ``count`` messages, once they have arrived."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"only {len(self.messages)} of {count} messages arrived"
                self._arrived.wait(left)
            return self.messages[:count]
