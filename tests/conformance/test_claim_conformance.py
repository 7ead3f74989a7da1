"""How every Store claims: one claimer per task, expired leases first. Uses only the protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.domain.changes import Change
from placet.domain.models import Task, TaskStatus
from placet.errors import NotFoundError
from placet.store.base import ClaimChange, Store
from tests.conformance.conftest import StoreFactory, change, new_task
from tests.conftest import run_together

S = TaskStatus


def claim_for(worker: str) -> tuple[list[Task], ClaimChange]:
    """A ``change_for`` that claims any task it is offered, and the tasks it was offered."""
    offered: list[Task] = []

    def change_for(task: Task) -> Change:
        offered.append(task)
        return change(task, S.DRAFTING, "claim", lease_owner=worker, lease_expires_at=9000.0)

    return offered, change_for


def test_a_claim_takes_the_oldest_queued_task(store: Store) -> None:
    first, e1 = new_task(now=1000.0)
    second, e2 = new_task(now=1001.0)
    for task, event in ((first, e1), (second, e2)):
        store.create_task(task, [event])
    offered, change_for = claim_for("w1")
    claimed = store.claim(1500.0, change_for)
    assert claimed is not None and claimed.id == first.id and claimed.lease_owner == "w1"
    assert [t.id for t in offered] == [first.id]
    assert store.get_task(first.id) == claimed
    assert [e.type for e in store.events(first.id)] == ["submitted", "claim"]


def test_an_expired_lease_is_claimed_before_the_queue(store: Store) -> None:
    queued, e1 = new_task()
    expired, e2 = new_task(status=S.DRAFTING, lease_owner="gone", lease_expires_at=100.0)
    live, e3 = new_task(status=S.DRAFTING, lease_owner="busy", lease_expires_at=5000.0)
    for task, event in ((queued, e1), (expired, e2), (live, e3)):
        store.create_task(task, [event])
    _, change_for = claim_for("w2")
    claimed = store.claim(1000.0, change_for)
    assert claimed is not None and claimed.id == expired.id


def test_declining_the_offer_changes_nothing(store: Store) -> None:
    task, event = new_task()
    store.create_task(task, [event])
    assert store.claim(1000.0, lambda _task: None) is None
    assert store.get_task(task.id) == task


def test_nothing_to_claim_is_none(store: Store) -> None:
    waiting, event = new_task(status=S.AWAITING_REVIEW)
    store.create_task(waiting, [event])
    _, change_for = claim_for("w1")
    assert store.claim(1000.0, change_for) is None


def test_a_named_claim_takes_that_task(store: Store) -> None:
    first, e1 = new_task()
    second, e2 = new_task()
    for task, event in ((first, e1), (second, e2)):
        store.create_task(task, [event])
    _, change_for = claim_for("w1")
    claimed = store.claim(1000.0, change_for, task_id=second.id)
    assert claimed is not None and claimed.id == second.id
    with pytest.raises(NotFoundError):
        store.claim(1000.0, change_for, task_id="no-such-task")


def test_concurrent_claimers_never_share_a_task(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    stores = [store_factory(tmp_path) for _ in range(4)]
    try:
        ids = set()
        for n in range(40):
            task, event = new_task(now=1000.0 + n)
            stores[0].create_task(task, [event])
            ids.add(task.id)
        claimed: list[str] = []

        def claim_all(store: Store, worker: str) -> None:
            _, change_for = claim_for(worker)
            while (task := store.claim(1500.0, change_for)) is not None:
                claimed.append(task.id)

        run_together(claim_all, [(s, f"w{n}") for n, s in enumerate(stores)])
        assert sorted(claimed) == sorted(ids)
    finally:
        for store in stores:
            store.close()
