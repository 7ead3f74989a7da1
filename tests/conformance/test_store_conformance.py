"""Behaviour every Store must show. Uses only the Store protocol."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from placet.domain.ids import new_id
from placet.domain.models import Decision, DecisionKind, Draft, TaskStatus, Usage
from placet.domain.queries import TaskFilter
from placet.errors import ConflictError, NotFoundError
from placet.store.base import Store
from tests.conformance.conftest import StoreFactory, change, new_task

S = TaskStatus


def draft_for(task_id: str, attempt: int = 1) -> Draft:
    return Draft(
        id=new_id(),
        task_id=task_id,
        attempt=attempt,
        provider="fake:echo",
        model="echo",
        messages=[{"role": "user", "content": "hi"}],
        output="Dear Rahul, …",
        usage=Usage(3, 4),
        latency_ms=1.5,
        created_at=1500.0,
        feedback=None,
    )


def test_a_created_task_reads_back_equal(store: Store) -> None:
    task, event = new_task()
    assert store.create_task(task, [event]) == task
    assert store.get_task(task.id) == task
    assert store.events(task.id) == [event]


def test_an_unknown_task_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_task("nope")
    with pytest.raises(NotFoundError):
        store.detail("nope")
    with pytest.raises(NotFoundError):
        store.get_draft("nope")


def test_the_same_idempotency_key_returns_the_first_task(store: Store) -> None:
    first, event = new_task(idempotency_key="key-1")
    store.create_task(first, [event])
    second, event2 = new_task(idempotency_key="key-1")
    assert store.create_task(second, [event2]).id == first.id
    assert len(store.list_tasks(TaskFilter())) == 1


def test_apply_is_compare_and_set(store: Store) -> None:
    task, event = new_task()
    store.create_task(task, [event])
    step = change(task, S.DRAFTING, lease_owner="w1")
    store.apply(step)
    with pytest.raises(ConflictError):
        store.apply(step)  # same expected version again
    assert store.get_task(task.id) == step.task
    assert len(store.events(task.id)) == 2


def test_a_losing_change_writes_nothing(store: Store) -> None:
    task, event = new_task(status=S.DRAFTING)
    store.create_task(task, [event])
    draft = draft_for(task.id)
    winner = replace(change(task, S.AWAITING_REVIEW, current_draft_id=draft.id), draft=draft)
    store.apply(winner)
    loser_draft = draft_for(task.id)
    loser = replace(
        change(task, S.AWAITING_REVIEW, current_draft_id=loser_draft.id), draft=loser_draft
    )
    with pytest.raises(ConflictError):
        store.apply(loser)
    detail = store.detail(task.id)
    assert [d.id for d in detail.drafts] == [draft.id]
    assert len(detail.events) == 2


def test_drafts_and_decisions_round_trip(store: Store) -> None:
    task, event = new_task(status=S.DRAFTING)
    store.create_task(task, [event])
    draft = draft_for(task.id)
    saved = store.apply(
        replace(change(task, S.AWAITING_REVIEW, current_draft_id=draft.id), draft=draft)
    )
    decision = Decision(
        id=new_id(),
        task_id=task.id,
        draft_id=draft.id,
        kind=DecisionKind.EDIT,
        actor="alice",
        created_at=3000.0,
        text="Hi",
        diff="-a\n+b\n",
    )
    store.apply(replace(change(saved, S.APPROVED, final_output="Hi"), decision=decision))
    detail = store.detail(task.id)
    assert detail.drafts == [draft] and store.get_draft(draft.id) == draft
    assert detail.decisions == [decision] == store.decisions(task.id)
    assert [e.seq for e in detail.events] == [1, 2, 3]
    assert detail.task.final_output == "Hi"


def test_claimable_has_queued_and_expired_leases_only(store: Store) -> None:
    queued, e1 = new_task()
    live, e2 = new_task(status=S.DRAFTING, lease_owner="w", lease_expires_at=5000.0)
    expired, e3 = new_task(status=S.DRAFTING, lease_owner="w", lease_expires_at=100.0)
    waiting, e4 = new_task(status=S.AWAITING_REVIEW)
    for task, event in ((queued, e1), (live, e2), (expired, e3), (waiting, e4)):
        store.create_task(task, [event])
    assert [t.id for t in store.claimable(now=1000.0, limit=10)] == [queued.id, expired.id]
    assert len(store.claimable(now=1000.0, limit=1)) == 1


def test_extend_lease_only_for_the_holder(store: Store) -> None:
    task, event = new_task(status=S.DRAFTING, lease_owner="w1", lease_expires_at=100.0)
    store.create_task(task, [event])
    assert store.extend_lease(task.id, "w1", 900.0)
    assert not store.extend_lease(task.id, "w2", 950.0)
    assert store.get_task(task.id).lease_expires_at == 900.0


def test_list_filters_and_keyset_pages(store: Store) -> None:
    made = []
    for n in range(7):
        task, event = new_task(kind="a" if n % 2 else "b", now=1000.0 + n)
        store.create_task(task, [event])
        made.append(task)
    ids = [t.id for t in made]
    page1 = store.list_tasks(TaskFilter(limit=3))
    page2 = store.list_tasks(TaskFilter(limit=3, after_id=page1[-1].id))
    assert [t.id for t in page1 + page2] == ids[:6]
    newest = store.list_tasks(TaskFilter(limit=2, newest_first=True))
    assert [t.id for t in newest] == ids[::-1][:2]
    older = store.list_tasks(TaskFilter(limit=10, newest_first=True, after_id=newest[-1].id))
    assert [t.id for t in older] == ids[::-1][2:]
    only_a = store.list_tasks(TaskFilter(kinds=("a",)))
    assert [t.id for t in only_a] == ids[1::2]
    assert store.list_tasks(TaskFilter(statuses=(S.APPROVED,))) == []
    assert store.count_by_status() == {("a", S.QUEUED): 3, ("b", S.QUEUED): 4}


def test_list_by_requester_and_creation_time(store: Store) -> None:
    made = []
    for n, requester in enumerate(["ana", "ben", "ana", "ana", "ben"]):
        task, event = new_task(now=1000.0 + n)
        task = replace(task, requester=requester)
        store.create_task(task, [event])
        made.append(task)
    anas = store.list_tasks(TaskFilter(requester="ana", newest_first=True, limit=2))
    assert [t.id for t in anas] == [made[3].id, made[2].id]
    rest = store.list_tasks(TaskFilter(requester="ana", newest_first=True, after_id=anas[-1].id))
    assert [t.id for t in rest] == [made[0].id]
    window = store.list_tasks(TaskFilter(created_after=1001.0, created_before=1004.0))
    assert [t.id for t in window] == [t.id for t in made[1:4]]


# Ids that share starts and ends, and ids holding LIKE's special characters: a
# lookup by part of an id takes the text literally, in any database's collation.
ID_PARTS = [
    "01HZZZ0000000000000000000A",
    "01J0000000000000000000000B",
    "01J0000000000000000000001B",
    "01J1000000000000000000000C",
    "AB%_X",
    "AB%Y",
    "ABC_",
    "AB\\Z",
]


def test_tasks_are_found_by_the_start_or_the_end_of_their_id(store: Store) -> None:
    for task_id in ID_PARTS:
        task, event = new_task()
        store.create_task(replace(task, id=task_id), [replace(event, task_id=task_id)])
    starting, ending = store.task_ids_starting_with, store.task_ids_ending_with
    assert starting("01J0", 10) == ID_PARTS[1:3]
    assert starting("01HZ", 10) == ID_PARTS[:1]  # the range above 01HZ ends below 01J
    assert starting("01", 2) == ID_PARTS[:2]  # the first ones, in id order
    assert starting(ID_PARTS[3], 10) == ID_PARTS[3:4]
    assert starting("01j", 10) == []  # as given: ids are compared exactly, case too
    assert starting("AB%", 10) == ["AB%Y", "AB%_X"]
    assert starting("AB_", 10) == []  # no wildcard: ABC_ does not start with AB_
    assert starting("AB\\", 10) == ["AB\\Z"]
    assert starting("02", 10) == []
    assert ending("B", 10) == ID_PARTS[1:3]
    assert ending("1B", 10) == ID_PARTS[2:3]
    assert ending("_", 10) == ["ABC_"]
    assert ending("%", 10) == []
    assert ending("0" * 40, 10) == []  # longer than any id
    assert ending("b", 10) == []


def test_iter_tasks_walks_past_a_page(store: Store) -> None:
    for _ in range(503):
        task, event = new_task()
        store.create_task(task, [event])
    assert len({t.id for t in store.iter_tasks()}) == 503


def test_the_change_token_moves_on_another_connections_commit(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    waiter, writer = store_factory(tmp_path), store_factory(tmp_path)
    try:
        token = waiter.change_token()
        task, event = new_task()

        def write() -> None:
            time.sleep(0.05)
            writer.create_task(task, [event])

        thread = threading.Thread(target=write)
        started = time.monotonic()
        thread.start()
        new_token = waiter.wait_for_change(token, timeout=10)
        thread.join()
        assert new_token != token
        assert time.monotonic() - started < 5  # woke on the commit, not the timeout
        assert waiter.get_task(task.id).id == task.id
    finally:
        waiter.close()
        writer.close()


def test_wait_for_change_times_out_when_nothing_happens(store: Store) -> None:
    token = store.change_token()
    assert store.wait_for_change(token, timeout=0.05) == token
