"""Query plans that must not depend on table statistics (Placet never runs ANALYZE on SQLite).

Without statistics SQLite's planner judges by the schema alone, and once
picked the index of every task of a kind over a page of decision ids: each
handler sweep then read every approved task (0.4 s a delivery with a million;
bench/handler_sweep.py). A page of one kind's tasks sorted every task of the kind
(0.9 s among a million). And a worker's idle probe sorted the whole queue to
find its first task (1.6 ms a claim with 10,000 queued, 0.3 ms in index
order). And SQLite indexes a status only under its kind (migration 0006), so a
query by status that forgot to name the kinds read every task. These tests pin
the shapes that stay flat.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import TaskKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import Engine
from placet.engine.stats import SCAN_LIMIT, collect_stats, overdue_now
from placet.store.deliveries import DECISION_PAGE, UNDELIVERED
from placet.store.idsearch import ids_starting_with
from placet.store.listing import list_query
from placet.store.sql import SqlStore
from placet.store.statements import (
    CLAIM_EXPIRED,
    CLAIM_QUEUED,
    CLAIMABLE,
    Sql,
    compile_statement,
)
from placet.testing import FakeProvider

PARAMS = {
    "handler": "app.send",
    "kind": "welcome",
    "outcome": "approved",
    "after": "01J0000000000000000000000",
    "through": "01K0000000000000000000000",
    "size": 1000,
    "limit": 1,
    "now": 1.7e9,
}


def compiled(folder: Path, statement: object) -> Sql:
    """The statement as the store runs it, on a database in ``folder`` (made if missing)."""
    store = SqlStore(f"sqlite:///{folder / 'placet.db'}")
    try:
        return compile_statement(statement, store.sql_engine.dialect)  # type: ignore[arg-type]
    finally:
        store.close()


def plan(tmp_path: Path, statement: object) -> list[str]:
    sql = compiled(tmp_path, statement)
    with closing(sqlite3.connect(tmp_path / "placet.db")) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql.text}", sql.bind(PARAMS)).fetchall()
    return [str(row[-1]) for row in rows]


def test_the_sweep_reads_a_range_of_decision_ids_not_every_task_of_the_kind(
    tmp_path: Path,
) -> None:
    steps = plan(tmp_path, UNDELIVERED)
    assert steps[0].startswith("SEARCH decisions USING") and "(id>? AND id<?)" in steps[0], steps
    assert not any("ix_tasks_kind_status_id" in step for step in steps), steps
    assert not any(step.startswith("SCAN") for step in steps), steps


def test_a_page_of_decisions_is_an_index_range(tmp_path: Path) -> None:
    (step,) = plan(tmp_path, DECISION_PAGE)
    assert step.startswith("SEARCH decisions USING") and "(id>?)" in step


HISTORY = 30_000  # approved "welcome" tasks: a page must not cost a read of each


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("history")
    SqlStore(f"sqlite:///{folder / 'placet.db'}").close()  # the schema
    with closing(sqlite3.connect(folder / "placet.db")) as conn, conn:  # closed, committed
        conn.execute(
            "INSERT INTO tasks (id, kind, input, requester, status, version, attempt, "
            "max_attempts, created_at, updated_at, head_hash, event_count) "
            "WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < ?) "
            "SELECT printf('01F%023d', g), 'welcome', '{}', 'dev', 'approved', 4, 1, 3, "
            "g, g, printf('%064d', 0), 4 FROM n",
            (HISTORY,),
        )
        conn.execute(  # and a requester with a few tasks of their own, among them
            "INSERT INTO tasks (id, kind, input, requester, status, version, attempt, "
            "max_attempts, created_at, updated_at, head_hash, event_count) "
            "WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 6) "
            "SELECT printf('01E%023d', g), 'welcome', '{}', 'olga', "
            "CASE WHEN g % 2 THEN 'approved' ELSE 'rejected' END, 4, 1, 3, "
            "g, g, printf('%064d', 0), 4 FROM n"
        )
    yield folder


def vm_steps(folder: Path, statement: object) -> int:
    """How many SQLite virtual-machine instructions the statement runs, to a hundred."""
    sql = compiled(folder, statement)
    return vm_steps_of_text(folder, sql.text, sql.bind(PARAMS))


def vm_steps_of_text(folder: Path, text: str, params: object = ()) -> int:
    """``vm_steps`` for SQL text (a trace shows it with its values written in)."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 100
        return 0

    with closing(sqlite3.connect(folder / "placet.db")) as conn:
        conn.set_progress_handler(count, 100)
        conn.execute(text, params).fetchall()  # type: ignore[arg-type]
    return steps


@pytest.mark.parametrize(
    "task_filter",
    [
        TaskFilter(kinds=("welcome",), newest_first=True),
        TaskFilter(kinds=("welcome", "reply"), after_id="01J0000000000000000000000"),
        TaskFilter(statuses=(TaskStatus.APPROVED, TaskStatus.REJECTED), newest_first=True),
        TaskFilter(kinds=("welcome",), statuses=(TaskStatus.AWAITING_REVIEW,)),
        TaskFilter(statuses=(TaskStatus.QUEUED,), after_id="01J0000000000000000000000"),
    ],
    ids=["one kind", "two kinds", "two statuses", "kind and status", "one status"],
)
def test_a_page_of_tasks_costs_a_page_not_a_read_of_every_matching_task(
    history: Path, task_filter: TaskFilter
) -> None:
    # (EXPLAIN cannot tell: for `status IN (...)` it shows a sort, but one that
    # stops each IN value at the page size.) Reading each of the 30,000 tasks
    # once is over 300,000 instructions; a page of 50 is a few thousand.
    assert vm_steps(history, list_query(task_filter, status_under_kind=True)) < HISTORY


@pytest.mark.parametrize(
    "task_filter",
    [
        TaskFilter(requester="olga", statuses=(TaskStatus.APPROVED,), newest_first=True),
        TaskFilter(requester="olga", kinds=("welcome",)),
        TaskFilter(requester="olga", kinds=("welcome",), statuses=(TaskStatus.REJECTED,)),
    ],
    ids=["a status", "a kind", "kind and status"],
)
def test_a_page_of_a_requesters_few_tasks_reads_theirs_not_every_task_of_the_status(
    history: Path, task_filter: TaskFilter
) -> None:
    store = SqlStore(f"sqlite:///{history / 'placet.db'}")
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 100
        return 0

    try:
        conn = store._db._connections.get()  # type: ignore[attr-defined]
        conn.set_progress_handler(count, 100)
        found = store.list_tasks(task_filter)
        conn.set_progress_handler(None, 100)
        everyone = store.list_tasks(replace(task_filter, requester=None, limit=100_000))
    finally:
        store.close()
    # Before: the walk read each of the 30,000 approved tasks to look at its requester.
    assert 0 < steps < HISTORY
    assert found == [task for task in everyone if task.requester == "olga"][: len(found)]
    assert {task.status for task in found} <= set(task_filter.statuses or TaskStatus)


QUEUE = 10_000  # queued tasks, behind the history: a claim must not read them all
KINDS = ("welcome", "reply", "policy")


@pytest.fixture(scope="module")
def queue(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history, then a long queue of three kinds, among it ten tasks whose leases ran out."""
    folder = tmp_path_factory.mktemp("queue")
    shutil.copy(history / "placet.db", folder / "placet.db")
    with closing(sqlite3.connect(folder / "placet.db")) as conn, conn:
        conn.execute(
            "INSERT INTO tasks (id, kind, input, requester, status, version, attempt, "
            "max_attempts, created_at, updated_at, head_hash, event_count, lease_expires_at) "
            "WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < ?) "
            "SELECT printf('01G%023d', g), CASE g % 3 WHEN 0 THEN ? WHEN 1 THEN ? ELSE ? END, "
            "'{}', 'dev', CASE WHEN g % 1000 = 7 THEN 'drafting' "
            "ELSE 'queued' END, 2, 1, 3, g, g, printf('%064d', 0), 2, "
            "CASE WHEN g % 1000 = 7 THEN 1.0 END FROM n",
            (QUEUE, *KINDS),
        )
    return folder


def oldest(folder: Path, where: str) -> str:
    with closing(sqlite3.connect(folder / "placet.db")) as conn:
        ((task_id,),) = conn.execute(f"SELECT min(id) FROM tasks WHERE {where}").fetchall()
    return str(task_id)


def first_id(folder: Path, statement: object) -> str:
    sql = compiled(folder, statement)
    with closing(sqlite3.connect(folder / "placet.db")) as conn:
        return str(conn.execute(sql.text, sql.bind(PARAMS)).fetchone()[0])


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        (CLAIM_QUEUED, "status = 'queued'"),
        (CLAIM_EXPIRED, "status = 'drafting' AND lease_expires_at < 1.7e9"),
        (CLAIMABLE, "status IN ('queued', 'drafting')"),
    ],
    ids=["queued", "expired", "claimable"],
)
def test_a_claim_takes_the_oldest_task_from_the_index_without_reading_the_queue(
    queue: Path, statement: object, where: str
) -> None:
    steps = plan(queue, statement)
    assert steps[0] == "SEARCH tasks USING INDEX ix_tasks_kind_status_id (kind=? AND status=?)"
    assert not any(step.startswith("SCAN tasks") for step in steps), steps
    # Reading each of the 10,000 queued tasks once is over 100,000 instructions.
    assert vm_steps(queue, statement) < QUEUE
    assert first_id(queue, statement) == oldest(queue, where)


def test_what_a_claim_runs_reads_a_few_index_entries_not_the_queue(
    queue: Path, tmp_path: Path
) -> None:
    shutil.copy(queue / "placet.db", tmp_path / "placet.db")  # the claim writes
    store = SqlStore(f"sqlite:///{tmp_path / 'placet.db'}")
    kinds = {name: TaskKind(name=name, template="About {topic}.") for name in KINDS}
    engine = Engine(store, Settings(kinds=kinds), provider_for=lambda _: FakeProvider())
    try:
        conn = store._db._connections.get()  # type: ignore[attr-defined]  # this thread's
        run: list[str] = []
        conn.set_trace_callback(run.append)
        claimed = engine.claim("worker")
        conn.set_trace_callback(None)
    finally:
        store.close()
    assert claimed is not None
    assert claimed.id == oldest(queue, "status = 'drafting' AND lease_expires_at < 1.7e9")
    selects = [sql for sql in run if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert selects
    for sql in selects:
        assert vm_steps_of_text(tmp_path, sql) < QUEUE, sql


def test_the_sealer_finds_the_tasks_to_log_through_their_own_small_index(tmp_path: Path) -> None:
    """Sealing reads the few tasks the log lacks, not every task ever made."""
    from placet.store.auditlog import _UNLOGGED_TASKS

    steps = plan(tmp_path, _UNLOGGED_TASKS.limit(100))
    assert steps == ["SCAN tasks USING COVERING INDEX ix_tasks_unlogged"] or steps == [
        "SCAN tasks USING INDEX ix_tasks_unlogged"
    ], steps


def test_a_task_found_by_the_start_of_its_id_is_an_index_range(tmp_path: Path) -> None:
    (step,) = plan(tmp_path, ids_starting_with("01J3V5", 11))
    assert step.startswith("SEARCH tasks USING") and "(id>? AND id<?)" in step, step


def test_a_timer_sweep_reads_the_due_tasks_through_their_own_index(tmp_path: Path) -> None:
    """Sweeping timers costs the tasks that are due, not every task ever made."""
    from placet.store.statements import DUE_TASKS

    (step,) = plan(tmp_path, DUE_TASKS)
    assert step.startswith("SEARCH tasks USING INDEX ix_tasks_due_at (") and "due_at<?" in step


def test_the_stats_scans_read_their_limit_not_every_task(history: Path, tmp_path: Path) -> None:
    """The stats page and /metrics read at most SCAN_LIMIT tasks a scan, however many exist."""
    shutil.copy(history / "placet.db", tmp_path / "placet.db")
    store = SqlStore(f"sqlite:///{tmp_path / 'placet.db'}")
    timed = TaskKind(name="welcome", template="Hi {name}.", remind_after=3600.0)
    settings = Settings(kinds={"welcome": timed, "reply": TaskKind(name="reply", template="{x}")})
    engine = Engine(store, settings, provider_for=lambda _: FakeProvider())
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 100
        return 0

    def steps_of(read: Callable[[], object]) -> int:
        nonlocal steps
        steps = 0
        conn = store._db._connections.get()  # type: ignore[attr-defined]  # this thread's
        conn.set_progress_handler(count, 100)
        try:
            read()
        finally:
            conn.set_progress_handler(None, 100)
        return steps

    try:
        history_scan = steps_of(lambda: collect_stats(engine, SCAN_LIMIT))
        every_task = steps_of(lambda: collect_stats(engine, HISTORY))
        # Nothing awaits review among the 30,000 approved "welcome" tasks: a few index entries.
        awaiting_scan = steps_of(lambda: overdue_now(engine, SCAN_LIMIT))
    finally:
        store.close()
    assert HISTORY >= 30 * SCAN_LIMIT and history_scan * 10 < every_task
    assert awaiting_scan < SCAN_LIMIT
