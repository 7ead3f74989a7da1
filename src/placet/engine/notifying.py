"""The notifications a change makes, attached to it so its transaction records them too.

Every state change passes here on its way to the store (``Engine._apply``): a
change people should hear of (``domain.notifications.event_of``) gets one
notification per channel that hears of its kind's tasks and of that event,
each with a new id and its body fixed now. The store writes them with the
change or not at all: a committed change never lacks its notifications, and a
change that lost its compare-and-set leaves none. A worker sends them after
commit (``placet.channels.outbox``).

With no channel configured this costs one test per change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from placet.config import Settings
from placet.domain.changes import Change
from placet.domain.channels import EMAIL, Configured, Email, split_address
from placet.domain.ids import new_id
from placet.domain.models import TaskKind
from placet.domain.notifications import Notice, body_of, body_text, event_of, with_notices
from placet.engine.emailing import EmailsOf, email_notices, email_recipients, escalated_people

KindOf = Callable[[str], TaskKind | None]


class Notifier:
    """Works out which channels hear of a change, and what each is told."""

    def __init__(
        self, settings: Settings, kind_of: KindOf, emails_of: EmailsOf | None = None
    ) -> None:
        self._settings = settings
        self._kind_of = kind_of
        self._any = settings.channels.configured
        self._emails_of: EmailsOf = emails_of or (lambda names: {})

    def attach(self, change: Change) -> Change:
        """The change with its notifications (the same change when there are none)."""
        if not self._any:
            return change
        event = event_of(change)
        if event is None:
            return change
        hearing = self.channels_for(change.task.kind, event)
        if not hearing:
            return change
        # Webhooks and Slack channels are told once each; e-mail once per person it names.
        others = [channel for channel in hearing if not isinstance(channel, Email)]
        notices = self._notices(change, event, others) if others else []
        email = next((channel for channel in hearing if isinstance(channel, Email)), None)
        if email is not None:
            notices += self._email_notices(change, event, email)
        return with_notices(change, notices)

    def attach_last(self, changes: Sequence[Change]) -> list[Change]:
        """Changes applied together: only where the last leaves the task is told of (a
        draft the supervisor sends straight back never awaited a person's review)."""
        return [*changes[:-1], self.attach(changes[-1])] if changes else []

    def channels_for(self, kind_name: str, event: str) -> list[Configured]:
        """The configured channels that hear of this event on tasks of this kind (each once)."""
        channels = self._settings.channels
        found: list[Configured] = []
        for address in self._settings.notify_for(self._kind_of(kind_name)):
            channel = channels.get(address)
            if channel is not None and channel.hears(event) and channel not in found:
                found.append(channel)
        return found

    def _email_notices(self, change: Change, event: str, channel: Email) -> list[Notice]:
        """One notification per person the kind's ``email:`` items name."""
        notify = self._settings.notify_for(self._kind_of(change.task.kind))
        items = [item for item in notify if split_address(item)[0] == EMAIL]
        extra = escalated_people(change, event)
        people = email_recipients(items, self._settings.groups, extra)
        return email_notices(
            change, event, channel, people, self._emails_of, self._settings.base_url
        )

    def _notices(self, change: Change, event: str, hearing: list[Configured]) -> list[Notice]:
        body = body_text(body_of(change, event, self._settings.base_url))
        at, task_id, seq = change.event.created_at, change.task.id, change.event.seq
        return [
            Notice(new_id(), task_id, seq, event, channel.address, channel.recipient, body, at)
            for channel in hearing
        ]
