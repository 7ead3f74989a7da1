"""Outcome handlers in one process: real stores (SQLite and PostgreSQL), real runners."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import placet
from placet.config import Settings
from placet.domain.deliveries import DeliveryStatus, idempotency_key
from placet.domain.ids import id_floor, new_id
from placet.domain.models import DecisionKind, Task, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import UsageError
from placet.handlers.runner import HandlerRunner
from placet.handlers.sweep import RESWEEP_SECONDS, SETTLE_SECONDS, Sweeper
from placet.sdk.client import Client
from placet.store import open_store
from placet.store.deliveries import DeliveryStore
from placet.testing import FakeProvider, person
from tests.conformance import postgres

KIND = TaskKind("welcome", template="Write to {name}.", max_attempts=1)
WAIT_SECONDS = 60.0  # how long a background runner may take at most; never asserted on


class Clock:
    """Real time that a test can move forward, to make retries due without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Seen:
    """What the handlers saw: (handler, task id, key, attempt) per call."""

    calls: list[tuple[str, str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, handler: str, outcome: placet.Outcome, key: str) -> None:
        delivery = placet.current_delivery()
        assert delivery is not None and delivery.idempotency_key == key
        assert placet.current_idempotency_key() == key
        with self.lock:
            self.calls.append((handler, outcome.task_id, key, delivery.attempt))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'placet.db'}"
        return
    with postgres.fresh_schema(str(tmp_path)) as pg_url:
        yield pg_url


def make_client(url: str) -> Client:
    settings = Settings(database_url=url, kinds={KIND.name: KIND}, lease_seconds=60.0)
    provider = FakeProvider()
    engine = Engine(open_store(url), settings, provider_for=lambda _model: provider)
    return Client(engine, requester="dev", owns_store=True)


@pytest.fixture
def client(url: str) -> Iterator[Client]:
    with make_client(url) as opened:
        yield opened


def decide(client: Client, kind: DecisionKind = DecisionKind.APPROVE, name: str = "Ada") -> Task:
    task = client.engine.propose(KIND.name, {"name": name}, "dev", f"Hello {name}")
    reason = "Not now." if kind is DecisionKind.REJECT else None
    return client.engine.decide(DecisionRequest(task.id, kind, person("reviewer"), reason=reason))


def runner_for(client: Client, clock: Clock, **sweeper: float) -> HandlerRunner:
    def sweeper_for(deliveries: DeliveryStore, handler: placet.handlers.Handler) -> Sweeper:
        return Sweeper(deliveries, handler, clock=clock, **sweeper)  # type: ignore[arg-type]

    return HandlerRunner(
        client.engine, client.handlers, report=lambda _: None, clock=clock, sweeper_for=sweeper_for
    )


def events(client: Client, task_id: str, event_type: str) -> list[dict[str, object]]:
    return [e.payload for e in client.engine.store.events(task_id) if e.type == event_type]


def test_each_outcome_reaches_its_handler_once_with_a_stable_key(client: Client) -> None:
    seen = Seen()

    @client.on_approved(KIND.name)
    def send(outcome: placet.Outcome, key: str) -> None:
        assert outcome.approved and outcome.text == "Hello Ada" and outcome.input == {"name": "Ada"}
        seen.add("send", outcome, key)

    @client.on_rejected(KIND.name, name="audit.rejections")
    async def note(outcome: placet.Outcome, key: str) -> None:
        await asyncio.sleep(0)
        assert outcome.reason == "Not now." and outcome.kind == KIND.name
        seen.add("note", outcome, key)

    approved = decide(client)
    rejected = decide(client, DecisionKind.REJECT)
    assert client.run_pending_handlers() == 2
    assert client.run_pending_handlers() == 0
    approval = client.engine.detail(approved.id).decisions[-1].id
    rejection = client.engine.detail(rejected.id).decisions[-1].id
    send_name = f"{__name__}.{send.__qualname__}"  # module.qualname by default
    assert sorted(seen.calls) == [
        ("note", rejected.id, idempotency_key("audit.rejections", rejection), 1),
        ("send", approved.id, idempotency_key(send_name, approval), 1),
    ]
    (recorded,) = events(client, approved.id, "handler_succeeded")
    assert recorded == {
        "handler": send_name,
        "decision": approval,
        "idempotency_key": idempotency_key(send_name, approval),
        "attempt": 1,
    }
    assert verify_store(client.engine).ok


def test_a_failing_handler_is_retried_with_backoff_then_given_up(client: Client) -> None:
    seen = Seen()

    @client.on_approved(KIND.name, max_attempts=3, retry_delay=10.0)
    def flaky(outcome: placet.Outcome, key: str) -> None:
        seen.add("flaky", outcome, key)
        raise ConnectionError("the mail server is down")

    task = decide(client)
    clock = Clock()
    runner = runner_for(client, clock)
    assert runner.run_pending() == 1
    assert runner.run_pending() == 0  # not due for 10 s
    clock.offset += 10.0
    assert runner.run_pending() == 1
    clock.offset += 19.0
    assert runner.run_pending() == 0  # the second delay is 20 s
    clock.offset += 1.0
    assert runner.run_pending() == 1
    clock.offset += 3600.0
    assert runner.run_pending() == 0  # given up
    assert [call[3] for call in seen.calls] == [1, 2, 3]
    assert len({call[2] for call in seen.calls}) == 1  # one key for every attempt
    failures = events(client, task.id, "handler_failed")
    assert [f["attempt"] for f in failures] == [1, 2, 3]
    assert failures[-1]["next_try_at"] is None and "mail server is down" in str(failures[0])
    (delivery,) = client.engine.store.deliveries().for_task(task.id)
    assert delivery.status is DeliveryStatus.FAILED and delivery.attempts == 3
    assert "ConnectionError" in (delivery.last_error or "")


def test_a_new_handler_sees_decisions_from_its_first_sighting_unless_backfilled(
    client: Client,
) -> None:
    before = decide(client, name="Before")
    time.sleep(0.01)  # a later millisecond, so the first sighting sorts after that decision
    seen = Seen()

    @client.on_approved(KIND.name, name="new")
    def new(outcome: placet.Outcome, key: str) -> None:
        seen.add("new", outcome, key)

    @client.on_approved(KIND.name, name="backfilled", backfill=True)
    def backfilled(outcome: placet.Outcome, key: str) -> None:
        seen.add("backfilled", outcome, key)

    after = decide(client, name="After")
    assert client.run_pending_handlers() == 3
    assert sorted((handler, task) for handler, task, _, _ in seen.calls) == sorted(
        [("new", after.id), ("backfilled", before.id), ("backfilled", after.id)]
    )


def test_a_decision_committed_late_behind_the_walk_is_found_by_the_resweep(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen()

    @client.on_approved(KIND.name)
    def send(outcome: placet.Outcome, key: str) -> None:
        seen.add("send", outcome, key)

    clock = Clock()
    runner = runner_for(client, clock)
    slow = client.engine.propose(KIND.name, {"name": "Slow"}, "dev", "Hello Slow")
    made_early = new_id()  # the slow decider makes its decision's id now, commits later
    fast = decide(client, name="Fast")
    assert runner.run_pending() == 1  # the walk is now past the fast decision
    monkeypatch.setattr("placet.engine.core.new_id", lambda: made_early)
    client.engine.decide(DecisionRequest(slow.id, DecisionKind.APPROVE, person("reviewer")))
    monkeypatch.undo()
    assert runner.run_pending() == 0  # the hot walk only reads ids after the fast one
    clock.offset += RESWEEP_SECONDS
    assert runner.run_pending() == 1
    assert [task for _, task, _, _ in seen.calls] == [fast.id, slow.id]
    record = client.engine.store.deliveries().handler(runner.handlers.popitem()[0])
    # Nothing here is older than the settle margin, so the swept mark has not moved.
    assert record is not None and record.swept_id == id_floor(record.first_seen_at)
    assert id_floor(clock() - SETTLE_SECONDS) < record.swept_id


def test_a_backlog_is_walked_a_page_at_a_time(client: Client) -> None:
    seen = Seen()

    @client.on_approved(KIND.name)
    def send(outcome: placet.Outcome, key: str) -> None:
        seen.add("send", outcome, key)

    tasks = [decide(client, name=f"n{n}") for n in range(5)]
    decide(client, DecisionKind.REJECT)  # walked, but not this handler's
    runner = runner_for(client, Clock(), page_size=2, max_pages=1)
    assert runner.run_pending() == 5
    assert sorted(task for _, task, _, _ in seen.calls) == sorted(t.id for t in tasks)


def test_several_runners_run_each_delivery_once(url: str) -> None:
    clients = [make_client(url) for _ in range(3)]
    seen = Seen()
    for client in clients:
        client.on_approved(KIND.name, name="shared")(
            lambda outcome, key: seen.add("shared", outcome, key)
        )
    stop = threading.Event()
    threads = [threading.Thread(target=c.run_handlers, args=(stop,)) for c in clients]
    try:
        for thread in threads:
            thread.start()
        tasks = [decide(clients[n % 3], name=f"n{n}") for n in range(24)]
        deadline = time.monotonic() + WAIT_SECONDS
        while len(seen.calls) < len(tasks) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
    assert Counter(task for _, task, _, _ in seen.calls) == Counter(t.id for t in tasks)


def test_a_delivery_that_gave_up_can_be_retried_once_the_cause_is_fixed(client: Client) -> None:
    from placet.handlers.admin import failed_deliveries, retry_failed

    mail_server_up = False

    @client.on_approved(KIND.name, name="welcome.send", max_attempts=1)
    def send(outcome: placet.Outcome, key: str) -> None:
        if not mail_server_up:
            raise ConnectionError("the mail server is down")

    task = decide(client)
    runner = runner_for(client, Clock())
    assert runner.run_pending() == 1
    (gave_up,) = failed_deliveries(client.engine)
    assert gave_up.task_id == task.id and gave_up.handler == "welcome.send"
    assert retry_failed(client.engine, task.id, "ops", handler="another.handler") == []

    mail_server_up = True
    (retried,) = retry_failed(client.engine, task.id, "ops")
    assert retried.decision_id == gave_up.decision_id
    assert retry_failed(client.engine, task.id, "ops") == []  # no longer failed
    assert failed_deliveries(client.engine) == []
    assert runner.run_pending() == 1
    (delivery,) = client.engine.store.deliveries().for_task(task.id)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 1
    (retry_event,) = [e for e in client.engine.store.events(task.id) if e.type == "handler_retried"]
    assert retry_event.actor == "ops" and retry_event.payload["attempts_before"] == 1
    assert len(events(client, task.id, "handler_succeeded")) == 1
    assert verify_store(client.engine).ok


def test_a_pool_of_threads_runs_slow_handlers_at_the_same_time(client: Client) -> None:
    # The barrier lets a handler return only once three run at the same moment:
    # one or two threads would break it, fail the handlers, and leave them undelivered.
    together = threading.Barrier(3, timeout=10)
    seen = Seen()

    @client.on_approved(KIND.name, name="welcome.slow", max_attempts=1)
    def slow(outcome: placet.Outcome, key: str) -> None:
        seen.add("slow", outcome, key)
        together.wait()

    tasks = [decide(client, name=name) for name in ("Ada", "Bo", "Cy")]
    stop = threading.Event()
    pool = threading.Thread(target=client.run_handlers, args=(stop,), kwargs={"threads": 3})
    pool.start()
    deliveries = client.engine.store.deliveries()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            states = [d.status for t in tasks for d in deliveries.for_task(t.id)]
            if len(states) == 3 and all(s is not DeliveryStatus.PENDING for s in states):
                break
            time.sleep(0.05)
    finally:
        stop.set()
        pool.join(WAIT_SECONDS)
    assert not pool.is_alive()
    assert states == [DeliveryStatus.DELIVERED] * 3
    assert sorted(task for _, task, _, _ in seen.calls) == sorted(t.id for t in tasks)
    runners = {e.actor for t in tasks for e in client.engine.store.events(t.id)} - {
        "dev",
        "reviewer",
    }
    assert len(runners) == 3  # three runners, each recorded under its own name


def test_a_pool_needs_at_least_one_thread(client: Client) -> None:
    with pytest.raises(UsageError, match="at least 1, not 0"):
        client.run_handlers(threading.Event(), threads=0)
