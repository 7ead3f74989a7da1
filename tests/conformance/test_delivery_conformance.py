"""Handler deliveries on every SQL store: found once, leased to one worker, fenced, recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.deliveries import LOWEST_ID, DeliveryStatus, Found
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine
from placet.store.base import Store
from placet.store.deliveries import DeliveryStore
from placet.testing import FakeProvider, person
from tests.conformance.conftest import StoreFactory
from tests.conftest import run_together

KIND = TaskKind("email", template="Write to {name}.", max_attempts=1)
OTHER = TaskKind("other", template="Write to {name}.", max_attempts=1)
APPROVED, REJECTED = TaskStatus.APPROVED, TaskStatus.REJECTED
END = "Z" * 26  # sorts after every ULID


def engine_on(store: Store) -> Engine:
    settings = Settings(kinds={KIND.name: KIND, OTHER.name: OTHER})
    provider = FakeProvider()
    return Engine(store, settings, provider_for=lambda _model: provider)


def decided(engine: Engine, kind: DecisionKind, task_kind: str = KIND.name) -> Task:
    task = engine.propose(task_kind, {"name": "Rahul"}, "dev", "Hello Rahul")
    reason = "no" if kind is DecisionKind.REJECT else None
    feedback = "again" if kind is DecisionKind.REVISE else None
    request = DecisionRequest(task.id, kind, person("rev"), reason=reason, feedback=feedback)
    return engine.decide(request)


def last_decision(engine: Engine, task: Task) -> str:
    return engine.detail(task.id).decisions[-1].id


@pytest.fixture
def deliveries(store: Store) -> DeliveryStore:
    return store.deliveries()


def test_registering_again_keeps_the_first_sighting(deliveries: DeliveryStore) -> None:
    deliveries.register("app.send", "email", APPROVED, 1000.0, "01A")
    deliveries.register("app.send", "email", APPROVED, 2000.0, "01B")
    record = deliveries.handler("app.send")
    assert record is not None
    assert (record.first_seen_at, record.swept_id, record.outcome) == (1000.0, "01A", APPROVED)
    assert deliveries.handler("app.unknown") is None


def test_the_swept_mark_only_moves_forward(deliveries: DeliveryStore) -> None:
    deliveries.register("app.send", "email", APPROVED, 1000.0, "01B")
    deliveries.advance("app.send", "01A")
    deliveries.advance("app.send", "01C")
    record = deliveries.handler("app.send")
    assert record is not None and record.swept_id == "01C"


def test_only_final_decisions_of_the_kind_and_outcome_are_found(
    store: Store, deliveries: DeliveryStore
) -> None:
    engine = engine_on(store)
    approved = decided(engine, DecisionKind.APPROVE)
    edited_task = engine.propose(KIND.name, {"name": "Ada"}, "dev", "Hi Ada")
    edited = engine.decide(
        DecisionRequest(edited_task.id, DecisionKind.EDIT, person("rev"), text="Hello Ada")
    )
    rejected = decided(engine, DecisionKind.REJECT)
    decided(engine, DecisionKind.APPROVE, OTHER.name)
    out_of_attempts = decided(engine, DecisionKind.REVISE)  # max_attempts=1: rejected
    found = deliveries.undelivered("h", KIND.name, APPROVED, LOWEST_ID, END)
    assert {f.task_id for f in found} == {approved.id, edited.id}
    assert {f.decision_id for f in found} == {
        last_decision(engine, approved),
        last_decision(engine, edited),
    }
    rejections = deliveries.undelivered("h", KIND.name, REJECTED, LOWEST_ID, END)
    assert {f.task_id for f in rejections} == {rejected.id, out_of_attempts.id}


def test_a_revised_task_is_found_by_its_last_decision_only(
    store: Store, deliveries: DeliveryStore
) -> None:
    engine = engine_on(store)
    engine.register_kind(TaskKind("retried", template="Write to {name}.", max_attempts=2))
    task = engine.propose("retried", {"name": "Rahul"}, "dev", "v1")
    engine.decide(DecisionRequest(task.id, DecisionKind.REVISE, person("rev"), feedback="warmer"))
    claimed = engine.claim("w", task.id)
    assert claimed is not None
    engine.draft(claimed, "w")
    engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rev")))
    found = deliveries.undelivered("h", "retried", APPROVED, LOWEST_ID, END)
    assert [f.decision_id for f in found] == [last_decision(engine, engine.get(task.id))]


def test_a_delivery_row_is_made_once_and_hides_the_decision(
    store: Store, deliveries: DeliveryStore
) -> None:
    engine = engine_on(store)
    task = decided(engine, DecisionKind.APPROVE)
    found = deliveries.undelivered("h", KIND.name, APPROVED, LOWEST_ID, END)
    deliveries.add("h", found, 1000.0)
    deliveries.add("h", found, 2000.0)  # another worker walked the same page
    assert deliveries.undelivered("h", KIND.name, APPROVED, LOWEST_ID, END) == []
    assert deliveries.undelivered("h2", KIND.name, APPROVED, LOWEST_ID, END) == found
    (record,) = deliveries.for_task(task.id)
    assert (record.status, record.attempts, record.created_at) == (
        DeliveryStatus.PENDING,
        0,
        1000.0,
    )


def test_pages_bound_the_walk(store: Store, deliveries: DeliveryStore) -> None:
    engine = engine_on(store)
    tasks = [decided(engine, DecisionKind.APPROVE) for _ in range(3)]
    ids = sorted(last_decision(engine, task) for task in tasks)
    assert deliveries.decision_page(LOWEST_ID, 2) == ids[:2]
    assert deliveries.decision_page(ids[1], 2) == ids[2:]
    found = deliveries.undelivered("h", KIND.name, APPROVED, ids[0], ids[1])
    assert [f.decision_id for f in found] == [ids[1]]


def pending(store: Store, deliveries: DeliveryStore, handler: str = "h") -> Found:
    engine = engine_on(store)
    task = decided(engine, DecisionKind.APPROVE)
    found = Found(last_decision(engine, task), task.id)
    deliveries.add(handler, [found], 1000.0)
    return found


def test_a_claim_leases_the_delivery(store: Store, deliveries: DeliveryStore) -> None:
    found = pending(store, deliveries)
    assert deliveries.claim(["other"], "w1", 1000.0, 60.0) is None
    record = deliveries.claim(["h"], "w1", 1000.0, 60.0)
    assert record is not None and record.decision_id == found.decision_id
    assert (record.attempts, record.lease_owner, record.next_try_at) == (1, "w1", 1060.0)
    assert deliveries.claim(["h"], "w2", 1059.0, 60.0) is None  # leased
    again = deliveries.claim(["h"], "w2", 1061.0, 60.0)  # the lease ran out: w1 is gone
    assert again is not None and (again.attempts, again.lease_owner) == (2, "w2")
    assert deliveries.get("h", found.decision_id) == again


def test_only_the_current_run_extends_or_reschedules(
    store: Store, deliveries: DeliveryStore
) -> None:
    pending(store, deliveries)
    stale = deliveries.claim(["h"], "w1", 1000.0, 60.0)
    current = deliveries.claim(["h"], "w2", 1100.0, 60.0)
    assert stale is not None and current is not None
    assert not deliveries.extend(stale, 5000.0)
    assert not deliveries.fail(stale, "boom", 5000.0, 1100.0)
    assert deliveries.extend(current, 1200.0)
    assert deliveries.fail(current, "boom", 1300.0, 1110.0)
    record = deliveries.get(current.handler, current.decision_id)
    assert record is not None
    assert (record.status, record.next_try_at, record.last_error, record.lease_owner) == (
        DeliveryStatus.PENDING,
        1300.0,
        "boom",
        None,
    )
    assert deliveries.next_due(["h"]) == 1300.0


def test_success_is_recorded_once(store: Store, deliveries: DeliveryStore) -> None:
    pending(store, deliveries)
    stale = deliveries.claim(["h"], "w1", 1000.0, 60.0)
    current = deliveries.claim(["h"], "w2", 1100.0, 60.0)
    assert stale is not None and current is not None
    assert deliveries.succeed(stale, 1120.0)  # the slow run finished first: it counts
    assert not deliveries.succeed(current, 1130.0)
    record = deliveries.get("h", current.decision_id)
    assert record is not None and record.status is DeliveryStatus.DELIVERED
    assert record.finished_at == 1120.0
    assert deliveries.claim(["h"], "w3", 9000.0, 60.0) is None
    assert deliveries.next_due(["h"]) is None


def test_giving_up_keeps_the_failure(store: Store, deliveries: DeliveryStore) -> None:
    found = pending(store, deliveries)
    record = deliveries.claim(["h"], "w1", 1000.0, 60.0)
    assert record is not None
    assert deliveries.fail(record, "ValueError('bad')", None, 1001.0)
    (kept,) = deliveries.for_task(found.task_id)
    assert (kept.status, kept.last_error, kept.finished_at) == (
        DeliveryStatus.FAILED,
        "ValueError('bad')",
        1001.0,
    )
    assert deliveries.claim(["h"], "w2", 9000.0, 60.0) is None


def test_concurrent_claimers_never_share_a_delivery(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    stores = [store_factory(tmp_path) for _ in range(4)]
    try:
        engine = engine_on(stores[0])
        first = stores[0].deliveries()
        for _ in range(30):
            task = decided(engine, DecisionKind.APPROVE)
            first.add("h", [Found(last_decision(engine, task), task.id)], 1000.0)
        claimed: list[str] = []

        def claim_all(store: Store, worker: str) -> None:
            deliveries = store.deliveries()
            while (record := deliveries.claim(["h"], worker, 1500.0, 60.0)) is not None:
                claimed.append(record.decision_id)

        run_together(claim_all, [(s, f"w{n}") for n, s in enumerate(stores)])
        assert len(claimed) == 30 and len(set(claimed)) == 30
    finally:
        for store in stores:
            store.close()
