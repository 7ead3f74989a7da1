"""E-mail over SMTP: a message per notification, with signed links to approve or reject.

Each notification of the e-mail channel is one message to one person
(``placet.engine.emailing`` made its body). It is sent with the standard
library's ``smtplib`` (STARTTLS, implicit TLS, or plain on loopback; logging in
when a user name is set) from the outbox after commit, at least once, with a
``Message-ID`` made from the notification's id, so every try is the same
message to the receiving servers and to the person.

The message holds the draft twice: as plain text, and as HTML rendered from
Markdown and cleaned by an allow-list (``nh3``): model output is hostile. Under
a draft awaiting review it carries two signed links, approve and reject
(``placet.domain.links``), which open a confirmation page; only that page's
POST decides, so a mail scanner fetching every link decides nothing. A link
to the task's page is there besides.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from placet.channels.email_render import Rendered, render_message
from placet.channels.webhook import Sent
from placet.domain.channels import Email
from placet.domain.links import APPROVE, REJECT, Link, url
from placet.domain.notifications import WEBHOOK_ID_PREFIX, notice_id

DECIDABLE = ("awaiting_review", "reminder", "escalated")


@dataclass(frozen=True)
class Letter:
    """One message, ready to send: to whom, and what it says."""

    to: str
    message_id: str
    rendered: Rendered


def message_id_of(notice: str, sender: str) -> str:
    """``<msg_ID@domain-of-from>``: the same on every try of one notification."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "placet.invalid"
    return f"<{WEBHOOK_ID_PREFIX}{notice_id(notice)}@{domain}>"


def links_for(body: dict[str, Any], notice: str, key: str, base_url: str) -> dict[str, str]:
    """The signed approve and reject links of one notification (none when nothing awaits)."""
    task = body["task"]
    event = str(body["notice"]["type"]).removeprefix("task.")
    if event not in DECIDABLE or not task.get("draft_id"):
        return {}
    found = {}
    for action in (APPROVE, REJECT):
        link = Link(
            notice_id(notice),
            task["id"],
            task["draft_id"],
            int(task["version"]),
            body["to"]["account"],
            action,
            float(body["links_expire_at"]),
        )
        found[action] = url(base_url, link, key)
    return found


def letter_of(channel: Email, base_url: str | None, notice: str, text: str) -> Letter:
    """The message one notification makes (ValueError when its body is not one of ours)."""
    body = json.loads(text)
    links = links_for(body, notice, channel.link_key, base_url) if base_url else {}
    return Letter(
        to=body["to"]["address"] or "",
        message_id=message_id_of(notice, channel.sender),
        rendered=render_message(body, links, base_url),
    )


def build(channel: Email, letter: Letter, at: float) -> EmailMessage:
    """The MIME message: plain text first, then the sanitised HTML."""
    message = EmailMessage()
    message["From"] = channel.sender
    message["To"] = letter.to
    message["Subject"] = letter.rendered.subject
    message["Message-ID"] = letter.message_id
    message["Date"] = formatdate(at, usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(letter.rendered.text)
    message.add_alternative(letter.rendered.html, subtype="html")
    return message


class EmailSender:
    """Sends the e-mail channel's messages through its SMTP server, a connection per try."""

    def __init__(self, channel: Email, base_url: str | None) -> None:
        self.channel = channel
        self.base_url = base_url

    @property
    def address(self) -> str:
        """``email``."""
        return self.channel.address

    def send(self, message_id: str, body: str) -> Sent:
        """Send one notification's message now; how it went (never raises for the network)."""
        started = time.monotonic()
        try:
            letter = letter_of(self.channel, self.base_url, message_id, body)
        except (ValueError, KeyError, TypeError) as exc:
            return _failed(started, f"the notification's body is not an e-mail's: {exc}")
        if not letter.to:
            return _failed(
                started,
                f"{_account(body)} has no e-mail address: set one with "
                f"placet users email {_account(body)} ADDRESS",
            )
        return self.send_message(build(self.channel, letter, time.time()), started)

    def send_message(self, message: EmailMessage, started: float) -> Sent:
        """Hand one message to the SMTP server."""
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(message)
            finally:
                _quit(smtp)  # the server's answer to QUIT changes nothing of what it took
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            said = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            return _failed(started, f"the SMTP server said {exc.smtp_code} {said}", exc.smtp_code)
        except (smtplib.SMTPException, OSError) as exc:
            return _failed(started, f"could not send through {self.channel.recipient}: {exc}")
        if refused:
            return _failed(started, f"the SMTP server refused {', '.join(refused)}")
        return Sent(True, 250, time.monotonic() - started)

    def _connect(self) -> smtplib.SMTP:
        channel, timeout = self.channel, self.channel.timeout
        if channel.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                channel.smtp_host,
                channel.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(
                channel.smtp_host,
                channel.smtp_port,
                timeout=timeout,
            )
        try:
            if channel.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if channel.username is not None:
                smtp.login(channel.username, channel.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        """Nothing held between messages."""


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _account(body: str) -> str:
    try:
        return str(json.loads(body)["to"]["account"])
    except (ValueError, KeyError, TypeError):
        return "the recipient"


def _failed(started: float, error: str, code: int | None = None) -> Sent:
    return Sent(False, code, time.monotonic() - started, " ".join(error.split()))


def send_test_email(channel: Email, message_id: str, to: str | None) -> Sent:
    """Send a plain test message now (to ``to``, else the From address); how it went."""
    message = EmailMessage()
    message["From"] = channel.sender
    message["To"] = to or channel.sender
    message["Subject"] = "[Placet] A test message"
    message["Message-ID"] = message_id_of(message_id, channel.sender)
    message["Date"] = formatdate(time.time(), usegmt=True)
    message.set_content("A test message from Placet: if you read this, the channel works.\n")
    return EmailSender(channel, None).send_message(message, time.monotonic())
