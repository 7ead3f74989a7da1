"""The e-mail notifications a change makes: one per person, each bound to its recipient.

A kind's ``notify`` names people for the e-mail channel (``email:ana``,
``email:group:legal``; an escalation adds the people it was escalated to). Each
person gets a notification of their own, recorded with the change, whose body
holds what the message is made from when it is sent: the account it is for
and its address (read now), the task's version and draft, the full draft text
and when the message's links expire. The links themselves are signed at
sending (``placet.channels.email``), from these fixed values, so every try
sends the same links under the same Message-ID.

An account without an address still gets its notification, recorded as
having none: its sending fails, saying so, and shows in ``placet channels
failed`` and on the task's page, so nobody is silently left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from placet.domain.changes import Change
from placet.domain.channels import ESCALATED, Email, email_people
from placet.domain.ids import new_id
from placet.domain.notifications import Notice, body_of, body_text
from placet.domain.policy import GROUP_PREFIX

EmailsOf = Callable[[list[str]], dict[str, str]]
NO_ADDRESS = "(no e-mail address)"


def email_recipients(
    items: Iterable[str], groups: Mapping[str, Iterable[str]], extra: Iterable[str] = ()
) -> list[str]:
    """The accounts ``email:`` notify items name (and ``extra`` names), groups expanded, once
    each, in the order named."""
    people: list[str] = []
    for item in items:
        person, group = email_people(item)
        people += [person] if person is not None else list(groups.get(group or "", ()))
    for name in extra:
        if name.startswith(GROUP_PREFIX):
            people += list(groups.get(name[len(GROUP_PREFIX) :], ()))
        else:
            people.append(name)
    return list(dict.fromkeys(people))


def email_notices(
    change: Change,
    event: str,
    channel: Email,
    people: list[str],
    emails_of: EmailsOf,
    base_url: str | None,
) -> list[Notice]:
    """One notification per person, its body holding what their message is made from."""
    if not people:
        return []
    addresses = emails_of(people)
    task, at = change.task, change.event.created_at
    common = body_of(change, event, base_url)
    draft = change.draft.output if change.draft is not None else None
    notices = []
    for person in people:
        address = addresses.get(person)
        body = {
            "to": {"account": person, "address": address},
            "task": {"id": task.id, "version": task.version, "draft_id": task.current_draft_id},
            "draft": draft,
            "links_expire_at": at + channel.link_seconds,
            "notice": common,
        }
        shown = f"{person} <{address}>" if address else f"{person} {NO_ADDRESS}"
        notices.append(
            Notice(
                new_id(),
                task.id,
                change.event.seq,
                event,
                channel.address,
                shown,
                body_text(body),
                at,
            )
        )
    return notices


def escalated_people(change: Change, event: str) -> list[str]:
    """The people (or groups) an escalation names: they hear of it too."""
    if event != ESCALATED:
        return []
    named = change.event.payload.get("to", [])
    return [str(name) for name in named] if isinstance(named, list) else []
