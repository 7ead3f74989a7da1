"""The notifications outbox in the store, on SQLite and PostgreSQL: written with each change
or not at all, claimed under a lease, fenced, retried; and each channel's health."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from placet.config import Settings
from placet.domain.channels import ChannelSettings, Webhook
from placet.domain.deliveries import DeliveryStatus
from placet.domain.models import DecisionKind, Task, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import ConfigError, ConflictError, ProviderError
from placet.store import open_store
from placet.testing import FakeProvider, person

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KIND = TaskKind("reply", template="Answer {q}", max_attempts=2, notify=("webhook:ops",))
QUIET = TaskKind("quiet", template="Note {q}", notify=())
OPS = Webhook("ops", "https://hooks.example.com/placet", SECRET)
AUDIT = Webhook("audit", "https://audit.example.com/in", SECRET, events=("decided",))


def settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        kinds={KIND.name: KIND, QUIET.name: QUIET},
        channels=ChannelSettings({"ops": OPS, "audit": AUDIT}),
        notify=("webhook:ops", "webhook:audit"),
        base_url="https://placet.example.com",
    )


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    provider = FakeProvider()
    opened = Engine(open_store(url), settings(url), provider_for=lambda _name: provider)
    yield opened
    opened.close(store_too=True)


def waiting(engine: Engine, kind: str = KIND.name) -> Task:
    return engine.propose(kind, {"q": "why?"}, "ana", "Because.")


def approve(engine: Engine, task: Task, **fields: object) -> Task:
    request = DecisionRequest(task.id, DecisionKind.APPROVE, person("rita"), **fields)  # type: ignore[arg-type]
    return engine.decide(request)


def test_each_change_people_hear_of_records_its_notifications_with_it(engine: Engine) -> None:
    task = waiting(engine)
    approve(engine, task)
    found = engine.notifications().for_task(task.id)
    # The kind's own list replaces the global one: ops hears of both, audit of neither.
    assert [(n.event, n.channel, n.event_seq) for n in found] == [
        ("awaiting_review", "webhook:ops", 2),
        ("decided", "webhook:ops", 3),
    ]
    first = found[0]
    assert (first.status, first.attempts, first.recipient) == (
        DeliveryStatus.PENDING,
        0,
        "hooks.example.com",
    )
    body = json.loads(first.body)
    assert body["type"] == "task.awaiting_review" and body["data"]["task_id"] == task.id
    assert body["data"]["links"]["task"] == f"https://placet.example.com/tasks/{task.id}"
    assert waiting(engine, QUIET.name) and verify_store(engine).ok


def test_the_global_list_and_each_channels_events_decide_who_hears(url: str) -> None:
    plain = TaskKind("plain", template="Note {q}")
    config = settings(url)
    config.kinds[plain.name] = plain
    engine = Engine(open_store(url), config, provider_for=lambda _name: FakeProvider())
    try:
        task = waiting(engine, plain.name)
        approve(engine, task)
        found = engine.notifications().for_task(task.id)
        assert [(n.event, n.channel) for n in found] == [
            ("awaiting_review", "webhook:ops"),
            ("decided", "webhook:ops"),
            ("decided", "webhook:audit"),  # audit hears only of decisions
        ]
        assert found[1].id != found[2].id and found[1].body == found[2].body
    finally:
        engine.close(store_too=True)


def test_a_change_that_loses_its_race_records_no_notification(engine: Engine) -> None:
    task = waiting(engine)
    stale = DecisionRequest(
        task.id, DecisionKind.APPROVE, person("rita"), task.current_draft_id, task.version
    )
    approve(engine, task)
    engine._written.forget(task.id)  # read the task again: the decision must lose
    with pytest.raises(ConflictError):
        engine.decide(stale)
    assert [n.event for n in engine.notifications().for_task(task.id)] == [
        "awaiting_review",
        "decided",
    ]


def test_a_failed_draft_is_told(url: str) -> None:
    failing = FakeProvider(fail_with=ProviderError("the model server is down"))
    engine = Engine(open_store(url), settings(url), provider_for=lambda _name: failing)
    try:
        task = engine.submit(KIND.name, {"q": "?"}, "ana")
        claimed = engine.claim("worker:1")
        assert claimed is not None
        with pytest.raises(ProviderError):
            engine.draft(claimed, "worker:1")
        (failed,) = engine.notifications().for_task(task.id)
        assert failed.event == "failed"
        assert json.loads(failed.body)["data"]["error"] == "the model server is down"
    finally:
        engine.close(store_too=True)


def test_a_claim_takes_one_due_notification_under_a_lease_and_counts_the_try(
    engine: Engine,
) -> None:
    task = waiting(engine)
    outbox = engine.notifications()
    (pending,) = outbox.for_task(task.id)
    now = pending.created_at + 1
    taken = outbox.claim("w1", now, 30.0)
    assert taken is not None and (taken.id, taken.attempts, taken.lease_owner) == (
        pending.id,
        1,
        "w1",
    )
    assert outbox.claim("w2", now, 30.0) is None  # leased: nobody else takes it
    assert outbox.next_due() == pytest.approx(now + 30.0)
    again = outbox.claim("w2", now + 31, 30.0)  # the lease lapsed (w1 was killed)
    assert again is not None and (again.id, again.attempts) == (pending.id, 2)
    # The lapsed try cannot reschedule what w2 holds now; its late success still counts.
    assert not outbox.fail(taken, "late", 500, now + 40, now + 32)
    assert outbox.succeed(taken, now + 33, 200)
    assert not outbox.succeed(again, now + 34, 200)
    done = outbox.get(pending.id)
    assert done is not None and (done.status, done.attempts, done.last_code) == (
        DeliveryStatus.DELIVERED,
        2,
        200,
    )


def test_a_notification_that_gave_up_is_listed_and_retried_with_the_same_id(
    engine: Engine,
) -> None:
    task = waiting(engine)
    outbox = engine.notifications()
    (pending,) = outbox.for_task(task.id)
    now = pending.created_at
    first = outbox.claim("w1", now, 30.0)
    assert first is not None and outbox.fail(first, "HTTP 500", 500, now + 5, now + 1)
    assert outbox.next_due() == pytest.approx(now + 5)
    second = outbox.claim("w1", now + 5, 30.0)
    assert second is not None and outbox.fail(second, "HTTP 503", 503, None, now + 6)
    (failed,) = outbox.failed(10)
    assert (failed.id, failed.status, failed.attempts, failed.last_error) == (
        pending.id,
        DeliveryStatus.FAILED,
        2,
        "HTTP 503",
    )
    assert outbox.undelivered() == {("webhook:ops", "failed"): 1}
    assert outbox.retry(pending.id, now + 10) and not outbox.retry(pending.id, now + 10)
    retried = outbox.get(pending.id)
    assert retried is not None and (retried.status, retried.attempts) == (
        DeliveryStatus.PENDING,
        0,
    )
    assert retried.webhook_id == f"msg_{pending.id}" and outbox.failed(10) == []


def test_a_channels_health_says_since_when_it_fails(engine: Engine) -> None:
    outbox = engine.notifications()
    tasks = [waiting(engine) for _ in range(3)]
    records = [outbox.for_task(task.id)[0] for task in tasks]
    now = max(record.created_at for record in records) + 1
    tries = [outbox.claim("w", now, 30.0) for _ in records]
    assert all(tries)
    first, second, third = (t for t in tries if t is not None)
    assert outbox.fail(first, "HTTP 500", 500, now + 60, now + 1)
    assert outbox.fail(second, "connection refused", None, now + 60, now + 2)
    (health,) = outbox.health()
    assert (health.channel, health.failing_since, health.failures, health.last_error) == (
        "webhook:ops",
        now + 1,
        2,
        "connection refused",
    )
    assert outbox.succeed(third, now + 3, 204)
    (health,) = outbox.health()
    assert (health.failing_since, health.last_ok_at, health.failures) == (None, now + 3, 0)
    # A failure that ended before that success (recorded late) does not mark it failing.
    late = outbox.claim("w", now + 61, 30.0)
    assert late is not None and outbox.fail(late, "old news", None, now + 90, now + 2.5)
    assert outbox.health()[0].failing_since is None


def test_reminders_escalations_and_a_deadline_are_told(url: str) -> None:
    timed = TaskKind(
        "timed",
        template="Note {q}",
        remind_after=3600.0,
        escalate_after=7200.0,
        escalate_to=("lena",),
        deadline=10800.0,
        on_deadline="expire",
    )
    config = settings(url)
    config.kinds[timed.name] = timed
    engine = Engine(open_store(url), config, provider_for=lambda _name: FakeProvider())
    try:
        task = waiting(engine, timed.name)
        start = engine.get(task.id).updated_at
        assert engine.fire_timers(start + 3600) == 1
        assert engine.fire_timers(start + 7200) == 2  # the escalation, then reminder 2
        assert engine.fire_timers(start + 10800) >= 1
        found = engine.notifications().for_task(task.id)
        told = [(n.event, n.channel) for n in found]
        assert told == [
            ("awaiting_review", "webhook:ops"),
            ("reminder", "webhook:ops"),
            ("escalated", "webhook:ops"),
            ("reminder", "webhook:ops"),
            ("decided", "webhook:ops"),
            ("decided", "webhook:audit"),
        ]
        bodies = [json.loads(n.body)["data"] for n in found]
        assert bodies[1]["reminder"] == 1 and bodies[3]["reminder"] == 2
        assert bodies[2]["escalated_to"] == ["lena"]
        assert bodies[4]["outcome"] == "expired" and bodies[4]["deadline"] == {"after": "3h"}
        assert bodies[4]["event"] == {"seq": 6, "type": "deadline", "actor": "placet"}
    finally:
        engine.close(store_too=True)


def test_a_kind_made_in_code_must_name_configured_channels(engine: Engine) -> None:
    engine.register_kind(TaskKind("told", template="x", notify=("webhook:ops",)))
    with pytest.raises(ConfigError, match="kind 'lost': notify: 'webhook:gone' is no config"):
        engine.register_kind(TaskKind("lost", template="x", notify=("webhook:gone",)))
    with pytest.raises(ConfigError, match="kind 'odd': notify: a channel is named TYPE:NAME"):
        engine.register_kind(TaskKind("odd", template="x", notify=("ops",)))
