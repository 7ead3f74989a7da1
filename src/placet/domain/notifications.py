"""Notifications: which state changes people hear of, and what each message says. Pure.

A change a person should hear of (a draft now awaiting review, a reminder, an
escalation, a decision that ends the task, a drafting failure) makes one
notification per channel configured to hear it, recorded in the change's own
transaction (the outbox). A worker sends each after commit, at least once,
with the same id on every try, until a receiver's 2xx, or until the channel's
``max_attempts`` are spent; then it waits as ``failed`` for a person.

The body of each is fixed when it is recorded, so every try sends the same
bytes; only the signature's timestamp is new on each (the Standard Webhooks
specification). The body follows that specification's shape: ``type``
(``task.awaiting_review``, ...), ``timestamp`` (when the event happened) and
``data``. Model output appears only in the body (an excerpt), never in a header.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from placet.domain import jsontext
from placet.domain.changes import Change
from placet.domain.channels import (
    AWAITING_REVIEW,
    DECIDED,
    ESCALATED,
    FAILED,
    REMINDER,
)
from placet.domain.deliveries import DeliveryStatus
from placet.domain.fastinit import evolve
from placet.domain.models import JsonObject, TaskStatus

TYPE_PREFIX = "task."
TEST_TYPE = "placet.test"
EXCERPT_CHARS = 500
MAX_ERROR_CHARS = 2000
MAX_RETRY_DELAY_SECONDS = 3600.0
WEBHOOK_ID_PREFIX = "msg_"
DECIDED_STATUSES = (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.EXPIRED)
DEADLINE = "deadline"


@dataclass(frozen=True)
class Notice:
    """A notification as it is recorded with the change that made it."""

    id: str  # a ULID; the webhook-id header is msg_<id>, the same on every try
    task_id: str
    event_seq: int  # the task event it tells of
    event: str  # awaiting_review, reminder, escalated, decided, failed
    channel: str  # webhook:ops
    recipient: str  # who hears it, as shown: a webhook's host
    body: str  # the JSON sent, fixed now
    created_at: float


@dataclass(frozen=True)
class NotificationRecord:
    """A notification as the outbox holds it: what it tells, and how its sending stands."""

    id: str
    task_id: str
    event_seq: int
    event: str
    channel: str
    recipient: str
    body: str
    status: DeliveryStatus
    attempts: int
    next_try_at: float  # when it may be tried next; while one sends it, when that lease ends
    lease_owner: str | None
    created_at: float
    finished_at: float | None
    last_error: str | None
    last_code: int | None  # the receiver's last HTTP status, if it answered

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` every try carries."""
        return webhook_id(self.id)


@dataclass(frozen=True)
class ChannelHealth:
    """How a channel's sending has gone lately (one row per channel)."""

    channel: str
    failing_since: float | None  # the first failure after the last success; None: healthy
    last_ok_at: float | None
    last_failed_at: float | None
    last_error: str | None
    failures: int  # failed tries in a row

    def failing_for(self, now: float) -> float:
        """Seconds the channel has been failing (0 when it is not)."""
        return 0.0 if self.failing_since is None else max(0.0, now - self.failing_since)


def alerts(health: Iterable[ChannelHealth], now: float, alert_after: float) -> list[ChannelHealth]:
    """The channels failing for longer than ``alert_after`` seconds, longest first."""
    found = [h for h in health if h.failing_since is not None and h.failing_for(now) > alert_after]
    return sorted(found, key=lambda h: (h.failing_since or 0.0, h.channel))


def webhook_id(notice_id: str) -> str:
    """``msg_<ULID>``: the id a receiver deduplicates on."""
    return f"{WEBHOOK_ID_PREFIX}{notice_id}"


def notice_id(typed: str) -> str:
    """A notification's id from what a person typed: the id, or the webhook-id."""
    typed = typed.strip()
    return typed[len(WEBHOOK_ID_PREFIX) :] if typed.startswith(WEBHOOK_ID_PREFIX) else typed


def event_of(change: Change) -> str | None:
    """What a change tells people, if anything: one of ``channels.EVENTS``, or None."""
    moved_to, came_from, event_type = change.task.status, change.expected_status, change.event.type
    if event_type == "save_draft" and moved_to is TaskStatus.AWAITING_REVIEW:
        return AWAITING_REVIEW
    if event_type in (REMINDER, ESCALATED) and moved_to is TaskStatus.AWAITING_REVIEW:
        return event_type
    if moved_to in DECIDED_STATUSES and came_from is TaskStatus.AWAITING_REVIEW:
        return DECIDED
    if moved_to is TaskStatus.FAILED and came_from is not TaskStatus.FAILED:
        return FAILED
    return None


def with_notices(change: Change, notices: Sequence[Notice]) -> Change:
    """The change, carrying the notifications its transaction records too."""
    return evolve(change, notices=tuple(notices)) if notices else change


def retry_delay(attempt: int, first_delay: float, jitter: float) -> float:
    """Seconds before the next try after try ``attempt`` failed: doubling from
    ``first_delay``, capped at an hour, with "equal jitter" (``jitter`` in [0, 1)):
    between half and all of it, so receivers coming back are not hit all at once."""
    full = min(first_delay * 2.0 ** max(0, attempt - 1), MAX_RETRY_DELAY_SECONDS)
    return full / 2 + full / 2 * min(max(jitter, 0.0), 1.0)


def iso(at: float) -> str:
    """A Unix time as ISO 8601 in UTC, to the millisecond: ``2025-01-31T09:30:00.123Z``."""
    moment = datetime.fromtimestamp(at, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def excerpt(text: str) -> JsonObject:
    """The start of a text for a message: at most ``EXCERPT_CHARS``, and whether it was cut."""
    return {
        "excerpt": text[:EXCERPT_CHARS],
        "truncated": len(text) > EXCERPT_CHARS,
        "chars": len(text),
    }


def task_link(base_url: str | None, task_id: str) -> str | None:
    """The dashboard's page of a task, when the dashboard's address is configured."""
    return f"{base_url.rstrip('/')}/tasks/{task_id}" if base_url else None


def body_of(change: Change, event: str, base_url: str | None) -> JsonObject:
    """The message a change makes: ``type``, ``timestamp`` and ``data`` (see the README)."""
    task, happened = change.task, change.event
    data: JsonObject = {
        "task_id": task.id,
        "kind": task.kind,
        "status": task.status.value,
        "attempt": task.attempt,
        "version": task.version,  # what a decision on this state names (expected_version)
        "event": {"seq": happened.seq, "type": happened.type, "actor": happened.actor},
        "links": {"task": task_link(base_url, task.id)},
    }
    data.update(_details(change, event))
    return {"type": TYPE_PREFIX + event, "timestamp": iso(happened.created_at), "data": data}


def _details(change: Change, event: str) -> JsonObject:
    """What each type of message adds to the common part."""
    task, payload = change.task, change.event.payload
    if event == AWAITING_REVIEW:
        assert change.draft is not None
        found: JsonObject = {"draft": {"id": change.draft.id, **excerpt(change.draft.output)}}
        if task.risk is not None or task.flags:
            found["supervisor"] = {"risk": task.risk, "flags": _flags(task.flags)}
        return found
    if event == REMINDER:
        return {"reminder": payload.get("number"), "draft_id": task.current_draft_id}
    if event == ESCALATED:
        return {"escalated_to": payload.get("to", []), "draft_id": task.current_draft_id}
    if event == DECIDED:
        return _decided(change)
    return {"error": str(payload.get("error", ""))[:MAX_ERROR_CHARS]}


def _decided(change: Change) -> JsonObject:
    task, decision, payload = change.task, change.decision, change.event.payload
    found: JsonObject = {"outcome": task.status.value, "draft_id": task.current_draft_id}
    if decision is not None:
        found["decision"] = {
            "verdict": decision.kind.value,
            "by": decision.actor,
            "reason": decision.reason,
            "feedback": decision.feedback,
        }
    elif change.event.type == DEADLINE:
        found["deadline"] = {"after": payload.get("after")}
    if task.status is TaskStatus.APPROVED and task.final_output is not None:
        found["output"] = excerpt(task.final_output)
    return found


def _flags(flags: str | None) -> list[str]:
    return [flag for flag in (flags or "").split(",") if flag]


def body_text(body: Any) -> str:
    """A message's body as it is stored and sent: compact JSON, UTF-8 as itself."""
    return jsontext.compact(body)


def test_body(channel: str, now: float, base_url: str | None) -> JsonObject:
    """What ``placet channels test`` sends: no task, plainly a test."""
    return {
        "type": TEST_TYPE,
        "timestamp": iso(now),
        "data": {
            "channel": channel,
            "message": "A test message from Placet: if you read this, the channel works.",
            "links": {"dashboard": base_url.rstrip("/") + "/" if base_url else None},
        },
    }


def shown_error(error: str) -> str:
    """An error kept with a notification: one line, cut to ``MAX_ERROR_CHARS``."""
    return " ".join(error.split())[:MAX_ERROR_CHARS]
