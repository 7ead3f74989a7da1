"""Signed single-use links: an e-mail's approve and reject links, inbound callback URLs. Pure.

A link carries everything it is for, signed with the server's key (HMAC-SHA1
through ``itsdangerous``, as the session cookies are, under a salt of its
own): the link's id, the task, the draft and task version it was sent for,
the account it decides as, the verdict (or ``callback``, which takes the
verdict from its POST), and when it expires. Nothing in it can be changed
without the key; the identity it decides as is the one signed in it, never a
name from a form or a body.

Single use is the store's (``link_uses``, keyed by the link's id): an
e-mail's approve and reject links share one id, so using one spends both.
Signing the same link twice gives the same text, so a notification sent again
carries the same links.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from placet.domain import jsontext
from placet.domain.channels import AWAITING_REVIEW, ESCALATED, REMINDER
from placet.errors import UsageError

SALT = "placet-link"
APPROVE, REJECT, CALLBACK = "approve", "reject", "callback"
ACTIONS = (APPROVE, REJECT, CALLBACK)
DEFAULT_LINK_SECONDS = 7 * 86400.0
LINK_PATH = "/links/"
CALLBACK_PATH = "/api/v1/callbacks/"


class LinkRefused(UsageError):
    """This link cannot be used."""


@dataclass(frozen=True)
class Link:
    """What a signed link is for."""

    id: str  # single use is per id: an e-mail's approve and reject links share one
    task_id: str
    draft_id: str
    version: int
    account: str  # who it decides as
    action: str  # approve, reject, or callback (the POST says which)
    expires_at: float

    def expired(self, now: float) -> bool:
        """True once the link's time has run out."""
        return now >= self.expires_at


def sign(link: Link, key: str) -> str:
    """The link as URL-safe signed text (the same text for the same link)."""
    data = [
        link.id,
        link.task_id,
        link.draft_id,
        link.version,
        link.account,
        link.action,
        round(link.expires_at, 3),
    ]
    return str(URLSafeSerializer(key, salt=SALT).dumps(data))


def read(token: str, key: str) -> Link:
    """The link a signed text is, or LinkRefused when it was not signed with ``key``."""
    try:
        data = URLSafeSerializer(key, salt=SALT).loads(token)
    except BadSignature:
        raise LinkRefused(
            "this link is not valid (it was changed, cut short, or not made by this Placet); "
            "open the task from the dashboard instead"
        ) from None
    if not isinstance(data, list) or len(data) != 7:
        raise LinkRefused("this link is not valid (it is of an unknown form)")
    link_id, task_id, draft_id, version, account, action, expires_at = data
    if action not in ACTIONS or not isinstance(version, int):
        raise LinkRefused("this link is not valid (it is of an unknown form)")
    return Link(
        str(link_id),
        str(task_id),
        str(draft_id),
        version,
        str(account),
        str(action),
        float(expires_at),
    )


def url(base_url: str, link: Link, key: str) -> str:
    """The link's full address: the confirmation page, or the callback URL."""
    path = CALLBACK_PATH if link.action == CALLBACK else LINK_PATH
    return f"{base_url.rstrip('/')}{path}{sign(link, key)}"


# The webhook messages of a task that awaits a decision: they may carry a callback URL.
AWAITING_TYPES = tuple(f"task.{event}" for event in (AWAITING_REVIEW, REMINDER, ESCALATED))


def webhook_callback(body: Mapping[str, Any], link_id: str, account: str) -> Link | None:
    """The callback link a webhook message about a task awaiting review carries (None for
    other messages), made from the message's own fixed values (its task, draft, version and
    time), so that every try of it carries the same URL."""
    data = body.get("data")
    if body.get("type") not in AWAITING_TYPES or not isinstance(data, Mapping):
        return None
    draft = data.get("draft")
    draft_id = draft.get("id") if isinstance(draft, Mapping) else data.get("draft_id")
    version, task_id = data.get("version"), data.get("task_id")
    if not isinstance(draft_id, str) or not isinstance(version, int) or not task_id:
        return None  # a message from before messages carried their version
    sent_at = datetime.fromisoformat(str(body["timestamp"]).replace("Z", "+00:00"))
    expires = sent_at.timestamp() + DEFAULT_LINK_SECONDS
    return Link(link_id, str(task_id), draft_id, version, account, CALLBACK, expires)


def with_webhook_callback(text: str, link_id: str, account: str, key: str, base_url: str) -> str:
    """A webhook message's JSON with ``data.links.callback`` added when it awaits a decision
    (the text unchanged otherwise)."""
    body = json.loads(text)
    link = webhook_callback(body, link_id, account)
    if link is None:
        return text
    body["data"].setdefault("links", {})["callback"] = url(base_url, link, key)
    return jsontext.compact(body)
