"""Notifications as people see them: a task's, those that gave up, retrying, testing, alarms.

What the CLI (``placet channels``), the task page, the dashboard's banner,
``/readyz`` and the metrics share. A retry is a person's action: it is kept in
the security log with who asked (not on the task's chain: a notification is
about a task, not a step of it).
"""

from __future__ import annotations

import time

from placet.channels.base import Sender
from placet.channels.email import message_id_of, send_test_email
from placet.channels.slack import SlackSender
from placet.channels.webhook import Sent, WebhookSender
from placet.domain.channels import Configured, Email, SlackTarget, Webhook
from placet.domain.deliveries import DeliveryStatus
from placet.domain.ids import new_id
from placet.domain.notifications import (
    ChannelHealth,
    NotificationRecord,
    alerts,
    body_text,
    notice_id,
    test_body,
    webhook_id,
)
from placet.engine import Engine
from placet.errors import ConflictError, NotFoundError, UsageError


def task_notifications(engine: Engine, task_id: str) -> list[NotificationRecord]:
    """Every notification of a task, oldest first."""
    return engine.notifications().for_task(task_id)


def failed_notifications(engine: Engine, limit: int = 50) -> list[NotificationRecord]:
    """The notifications that gave up, most recent first."""
    return engine.notifications().failed(limit)


def retry_notification(engine: Engine, typed: str, actor: str) -> NotificationRecord:
    """Give a notification that gave up a fresh set of tries, with the same id; the
    notification as it stood. NotFoundError for no such id, ConflictError when it had not
    given up (or another retry came first)."""
    outbox = engine.notifications()
    found = outbox.get(notice_id(typed))
    if found is None:
        raise NotFoundError(f"no notification with id {typed.strip()!r}")
    if found.status is not DeliveryStatus.FAILED or not outbox.retry(found.id, time.time()):
        raise ConflictError(
            f"notification {found.id} is {found.status.value}, not failed: there is nothing "
            "to retry; nothing was changed"
        )
    detail = f"{found.channel} {found.event} of task {found.task_id}; had {found.attempts} tries"
    engine.accounts.record(actor, "retry_notification", "allowed", found.id, detail)
    return found


def health(engine: Engine) -> list[ChannelHealth]:
    """How each channel's sending has gone lately."""
    return engine.notifications().health()


def channel_alerts(engine: Engine, now: float | None = None) -> list[ChannelHealth]:
    """The configured channels failing for longer than ``[channels] alert_after``."""
    channels = engine.settings.channels
    configured = set(channels.addresses)
    rows = [row for row in health(engine) if row.channel in configured]
    return alerts(rows, time.time() if now is None else now, channels.alert_after)


def find_channel(engine: Engine, typed: str) -> Configured:
    """The configured channel a person named (``ops`` or ``webhook:ops``)."""
    channels = engine.settings.channels
    found = channels.find(typed.strip())
    if found is None:
        known = ", ".join(channels.addresses) or "none (add [channels.webhook.NAME] to placet.toml)"
        raise UsageError(f"no channel named {typed.strip()!r}; configured: {known}")
    return found


def send_test(engine: Engine, channel: Configured, to: str | None = None) -> tuple[str, Sent]:
    """Send a test message to a channel now (not through the outbox); its id and how it went."""
    message_id = webhook_id(new_id())
    if isinstance(channel, Email):
        return message_id_of(message_id, channel.sender), send_test_email(channel, message_id, to)
    body = body_text(test_body(channel.address, time.time(), engine.settings.base_url))
    sender: Sender
    if isinstance(channel, SlackTarget):
        sender = SlackSender(channel, engine)
    else:
        assert isinstance(channel, Webhook)
        sender = WebhookSender(channel)
    try:
        return message_id, sender.send(message_id, body)
    finally:
        sender.close()
