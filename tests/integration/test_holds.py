"""Taking an item: one reviewer holds a waiting task; others see it and their queues skip it.

Through the engine on SQLite and PostgreSQL: who may take, what a hold refuses
and what it does not (someone else may still decide, and the audit says so),
how it lapses, ends and is handed over, and that the chain proves it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.policy import Role
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import ConflictError, InvalidInputError, PermissionDeniedError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person

NOTE = TaskKind(name="note", template="Write a note about {topic}.", hold=600.0)
LEGAL = TaskKind(name="clause", template="A clause on {topic}.", reviewers=("kim", "lu"))


class Clock:
    """The engine's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(url: str, clock: Clock) -> Iterator[Engine]:
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds={"note": NOTE, "clause": LEGAL})
    made = Engine(SqlStore(url), settings, provider_for=lambda _: provider, clock=clock)
    yield made
    made.store.close()


def drafted(engine: Engine, kind: str = "note") -> str:
    task = engine.submit(kind, {"topic": "tea"}, "rita", claim_as="w")
    return engine.draft(task, "w").id


def test_a_hold_shows_who_and_refuses_a_second_taker(engine: Engine, clock: Clock) -> None:
    task_id = drafted(engine)
    task = engine.take(task_id, person("ana"))
    assert (task.held_by, task.held_until) == ("ana", clock.now + 600)  # the kind's hold
    hold = engine.hold_of(engine.get(task_id))
    assert hold is not None
    assert hold.shown(clock.now) == "ana is reviewing it (for 10 more minutes)"
    with pytest.raises(ConflictError, match="ana is reviewing it"):
        engine.take(task_id, person("li"))
    again = engine.take(task_id, person("ana"), seconds=1200)  # one's own: extended
    assert again.held_until == clock.now + 1200
    assert [e.type for e in engine.detail(task_id).events][-2:] == ["taken", "taken"]
    assert verify_store(engine).ok


def test_a_hold_lapses_by_itself(engine: Engine, clock: Clock) -> None:
    task_id = drafted(engine)
    engine.take(task_id, person("ana"))
    clock.now += 601
    assert engine.hold_of(engine.get(task_id)) is None
    assert engine.take(task_id, person("li")).held_by == "li"  # free for anyone again
    assert verify_store(engine).ok


def test_someone_else_may_still_decide_and_the_audit_says_over_whose_hold(
    engine: Engine,
) -> None:
    task_id = drafted(engine)
    engine.take(task_id, person("ana"))
    decided = engine.decide(DecisionRequest(task_id, DecisionKind.APPROVE, person("li")))
    assert decided.status is TaskStatus.APPROVED
    assert (decided.held_by, decided.held_until) == (None, None)
    last = engine.detail(task_id).events[-1]
    assert (last.actor, last.payload.get("over_hold")) == ("li", "ana")
    assert verify_store(engine).ok


def test_the_holders_own_decision_ends_the_hold_without_a_note(engine: Engine) -> None:
    task_id = drafted(engine)
    engine.take(task_id, person("ana"))
    request = DecisionRequest(task_id, DecisionKind.REVISE, person("ana"), feedback="Shorter.")
    revised = engine.decide(request)
    assert revised.status is TaskStatus.QUEUED and revised.held_by is None
    assert "over_hold" not in engine.detail(task_id).events[-1].payload
    assert verify_store(engine).ok


def test_only_someone_who_may_decide_may_take(engine: Engine) -> None:
    task_id = drafted(engine, "clause")
    with pytest.raises(PermissionDeniedError):
        engine.take(task_id, person("ana"))  # not among the kind's reviewers
    with pytest.raises(PermissionDeniedError):
        engine.take(task_id, person("rita"))  # the requester never decides their own task
    assert engine.get(task_id).held_by is None


def test_let_go_by_the_holder_or_an_admin_only(engine: Engine) -> None:
    task_id = drafted(engine)
    engine.take(task_id, person("ana"))
    with pytest.raises(PermissionDeniedError, match="only they or an admin"):
        engine.let_go(task_id, person("li"))
    freed = engine.let_go(task_id, person("boss", Role.ADMIN))
    assert freed.held_by is None and engine.hold_of(freed) is None
    with pytest.raises(InvalidInputError, match="nobody is reviewing"):
        engine.let_go(task_id, person("ana"))
    assert engine.detail(task_id).events[-1].type == "released"
    assert verify_store(engine).ok


def test_an_admin_hands_an_item_to_someone_who_may_decide_it(engine: Engine) -> None:
    for name, role in (
        ("boss", "admin"),
        ("kim", "reviewer"),
        ("lu", "reviewer"),
        ("ana", "reviewer"),
    ):
        engine.accounts.add_user(name, f"a long password for {name}", role)
    task_id = drafted(engine, "clause")
    engine.take(task_id, person("kim"))
    boss = person("boss", Role.ADMIN)
    with pytest.raises(PermissionDeniedError, match="only an admin"):
        engine.hand_over(task_id, person("lu"), "lu")
    with pytest.raises(InvalidInputError, match="cannot be handed to ana"):
        engine.hand_over(task_id, boss, "ana")  # not a reviewer of this kind
    with pytest.raises(InvalidInputError, match="no user named 'nobody'"):
        engine.hand_over(task_id, boss, "nobody")
    handed = engine.hand_over(task_id, boss, "lu")
    assert handed.held_by == "lu"
    event = engine.detail(task_id).events[-1]
    assert (event.type, event.actor, event.payload["holder"]) == ("taken", "boss", "lu")
    assert verify_store(engine).ok


def test_only_a_waiting_task_can_be_taken(engine: Engine) -> None:
    task = engine.submit("note", {"topic": "tea"}, "rita")
    with pytest.raises(ConflictError, match="not awaiting review"):
        engine.take(task.id, person("ana"))


def test_a_hold_longer_than_a_day_is_refused(engine: Engine) -> None:
    task_id = drafted(engine)
    with pytest.raises(InvalidInputError, match="at most|1 day"):
        engine.take(task_id, person("ana"), seconds=2 * 86400)
