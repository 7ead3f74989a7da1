"""Query plans that must not depend on table statistics (Placet never runs ANALYZE on SQLite).

Without statistics SQLite's planner judges by the schema alone, and once
picked the index of every task of a kind over a page of decision ids: each
handler sweep then read every approved task (0.4 s a delivery with a million;
bench/handler_sweep.py). These tests pin the shapes that stay flat.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from placet.store.deliveries import DECISION_PAGE, UNDELIVERED
from placet.store.sql import SqlStore
from placet.store.statements import compile_statement

PARAMS = {
    "handler": "app.send",
    "kind": "welcome",
    "outcome": "approved",
    "after": "01J0000000000000000000000",
    "through": "01K0000000000000000000000",
    "size": 1000,
    "now": 1.7e9,
}


def plan(tmp_path: Path, statement: object) -> list[str]:
    store = SqlStore(f"sqlite:///{tmp_path / 'placet.db'}")
    try:
        sql = compile_statement(statement, store.sql_engine.dialect)  # type: ignore[arg-type]
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "placet.db") as conn:
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
