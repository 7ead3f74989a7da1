"""Reminders, escalation and deadlines: durable timers fired once, never an approval.

A test clock drives the engine; the timers are stored with the task and fired
by ``Engine.fire_timers`` (what every worker and ``placet serve`` run twice a
second), on SQLite and PostgreSQL, also by several sweepers racing reviewers.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest

from placet.config import Settings, load_settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.outcomes import outcome_of
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import ConfigError, ConflictError, PermissionDeniedError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person

HOUR = 3600.0
GROUPS = {"managers": ("maria",), "legal": ("ana", "li")}
CLAUSE = TaskKind(
    name="clause",
    template="A clause about {topic}.",
    reviewers=("group:legal",),
    remind_after=HOUR,
    escalate_after=4 * HOUR,
    escalate_to=("group:managers",),
    deadline=24 * HOUR,
)
EXPIRING = TaskKind(
    name="offer", template="An offer to {name}.", deadline=HOUR, on_deadline="expire"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_engine(url: str, clock: Clock) -> Engine:
    provider = FakeProvider()
    settings = Settings(
        database_url=url, kinds={"clause": CLAUSE, "offer": EXPIRING}, groups=GROUPS
    )
    return Engine(SqlStore(url), settings, provider_for=lambda _model: provider, clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(url: str, clock: Clock) -> Iterator[Engine]:
    made = make_engine(url, clock)
    yield made
    made.store.close()


def drafted(engine: Engine, kind: str = "clause") -> str:
    task = engine.submit(kind, {"topic": "fees", "name": "Bo"}, "rita", claim_as="w")
    return engine.draft(task, "w").id


def fired(engine: Engine, task_id: str) -> list[tuple[str, object]]:
    return [
        (e.type, e.payload.get("number") or e.payload.get("to") or e.payload.get("outcome"))
        for e in engine.task_events(task_id)
        if e.type in ("reminder", "escalated", "deadline")
    ]


def test_reminders_then_escalation_then_the_deadline_rejects(engine: Engine, clock: Clock) -> None:
    task_id = drafted(engine)
    assert engine.get(task_id).due_at == clock.now + HOUR
    assert engine.fire_timers(clock.now + HOUR - 1) == 0  # not yet
    assert engine.fire_timers(clock.now + HOUR) == 1
    assert engine.fire_timers(clock.now + HOUR) == 0  # fired once
    # Nobody swept for three hours: one reminder, numbered as the latest, not three.
    assert engine.fire_timers(clock.now + 3.5 * HOUR) == 1
    assert engine.fire_timers(clock.now + 4 * HOUR) == 2  # the escalation, then reminder 4
    with pytest.raises(PermissionDeniedError):  # maria decides only once it escalated...
        other = drafted(engine)
        engine.decide(DecisionRequest(other, DecisionKind.APPROVE, person("maria")))
    engine.fire_timers(clock.now + 23 * HOUR)
    assert engine.fire_timers(clock.now + 24 * HOUR) >= 1
    assert fired(engine, task_id)[:4] == [
        ("reminder", 1),
        ("reminder", 3),
        ("escalated", ["group:managers"]),
        ("reminder", 4),
    ]
    assert fired(engine, task_id)[-1] == ("deadline", "rejected")
    task = engine.get(task_id)
    assert task.status is TaskStatus.REJECTED and task.final_output is None and task.due_at is None
    detail = engine.detail(task_id)
    outcome = outcome_of(detail.task, detail.decisions, detail.events)  # what a waiter gets
    assert not outcome.approved and "nobody decided within the deadline (1d)" in str(outcome.reason)
    assert verify_store(engine).ok


def test_an_escalated_task_may_be_decided_by_those_it_reached(engine: Engine, clock: Clock) -> None:
    task_id = drafted(engine)
    engine.fire_timers(clock.now + 4 * HOUR)
    assert ("escalated", ["group:managers"]) in fired(engine, task_id)
    done = engine.decide(DecisionRequest(task_id, DecisionKind.APPROVE, person("maria")))
    assert done.status is TaskStatus.APPROVED and done.due_at is None
    assert engine.fire_timers(clock.now + 48 * HOUR) == 0  # a decided task has no timers


def test_a_deadline_can_expire_a_task_and_a_revision_restarts_the_clock(
    engine: Engine, clock: Clock
) -> None:
    task_id = drafted(engine, "offer")
    clock.now += HOUR / 2
    engine.decide(DecisionRequest(task_id, DecisionKind.REVISE, person("zoe"), feedback="Warmer."))
    assert engine.get(task_id).due_at is None  # back in the queue: no timer runs
    redrafted = engine.draft(engine.claim("w") or engine.get(task_id), "w")
    assert redrafted.due_at == clock.now + HOUR  # from the new draft
    assert engine.fire_timers(clock.now + HOUR - 1) == 0
    assert engine.fire_timers(clock.now + HOUR) == 1
    assert engine.get(task_id).status is TaskStatus.EXPIRED
    assert verify_store(engine).ok


def test_deadlines_racing_decisions_and_two_sweepers_leave_one_outcome_each(
    url: str, clock: Clock
) -> None:
    count = 300 if url.startswith("postgresql") else 150
    with ExitStack() as stack:
        engines = [make_engine(url, clock) for _ in range(3)]
        for made in engines:
            stack.callback(made.store.close)
        task_ids = [drafted(engines[0], "offer") for _ in range(count)]
        due = clock.now + HOUR
        start = threading.Barrier(3)

        def sweep(made: Engine) -> None:
            start.wait()
            for _ in range(20):
                made.fire_timers(due, limit=50)

        def review(made: Engine) -> None:
            start.wait()
            for task_id in task_ids[::2]:
                with suppress(ConflictError):  # the deadline came first
                    made.decide(DecisionRequest(task_id, DecisionKind.APPROVE, person("zoe")))

        threads = [
            threading.Thread(target=sweep, args=(engines[0],)),
            threading.Thread(target=sweep, args=(engines[1],)),
            threading.Thread(target=review, args=(engines[2],)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engines[0].fire_timers(due, limit=count)
        for task_id in task_ids:
            detail = engines[0].detail(task_id)
            endings = [e.type for e in detail.events if e.type in ("deadline", "approve")]
            assert len(endings) == 1, endings  # exactly one outcome
            expected = TaskStatus.EXPIRED if endings == ["deadline"] else TaskStatus.APPROVED
            assert detail.task.status is expected and detail.task.due_at is None
        assert verify_store(engines[0]).ok


def test_reminders_fire_once_however_many_sweep(url: str, clock: Clock) -> None:
    with ExitStack() as stack:
        engines = [make_engine(url, clock) for _ in range(3)]
        for made in engines:
            stack.callback(made.store.close)
        task_ids = [drafted(engines[0]) for _ in range(40)]
        for hours in (1, 2, 3):
            threads = [
                threading.Thread(target=made.fire_timers, args=(clock.now + hours * HOUR,))
                for made in engines
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for task_id in task_ids:
            numbers = Counter(n for what, n in fired(engines[0], task_id) if what == "reminder")
            assert numbers == Counter({1: 1, 2: 1, 3: 1}), numbers


def test_bad_timer_settings_are_refused_naming_the_kind_and_the_setting(tmp_path: Path) -> None:
    cases = {
        'remind_after = "soon"': 'remind_after must be a duration such as "30m"',
        'deadline = "1d"\non_deadline = "approve"': 'on_deadline must be "reject" or "expire"',
        'escalate_after = "4h"': "escalate_after and escalate_to go together",
        'escalate_after = "4h"\nescalate_to = ["group:bosses"]': "escalate_to: unknown group",
        'deadline = "0s"': "deadline must be from 1 second to 366 days",
    }
    for setting, message in cases.items():
        (tmp_path / "placet.toml").write_text(
            f'[kinds.clause]\ntemplate = "About {{topic}}."\n{setting}\n', encoding="utf-8"
        )
        with pytest.raises(ConfigError) as caught:
            load_settings(tmp_path)
        assert "[kinds.clause]" in str(caught.value) and message in str(caught.value), setting


def test_overdue_tasks_are_listed_and_shown(tmp_path: Path) -> None:
    """placet ls --overdue and placet show, in the terminal, on what the timers did."""
    from tests.e2e.conftest import Cli

    cli = Cli(tmp_path)
    (tmp_path / "placet.toml").write_text(
        '[kinds.note]\ntemplate = "A note about {topic}."\nmax_tokens = 8\n'
        'remind_after = "1s"\ndeadline = "1d"\n',
        encoding="utf-8",
    )
    waiting = cli("submit", "note", "--input", "topic=tea").stdout.strip()
    assert cli("worker", "--max-tasks", "1", "--no-folder").returncode == 0
    assert cli("ls", "--overdue").stderr.strip() == "no tasks match"  # not reminded yet
    engine_settings = load_settings(tmp_path)
    store = SqlStore(engine_settings.database_url.replace("sqlite:///", f"sqlite:///{tmp_path}/"))
    try:
        engine = Engine(store, engine_settings, provider_for=lambda _model: FakeProvider())
        assert engine.fire_timers(engine.get(waiting).updated_at + 1.5) == 1
    finally:
        store.close()
    assert waiting in cli("ls", "--overdue").stdout
    shown = cli("show", waiting).stdout
    assert "timers: reminded 1 time · deadline in" in shown and "(then rejected)" in shown
