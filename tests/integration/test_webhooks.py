"""Webhooks end to end: real stores (SQLite, PostgreSQL), a real HTTP receiver on loopback
that checks every signature with the Standard Webhooks library, real runners."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from placet.channels.notices import channel_alerts, retry_notification
from placet.channels.outbox import NotificationRunner
from placet.config import Settings
from placet.domain.channels import ChannelSettings, Webhook
from placet.domain.deliveries import DeliveryStatus
from placet.domain.models import DecisionKind, Task, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.errors import ConflictError, NotFoundError
from placet.store import open_store
from placet.testing import FakeProvider, person
from tests.integration.webhook_receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KIND = TaskKind("reply", template="Answer {q}", max_attempts=2)
WAIT_SECONDS = 60.0


class Clock:
    """Real time that a test can move forward, to make retries due without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Setup:
    engine: Engine
    receiver: Receiver
    clock: Clock
    runner: NotificationRunner

    def waiting(self, text: str = "Because.") -> Task:
        return self.engine.propose(KIND.name, {"q": "why?"}, "ana", text)

    def approve(self, task: Task) -> Task:
        return self.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rita")))

    def later(self, seconds: float) -> None:
        self.clock.offset += seconds

    def records(self, task: Task) -> list[object]:
        return list(self.engine.notifications().for_task(task.id))


def engine_for(url: str, hook: Webhook, clock: Clock | None = None) -> Engine:
    settings = Settings(
        database_url=url,
        kinds={KIND.name: KIND},
        channels=ChannelSettings({hook.name: hook}, alert_after=60.0),
        notify=(hook.address,),
        base_url="https://placet.example.com",
    )
    provider = FakeProvider()
    return Engine(open_store(url), settings, provider_for=lambda _name: provider)


@pytest.fixture
def setup(url: str) -> Iterator[Setup]:
    with Receiver(SECRET) as receiver:
        hook = Webhook("ops", receiver.url, SECRET, timeout=2.0, max_attempts=3, retry_delay=5.0)
        clock = Clock()
        engine = engine_for(url, hook)
        runner = NotificationRunner(engine, clock=clock, jitter=lambda: 0.0, report=lambda _: None)
        try:
            yield Setup(engine, receiver, clock, runner)
        finally:
            runner.close()
            engine.close(store_too=True)


def test_each_notification_arrives_signed_and_verified_once(setup: Setup) -> None:
    task = setup.waiting()
    setup.approve(task)
    assert setup.runner.run_pending() == 2
    got = setup.receiver.wait_for(2)
    records = setup.engine.notifications().for_task(task.id)
    assert [r.verified for r in got] == [True, True]  # the library's verifier accepted each
    assert [r.id for r in got] == [record.webhook_id for record in records]
    assert [r.body.decode() for r in got] == [record.body for record in records]
    assert [r.json["type"] for r in got] == ["task.awaiting_review", "task.decided"]
    assert got[0].json["data"]["draft"]["excerpt"] == "Because."
    assert got[0].headers["content-type"] == "application/json"
    assert all(record.status is DeliveryStatus.DELIVERED for record in records)
    assert [(record.attempts, record.last_code) for record in records] == [(1, 204), (1, 204)]
    (health,) = setup.engine.notifications().health()
    assert health.failing_since is None and health.last_ok_at is not None
    assert setup.runner.run_pending() == 0


def test_a_500_then_a_2xx_is_one_message_tried_twice_with_one_id(setup: Setup) -> None:
    task = setup.waiting()
    setup.receiver.answer(500)
    assert setup.runner.run_pending() == 1
    (record,) = setup.engine.notifications().for_task(task.id)
    assert (record.status, record.attempts, record.last_code) == (DeliveryStatus.PENDING, 1, 500)
    assert record.last_error == "HTTP 500: busy [31m now"  # the receiver's words, one clean line
    assert setup.runner.run_pending() == 0  # not due yet: 2.5 to 5 seconds later
    setup.later(5.0)
    assert setup.runner.run_pending() == 1
    first, second = setup.receiver.wait_for(2)
    assert first.id == second.id == record.webhook_id and first.body == second.body
    assert first.verified and second.verified
    (record,) = setup.engine.notifications().for_task(task.id)
    assert (record.status, record.attempts, record.last_code) == (DeliveryStatus.DELIVERED, 2, 204)


def test_a_receiver_down_then_back_gets_every_message(setup: Setup) -> None:
    setup.receiver.stop()
    tasks = [setup.waiting(f"Because {n}.") for n in range(3)]
    assert setup.runner.run_pending() == 3
    records = [setup.engine.notifications().for_task(task.id)[0] for task in tasks]
    assert all(r.status is DeliveryStatus.PENDING and r.attempts == 1 for r in records)
    assert "could not reach 127.0.0.1" in (records[0].last_error or "")
    assert channel_alerts(setup.engine, time.time()) == []  # not for long enough yet
    (alert,) = channel_alerts(setup.engine, time.time() + 61)
    assert alert.channel == "webhook:ops" and alert.failures == 3
    setup.receiver.start()
    setup.later(5.0)
    assert setup.runner.run_pending() == 3
    got = setup.receiver.wait_for(3)
    assert sorted(r.id for r in got) == sorted(r.webhook_id for r in records)
    assert all(r.verified for r in got)
    assert channel_alerts(setup.engine, time.time() + 61) == []


def test_after_its_tries_a_notification_gives_up_and_a_retry_sends_the_same_id(
    setup: Setup,
) -> None:
    task = setup.waiting()
    setup.receiver.answer(503, 502, 500)
    for _ in range(3):
        assert setup.runner.run_pending() == 1
        setup.later(3600.0)
    (record,) = setup.engine.notifications().for_task(task.id)
    assert (record.status, record.attempts, record.last_code) == (DeliveryStatus.FAILED, 3, 500)
    assert setup.runner.run_pending() == 0
    assert [r.id for r in setup.engine.notifications().failed(10)] == [record.id]
    with pytest.raises(NotFoundError):
        retry_notification(setup.engine, "msg_nothing", "ops-lead")
    retried = retry_notification(setup.engine, record.webhook_id, "ops-lead")
    assert retried.id == record.id
    with pytest.raises(ConflictError, match="not failed"):
        retry_notification(setup.engine, record.id, "ops-lead")
    assert setup.runner.run_pending() == 1
    got = setup.receiver.wait_for(4)
    assert {r.id for r in got} == {record.webhook_id}
    (record,) = setup.engine.notifications().for_task(task.id)
    assert (record.status, record.attempts) == (DeliveryStatus.DELIVERED, 1)
    (entry,) = setup.engine.accounts.security_events("ops-lead")
    assert (entry.action, entry.target) == ("retry_notification", record.id)


def test_a_receiver_asking_to_wait_is_waited_for(setup: Setup) -> None:
    task = setup.waiting()
    setup.receiver.answer(429, retry_after="120")
    before = setup.clock()
    assert setup.runner.run_pending() == 1
    (record,) = setup.engine.notifications().for_task(task.id)
    assert record.next_try_at >= before + 120


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_try(url: str) -> None:
    with Receiver(SECRET) as receiver:
        hook = Webhook("ops", receiver.url, SECRET, timeout=0.5)
        engine = engine_for(url, hook)
        runner = NotificationRunner(engine, report=lambda _: None)
        try:
            task = engine.propose(KIND.name, {"q": "?"}, "ana", "Hm.")
            receiver.answer(200, delay=2.0)
            assert runner.run_pending() == 1
            (record,) = engine.notifications().for_task(task.id)
            assert (record.status, record.last_error) == (
                DeliveryStatus.PENDING,
                "no answer in 0.5 s",
            )
        finally:
            runner.close()
            engine.close(store_too=True)


def test_a_channel_no_longer_configured_gives_up_saying_so(url: str, setup: Setup) -> None:
    task = setup.waiting()
    gone = Webhook("other", setup.receiver.url, SECRET)
    engine = engine_for(url, gone)  # the same database, where only "other" is configured
    runner = NotificationRunner(engine, report=lambda _: None)
    try:
        assert runner.run_pending() == 1
        (record,) = engine.notifications().for_task(task.id)
        assert record.status is DeliveryStatus.FAILED
        assert record.last_error == "channel webhook:ops is not configured here"
        assert setup.receiver.requests == []
    finally:
        runner.close()
        engine.close(store_too=True)


def test_a_running_sender_wakes_on_the_commit(setup: Setup) -> None:
    runner = NotificationRunner(setup.engine, report=lambda _: None)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        time.sleep(0.3)  # idle, asleep on the store's change signal
        task = setup.waiting()
        (got,) = setup.receiver.wait_for(1, timeout=WAIT_SECONDS)
        assert got.json["data"]["task_id"] == task.id and got.verified
    finally:
        stop.set()
        thread.join(timeout=WAIT_SECONDS)
    assert not thread.is_alive()
    body = json.loads(setup.engine.notifications().for_task(task.id)[0].body)
    assert body["data"]["links"]["task"].endswith(f"/tasks/{task.id}")
