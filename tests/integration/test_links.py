"""Signed links on SQLite and PostgreSQL: one use each, across engines (processes), given
back when the engine refuses the decision; accounts' e-mail addresses; the e-mail
notifications a change records, one per person."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from placet.channels.email import links_for
from placet.config import Settings
from placet.domain.channels import ChannelSettings, Email
from placet.domain.links import APPROVE, CALLBACK, REJECT, Link, LinkRefused, sign
from placet.domain.models import Task, TaskKind, TaskStatus
from placet.engine import Engine
from placet.engine.links import LinkDesk, set_email
from placet.errors import InvalidInputError, NotFoundError
from placet.store import open_store
from placet.testing import FakeProvider

KEY = "a-test-key-of-enough-length-for-links"
KIND = TaskKind("memo", template="Memo on {q}", reviewers=("group:legal",))
PAIR = TaskKind("pair", template="Memo on {q}", reviewers=("group:legal",), approvals=2)
EMAIL = Email("127.0.0.1", 2525, "none", "placet@example.com", link_key=KEY)


def settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        kinds={KIND.name: KIND, PAIR.name: PAIR},
        groups={"legal": ("ana", "lea")},
        channels=ChannelSettings(email=EMAIL),
        notify=("email:group:legal", "email:ana", "email:bob"),
        base_url="https://placet.example.com",
    )


def open_engine(url: str) -> Engine:
    return Engine(open_store(url), settings(url), provider_for=lambda _name: FakeProvider())


@pytest.fixture
def engines(url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database, as two processes would have."""
    first = open_engine(url)
    for name, roles in (("ana", ["reviewer"]), ("lea", ["reviewer"]), ("bob", ["requester"])):
        first.accounts.add_user(name, "a long enough password", roles)
    second = open_engine(url)
    yield first, second
    second.close(store_too=True)
    first.close(store_too=True)


def link_for(task: Task, account: str, action: str = APPROVE, link_id: str = "L1") -> str:
    draft = task.current_draft_id or ""
    return sign(Link(link_id, task.id, draft, task.version, account, action, 2e9), KEY)


def test_a_link_is_used_once_across_engines(engines: tuple[Engine, Engine]) -> None:
    first, second = engines
    task = first.propose(KIND.name, {"q": "leave"}, "bob", "A memo.")
    token = link_for(task, "ana")
    decided = LinkDesk(first, KEY).use(token, APPROVE, None, "email")
    assert decided.status is TaskStatus.APPROVED
    with pytest.raises(LinkRefused, match="already used .*approved by ana"):
        LinkDesk(second, KEY).use(token, APPROVE, None, "email")
    looked = LinkDesk(second, KEY).look(token)
    assert looked.refusal is not None and "approved by ana" in looked.refusal


def test_a_refused_decision_gives_the_use_back(engines: tuple[Engine, Engine]) -> None:
    engine, _ = engines
    task = engine.propose(KIND.name, {"q": "leave"}, "bob", "A memo.")
    desk = LinkDesk(engine, KEY)
    with pytest.raises(LinkRefused, match="bob may not decide"):
        desk.use(link_for(task, "bob", link_id="B1"), APPROVE, None, "email")
    assert engine.links().get("B1") is None
    # The engine refusing at its decision call, past the link's own checks.
    with pytest.raises(InvalidInputError, match="a rejection needs a reason"):
        desk.use(link_for(task, "ana", REJECT, "A1"), REJECT, None, "email")
    assert engine.links().get("A1") is None
    assert engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_a_link_does_only_what_it_says(engines: tuple[Engine, Engine]) -> None:
    engine, _ = engines
    task = engine.propose(KIND.name, {"q": "leave"}, "bob", "A memo.")
    desk = LinkDesk(engine, KEY)
    with pytest.raises(LinkRefused, match="cannot reject"):
        desk.use(link_for(task, "ana"), REJECT, None, "email")
    callback = link_for(task, "lea", CALLBACK, "C1")
    with pytest.raises(LinkRefused, match='"approve" or "reject"'):
        desk.use(callback, "edit", None, "callback")
    rejected = desk.use(callback, REJECT, "Not now.", "callback")
    assert rejected.status is TaskStatus.REJECTED
    (decision,) = engine.detail(task.id).decisions
    assert (decision.actor, decision.reason) == ("lea", "Not now.")


def test_addresses_are_kept_checked_and_recorded(engines: tuple[Engine, Engine]) -> None:
    engine, other = engines
    set_email(engine, "ana", "ana@example.com", "admin")
    assert other.links().emails(["ana", "lea"]) == {"ana": "ana@example.com"}
    with pytest.raises(InvalidInputError, match="not an e-mail address"):
        set_email(engine, "lea", "lea at example", "admin")
    with pytest.raises(NotFoundError, match="no user named 'zed'"):
        set_email(engine, "zed", "zed@example.com", "admin")
    set_email(engine, "ana", None, "admin")
    assert other.links().emails() == {}
    logged = [e.action for e in engine.accounts.security_events("admin", 10)]
    assert logged.count("set_email") == 2


def test_a_review_request_records_one_email_per_person(engines: tuple[Engine, Engine]) -> None:
    engine, _ = engines
    set_email(engine, "ana", "ana@example.com", "admin")
    before = time.time()
    task = engine.propose(KIND.name, {"q": "leave"}, "bob", "A memo.")
    notices = engine.notifications().for_task(task.id)
    assert [(n.channel, n.recipient) for n in notices] == [
        ("email", "ana <ana@example.com>"),
        ("email", "lea (no e-mail address)"),
        ("email", "bob (no e-mail address)"),
    ]
    body = json.loads(notices[0].body)
    assert body["to"] == {"account": "ana", "address": "ana@example.com"}
    assert body["task"] == {
        "id": task.id,
        "version": task.version,
        "draft_id": task.current_draft_id,
    }
    assert body["draft"] == "A memo." and body["notice"]["type"] == "task.awaiting_review"
    assert before + EMAIL.link_seconds <= body["links_expire_at"] <= time.time() + 7 * 86400


def test_reminders_and_escalations_write_too_and_their_links_decide(url: str) -> None:
    timed = TaskKind(
        "timed",
        template="Memo on {q}",
        reviewers=("group:legal",),
        remind_after=3600.0,
        escalate_after=7200.0,
        escalate_to=("group:bosses",),
    )
    config = settings(url)
    config.kinds[timed.name] = timed
    config.groups["bosses"] = ("bo",)
    engine = Engine(open_store(url), config, provider_for=lambda _name: FakeProvider())
    try:
        engine.accounts.add_user("bo", "a long enough password", ["reviewer"])
        set_email(engine, "bo", "bo@example.com", "admin")
        task = engine.propose(timed.name, {"q": "leave"}, "bob", "A memo.")
        start = engine.get(task.id).updated_at
        assert engine.fire_timers(start + 3600) == 1
        assert engine.fire_timers(start + 7200) == 2  # the escalation, then reminder 2
        told = [(n.event, n.recipient.split()[0]) for n in engine.notifications().for_task(task.id)]
        reminded = sorted(who for event, who in told if event == "reminder")
        assert reminded == ["ana", "ana", "bob", "bob", "lea", "lea"]
        assert sorted(who for event, who in told if event == "escalated") == [
            "ana",
            "bo",
            "bob",
            "lea",
        ]
        escalated = next(
            n
            for n in engine.notifications().for_task(task.id)
            if n.event == "escalated" and n.recipient.startswith("bo ")
        )
        links = links_for(json.loads(escalated.body), escalated.id, KEY, "https://p.example.com")
        token = links[APPROVE].rsplit("/", 1)[1]
        decided = LinkDesk(engine, KEY).use(token, APPROVE, None, "email")
        assert decided.status is TaskStatus.APPROVED
        assert [d.actor for d in engine.detail(task.id).decisions] == ["bo"]
    finally:
        engine.close(store_too=True)
