"""The Channel protocol (where people see review requests and answer them) and the
Sender protocol (how a notification reaches a channel's people).

A channel shows each draft awaiting review to the people it reaches (a file
in a folder, later an e-mail, a Slack message, a webhook) and turns a
person's answer into a ``DecisionRequest`` carrying that person's identity,
as the channel established it (never a name taken from the answer), for the
engine's one decision call. It never writes task state itself: the engine
checks the kind's policy and records the decision, or refuses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from placet.domain.models import Task

if TYPE_CHECKING:
    from placet.channels.webhook import Sent


@runtime_checkable
class Channel(Protocol):
    """A way to reach reviewers: publish what awaits them, take their answers to the engine."""

    name: str  # what the audit records as the decision's channel

    def start(self) -> None:
        """Begin following the store: publish new drafts and take answers, in the background."""
        ...

    def stop(self) -> None:
        """Stop following; safe when not started."""
        ...

    def publish(self, task: Task) -> object:
        """Show the task's current draft to the people this channel reaches, now."""
        ...


class Sender(Protocol):
    """Sends a channel's notifications: one message per call, said how it went.

    The outbox (``placet.channels.outbox``) calls it after commit, at least once per
    notification, with the same message id on every try; a sender must not raise for
    a failure of the network or the receiver, but return it (``Sent(ok=False, ...)``).
    Webhooks implement it today (``placet.channels.webhook.WebhookSender``); e-mail
    and Slack join by implementing it too.
    """

    @property
    def address(self) -> str:
        """The channel's address, ``TYPE:NAME``."""
        ...

    def send(self, message_id: str, body: str) -> Sent:
        """Deliver one message now."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
