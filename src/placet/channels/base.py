"""The Channel protocol: where people see review requests and answer them.

A channel shows each draft awaiting review to the people it reaches (a file
in a folder, later an e-mail, a Slack message, a webhook) and turns a
person's answer into a ``DecisionRequest`` carrying that person's identity,
as the channel established it (never a name taken from the answer), for the
engine's one decision call. It never writes task state itself: the engine
checks the kind's policy and records the decision, or refuses it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from placet.domain.models import Task


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
