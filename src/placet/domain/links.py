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

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

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
