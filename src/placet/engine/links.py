"""Deciding through a signed link: an e-mail's approve / reject, or an inbound callback URL.

The link says who decides (the account signed in it, never a name from the
form or the body), on which task, draft and version, and until when. Looking
at a link (``look``) decides nothing: it says whether the link would still
work, and why not. Using it (``use``) claims the link's single use in the
store first (so two processes cannot both use it), then makes the engine's one
decision call as that account through the channel the link came from, where
the kind's policy is checked like any other decision's; a decision refused
gives the use back, so nothing was spent on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr

from placet.domain.decisions import DecisionRequest
from placet.domain.ids import new_id
from placet.domain.links import APPROVE, CALLBACK, REJECT, Link, LinkRefused, read
from placet.domain.links import url as link_url
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.notifications import iso
from placet.domain.policy import Principal
from placet.engine.core import Engine
from placet.errors import InvalidInputError, NotFoundError, PlacetError
from placet.store.links import LinkUse

VERDICTS = {APPROVE: DecisionKind.APPROVE, REJECT: DecisionKind.REJECT}
CALLBACK_SECONDS = 7 * 86400.0
MAX_ADDRESS = 320


@dataclass(frozen=True)
class Look:
    """A link, and whether it would still decide: None, or why not in words."""

    link: Link
    task: Task
    refusal: str | None


class LinkDesk:
    """Reads, checks and uses signed links on one engine."""

    def __init__(self, engine: Engine, key: str, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._key = key
        self._clock = clock

    def read(self, token: str) -> Link:
        """The link a token is (LinkRefused when forged or altered)."""
        return read(token, self._key)

    def look(self, token: str) -> Look:
        """What a link is for and whether it still works; decides nothing."""
        link = self.read(token)
        try:
            task = self.engine.get(link.task_id)
        except NotFoundError:
            raise LinkRefused("this link's task no longer exists") from None
        return Look(link, task, self._refusal(link, task))

    def use(self, token: str, verdict: str, reason: str | None, channel: str) -> Task:
        """Decide as the link says, once: LinkRefused when the link may not, else what the
        engine's decision call says (its refusals raised as they are)."""
        looked = self.look(token)
        link = looked.link
        if link.action != CALLBACK and verdict != link.action:
            raise LinkRefused(f"this link {link.action}s; it cannot {verdict}")
        if verdict not in VERDICTS:
            raise LinkRefused(f'the decision must be "approve" or "reject", not {verdict!r}')
        if looked.refusal is not None:
            raise LinkRefused(looked.refusal)
        principal = self._principal(link, channel)
        claimed = LinkUse(link.id, link.task_id, link.account, verdict, self._clock(), None)
        earlier = self.engine.links().claim(claimed)
        if earlier is not None:
            raise LinkRefused(_used(earlier))
        request = DecisionRequest(
            link.task_id,
            VERDICTS[verdict],
            principal,
            draft_id=link.draft_id,
            expected_version=link.version,
            reason=reason or None,
        )
        try:
            task = self.engine.decide(request)
        except PlacetError:
            self.engine.links().release(link.id)
            raise
        self.engine.links().settle(link.id, f"{verdict}d by {link.account}")
        return task

    def mint_callback(self, task: Task, principal: Principal) -> Link | None:
        """A callback link for this person on this task's current draft (None when the
        task awaits no review)."""
        if task.status is not TaskStatus.AWAITING_REVIEW or task.current_draft_id is None:
            return None
        expires = self._clock() + CALLBACK_SECONDS
        draft, version = task.current_draft_id, task.version
        return Link(new_id(), task.id, draft, version, principal.name, CALLBACK, expires)

    def url(self, link: Link, base_url: str) -> str:
        """The link's signed address under ``base_url``."""
        return link_url(base_url, link, self._key)

    # -- why a link would not work ------------------------------------------------

    def _refusal(self, link: Link, task: Task) -> str | None:
        earlier = self.engine.links().get(link.id)
        if earlier is not None:
            return _used(earlier)
        if link.expired(self._clock()):
            return f"this link expired at {iso(link.expires_at)}; open the task from the dashboard"
        if task.status is not TaskStatus.AWAITING_REVIEW:
            return _settled(self.engine, task)
        if task.current_draft_id != link.draft_id:
            return (
                "this link was sent for an earlier draft; a newer draft awaits review: "
                "use the newest message, or open the task from the dashboard"
            )
        try:
            principal = self._principal(link, "email")
        except LinkRefused as exc:
            return exc.message
        verdict = self.engine.may_decide(principal, task)
        if not verdict.allowed:
            return f"{link.account} may not decide this task now: {verdict.reason}"
        return None

    def _principal(self, link: Link, channel: str) -> Principal:
        accounts = self.engine.accounts
        try:
            user = accounts.get_user(link.account)
        except NotFoundError:
            raise LinkRefused(
                f"the account {link.account!r} this link was sent to is gone"
            ) from None
        if user.disabled:
            raise LinkRefused(f"the account {link.account!r} this link was sent to is disabled")
        return accounts.principal(user, channel)


def _used(use: LinkUse) -> str:
    done = use.outcome or f"{use.action} (being decided, or lost mid-way)"
    return f"this link was already used at {iso(use.used_at)}: {done}"


def _settled(engine: Engine, task: Task) -> str:
    decisions = engine.detail(task.id).decisions
    if decisions:
        last = decisions[-1]
        when = iso(last.created_at)
        return (
            f"this task is {task.status.value}: {last.actor} decided ({last.kind.value}) at {when}"
        )
    return f"this task is {task.status.value}; it awaits no review"


def set_email(engine: Engine, name: str, address: str | None, actor: str) -> None:
    """Give an account the address its e-mails go to (None: take it away); recorded in the
    security log. InvalidInputError for no address, NotFoundError for no such account."""
    if address is not None:
        address = address.strip()
        parsed = parseaddr(address)[1]
        if parsed != address or "@" not in address or len(address) > MAX_ADDRESS:
            raise InvalidInputError(
                f"{address!r} is not an e-mail address; give one such as ana@example.com"
            )
    if not engine.links().set_email(name, address):
        raise NotFoundError(f"no user named {name!r}")
    said = f"e-mail set to {address}" if address else "e-mail address removed"
    engine.accounts.record(actor, "set_email", "allowed", name, said)
