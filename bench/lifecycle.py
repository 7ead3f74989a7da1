"""Lifecycle throughput on SQLite: Placet beside a raw-sqlite3 floor and holdpoint.

One Placet item is the whole loop, each step durable before the next:
submit with ``claim_as=`` (submit and claim in one commit), a draft generated
by ``FakeProvider`` and saved, and an approval: three commits, each with its
hash-chained event. Beside it, in the same run, on the same filesystem:

* the floor: raw ``sqlite3``, one INSERT and one UPDATE per item, one commit
  each, with the same journal mode (WAL) and the same ``synchronous`` level;
* holdpoint 0.2.0: ``@hold.guard`` call plus ``hold.approve(...)``
  (holdpoint always runs WAL + ``synchronous=NORMAL``).

The contenders run interleaved, each repetition on a fresh database, and the
table shows medians and the median of the per-repetition ratios.

    .venv/bin/python bench/lifecycle.py [--quick] [--items N] [--reps R] [--baseline-ref REF]

``--baseline-ref REF`` adds Placet with the store files (``src/placet/store/
sql.py``, ``sqlite.py``, ``signals.py``) of git revision REF, everything else
current: the store's own gain, measured in the same run. (Its databases are
made by the current ``engines.py``, so with the current page size: the page
size's own gain is the "4 KB pages" row, run every time.)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import ROOT, machine_info, median, print_table, scratch_dir, verdict

SYNC_ENV = "PLACET_SQLITE_SYNCHRONOUS"
WARMUP_ITEMS = 30
MIN_REPS = 3  # a time budget never cuts the run below this many repetitions


@contextlib.contextmanager
def synchronous(level: str) -> Iterator[None]:
    """Placet reads its synchronous level from the environment when it connects."""
    old = os.environ.get(SYNC_ENV)
    os.environ[SYNC_ENV] = level
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(SYNC_ENV, None)
        else:
            os.environ[SYNC_ENV] = old


# -- contenders: each takes a fresh folder, an item count and a sync level -------------


@contextlib.contextmanager
def page_size(size: int | None) -> Iterator[None]:
    """New databases made with ``size``-byte pages instead of Placet's own size."""
    from placet.store import sqlite

    kept = sqlite.PAGE_SIZE_BYTES
    sqlite.PAGE_SIZE_BYTES = size or kept
    try:
        yield
    finally:
        sqlite.PAGE_SIZE_BYTES = kept


def run_placet_4k_pages(folder: Path, items: int, level: str) -> float:
    """Placet on a database made with SQLite's default 4 KB pages (before 2 KB ones)."""
    with page_size(4096):
        return run_placet(folder, items, level)


def run_placet(folder: Path, items: int, level: str, store_class: Any = None) -> float:
    """Items per second through the Engine: submit+claim, draft, approve."""
    from placet.config import Settings
    from placet.domain.models import DecisionKind, TaskKind, TaskStatus
    from placet.engine import DecisionRequest, Engine
    from placet.testing import FakeProvider, temp_store

    with synchronous(level):
        if store_class is None:
            store = temp_store(folder)
        else:
            store = store_class(f"sqlite:///{folder / 'placet.db'}")
        try:
            kind = TaskKind(
                name="onboarding_email",
                template="Write a short onboarding email to {name}.",
                system="You write friendly onboarding emails.",
            )
            settings = Settings(database_url=store.url, kinds={kind.name: kind})
            provider = FakeProvider()
            engine = Engine(store, settings, provider_for=lambda _model: provider)

            def one(index: int) -> None:
                task = engine.submit(kind.name, {"name": f"user{index}"}, "bench", claim_as="w1")
                task = engine.draft(task, "w1")
                done = engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, "reviewer"))
                assert done.status is TaskStatus.APPROVED

            rate = _timed(one, items)
            counts = store.count_by_status()
            assert counts[(kind.name, TaskStatus.APPROVED)] == items + WARMUP_ITEMS, counts
            return rate
        finally:
            store.close()


def run_floor(folder: Path, items: int, level: str) -> float:
    """Items per second for raw sqlite3: one INSERT and one UPDATE, one commit each."""
    conn = sqlite3.connect(folder / "floor.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={level}")
        conn.execute(
            "CREATE TABLE items (id TEXT PRIMARY KEY, status TEXT NOT NULL, "
            "payload TEXT NOT NULL, updated_at REAL NOT NULL)"
        )
        insert = "INSERT INTO items (id, status, payload, updated_at) VALUES (?, ?, ?, ?)"
        update = "UPDATE items SET status = ?, updated_at = ? WHERE id = ?"

        def one(index: int) -> None:
            item_id = f"{index:026d}"  # time-ordered, like Placet's ULIDs
            conn.execute(insert, (item_id, "pending", '{"name":"user"}', time.time()))
            conn.execute(update, ("approved", time.time(), item_id))  # autocommit: one commit

        rate = _timed(one, items)
        (count,) = conn.execute("SELECT count(*) FROM items WHERE status='approved'").fetchone()
        assert count == items + WARMUP_ITEMS
        return rate
    finally:
        conn.close()


def run_placet_sql(folder: Path, items: int, level: str) -> float:
    """Items per second for Placet's own SQL replayed with raw sqlite3: its ceiling.

    The same schema (made by Placet's migrations), the same pragmas, the same
    statements, values of the same shape and size; no engine, no store code.
    It says how fast Placet could be if all of its Python cost nothing.
    """
    from placet.store import sql, statements
    from placet.store.sqlite import WAL_AUTOCHECKPOINT_PAGES

    with synchronous(level):
        store = sql.SqlStore(f"sqlite:///{folder / 'placet.db'}")
        text = {stmt: store._sql[id(stmt)].text for stmt in statements.PREBUILT}
        store.close()
    conn = sqlite3.connect(folder / "placet.db", isolation_level=None)
    try:
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={level}",
            "foreign_keys=ON",
            f"wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}",
        ):
            conn.execute(f"PRAGMA {pragma}")
        digest, now = "5" * 64, time.time()
        payload = (
            '{"decision_id":"01JD0000000000000000000000","draft_id":"01JD0000000000000000000000",'
            '"kind":"approve","role":"reviewer","text_sha256":null,"feedback":null,"reason":null}'
        )
        messages = (
            '[{"role":"system","content":"You write friendly onboarding emails."},'
            '{"role":"user","content":"Write a short onboarding email to user1."}]'
        )
        st = statements
        insert_task, insert_event = text[st.INSERT_TASK], text[st.INSERT_EVENT]
        update_task, select_task = text[st.UPDATE_TASK], text[st.SELECT_TASK]
        insert_draft, select_draft = text[st.INSERT_DRAFT], text[st.SELECT_DRAFT]
        insert_decision = text[st.INSERT_DECISION]

        def one(index: int) -> None:
            task, draft, decision = (f"01J{c}{index + 10**9:022d}" for c in "TDC")
            event = (task, 0, "claim", "w1", now, payload, digest, digest)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                insert_task,
                (
                    task,
                    "onboarding_email",
                    '{"name":"user1"}',
                    "bench",
                    "drafting",
                    2,
                    1,
                    3,
                    now,
                    now,
                    digest,
                    2,
                    None,
                    None,
                    None,
                    "w1",
                    now + 60,
                    None,
                ),
            )
            conn.executemany(
                insert_event, [(*event[:1], 1, *event[2:]), (*event[:1], 2, *event[2:])]
            )
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                update_task,
                (
                    "awaiting_review",
                    3,
                    1,
                    now,
                    digest,
                    3,
                    draft,
                    None,
                    None,
                    None,
                    None,
                    task,
                    2,
                    "drafting",
                ),
            )
            conn.execute(
                insert_draft,
                (
                    draft,
                    task,
                    1,
                    "fake:echo",
                    "local:smollm2",
                    messages,
                    "Draft 1: Write a short onboarding email to user1.",
                    25,
                    9,
                    0.05,
                    now,
                    None,
                ),
            )
            conn.execute(insert_event, (*event[:1], 3, *event[2:]))
            conn.execute("COMMIT")
            conn.execute(select_task, (task,)).fetchall()
            conn.execute(select_draft, (draft,)).fetchall()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                update_task,
                (
                    "approved",
                    4,
                    1,
                    now,
                    digest,
                    4,
                    draft,
                    "Draft 1",
                    None,
                    None,
                    None,
                    task,
                    3,
                    "awaiting_review",
                ),
            )
            conn.execute(
                insert_decision,
                (
                    decision,
                    task,
                    draft,
                    "approve",
                    "reviewer",
                    "reviewer",
                    now,
                    None,
                    None,
                    None,
                    None,
                ),
            )
            conn.execute(insert_event, (*event[:1], 4, *event[2:]))
            conn.execute("COMMIT")

        return _timed(one, items)
    finally:
        conn.close()


def run_holdpoint(folder: Path, items: int, level: str) -> float:
    """Items per second for holdpoint: a guarded call queued, then approved (and run)."""
    from holdpoint import HoldPoint, SQLiteStore

    assert level == "NORMAL", "holdpoint always runs synchronous=NORMAL"
    store = SQLiteStore(folder / "holdpoint.db")
    try:
        hold = HoldPoint(store=store)

        @hold.guard(kind="send_email")
        def send_email(to: str, subject: str) -> str:
            return "sent"

        def one(index: int) -> None:
            pending = send_email(to=f"user{index}@example.com", subject="Welcome")
            result = hold.approve(pending.id, actor="reviewer")
            assert result.value == "sent"

        return _timed(one, items)
    finally:
        store.close()


def store_at(ref: str) -> Any:
    """The SqlStore class as the store files were at git revision ``ref``."""
    package = "placet_store_at_ref"
    folder = Path(tempfile.mkdtemp(prefix="placet-bench-ref-"))
    (folder / package).mkdir()
    (folder / package / "__init__.py").write_text("")
    for name in ("sql", "sqlite", "signals"):
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{ref}:src/placet/store/{name}.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for module in ("sqlite", "signals"):
            text = text.replace(f"from placet.store.{module} ", f"from {package}.{module} ")
        (folder / package / f"{name}.py").write_text(text)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(f"{package}.sql").SqlStore
    finally:
        sys.path.remove(str(folder))
        shutil.rmtree(folder, ignore_errors=True)


def _timed(one: Callable[[int], None], items: int) -> float:
    for index in range(WARMUP_ITEMS):
        one(-1 - index)
    started = time.perf_counter()
    for index in range(items):
        one(index)
    return items / (time.perf_counter() - started)


# -- the benchmark ---------------------------------------------------------------------


@dataclass
class Series:
    """One contender at one sync level across repetitions."""

    name: str
    level: str
    run: Callable[[Path, int, str], float]
    rates: list[float] = field(default_factory=list)


def benchmark(
    items: int,
    reps: int,
    with_full: bool = True,
    baseline_ref: str | None = None,
    budget: float | None = None,
) -> dict[str, Series]:
    """Run every contender ``reps`` times, interleaved; return the series by key."""
    series = {
        "placet@NORMAL": Series("Placet (engine, SQLite)", "NORMAL", run_placet),
        "holdpoint@NORMAL": Series("holdpoint 0.2.0 guard+approve", "NORMAL", run_holdpoint),
        "floor@NORMAL": Series("raw sqlite3 floor", "NORMAL", run_floor),
        "sql@NORMAL": Series("Placet's SQL replayed raw (ceiling)", "NORMAL", run_placet_sql),
        "4k@NORMAL": Series("Placet, 4 KB pages (SQLite's default)", "NORMAL", run_placet_4k_pages),
    }
    if with_full:
        series["placet@FULL"] = Series("Placet (engine, SQLite)", "FULL", run_placet)
        series["floor@FULL"] = Series("raw sqlite3 floor", "FULL", run_floor)
    if baseline_ref:
        old = store_at(baseline_ref)
        for level in ("NORMAL", "FULL") if with_full else ("NORMAL",):
            series[f"ref@{level}"] = Series(
                f"Placet, store files at {baseline_ref}",
                level,
                lambda folder, n, lvl, old=old: run_placet(folder, n, lvl, old),
            )
    started = time.monotonic()
    with scratch_dir("placet-bench-lifecycle-") as base:
        for rep in range(reps):
            if rep >= MIN_REPS and budget is not None and time.monotonic() - started > budget:
                print(
                    f"(lifecycle: stopped after {rep} repetitions, over its {budget:.0f} s budget)"
                )
                break
            order = list(series.values())
            if rep % 2:
                order.reverse()  # no contender always runs first (or last) in a round
            for entry in order:
                folder = base / f"{len(entry.rates)}-{entry.level}-{id(entry)}"
                folder.mkdir()
                entry.rates.append(entry.run(folder, items, entry.level))
    return series


def paired_ratio(top: Series, bottom: Series) -> float:
    """The median over repetitions of top/bottom measured in the same round."""
    return median([a / b for a, b in zip(top.rates, bottom.rates, strict=True)])


def report(series: dict[str, Series], items: int) -> bool:
    """Print the tables; True when both targets are met at NORMAL."""
    reps = len(series["placet@NORMAL"].rates)
    rows = []
    for entry in series.values():
        rows.append(
            [
                entry.name,
                entry.level,
                median(entry.rates),
                min(entry.rates),
                max(entry.rates),
                1000 / median(entry.rates),
            ]
        )
    print_table(
        f"Lifecycle throughput, {items} items x {reps} repetitions (medians)",
        ["contender", "synchronous", "items/s", "min", "max", "ms/item"],
        rows,
    )
    placet, hold, floor = (series[k] for k in ("placet@NORMAL", "holdpoint@NORMAL", "floor@NORMAL"))
    vs_hold, vs_floor = paired_ratio(placet, hold), paired_ratio(placet, floor)
    ratios = [
        ["Placet / holdpoint", "NORMAL", vs_hold, ">= 2.0x", verdict(vs_hold >= 2.0)],
        ["Placet / floor", "NORMAL", vs_floor, ">= 0.10x", verdict(vs_floor >= 0.10)],
    ]
    if "placet@FULL" in series:
        full = paired_ratio(series["placet@FULL"], series["floor@FULL"])
        ratios.append(["Placet / floor", "FULL", full, ">= 0.10x", verdict(full >= 0.10)])
        ratios.append(
            [
                "Placet FULL / holdpoint NORMAL",
                "mixed",
                paired_ratio(series["placet@FULL"], hold),
                "(info)",
                "",
            ]
        )
    ceiling = series["sql@NORMAL"]
    ratios.append(
        [
            "Placet's SQL replayed raw / holdpoint",
            "NORMAL",
            paired_ratio(ceiling, hold),
            "(info)",
            "",
        ]
    )
    ratios.append(
        [
            "Placet / Placet's SQL replayed raw",
            "NORMAL",
            paired_ratio(placet, ceiling),
            "(info)",
            "",
        ]
    )
    ratios.append(
        [
            "Placet / Placet with 4 KB pages",
            "NORMAL",
            paired_ratio(placet, series["4k@NORMAL"]),
            "(page size gain)",
            "",
        ]
    )
    for level in ("NORMAL", "FULL"):
        if f"ref@{level}" in series and f"placet@{level}" in series:
            ratios.append(
                [
                    f"Placet / {series[f'ref@{level}'].name}",
                    level,
                    paired_ratio(series[f"placet@{level}"], series[f"ref@{level}"]),
                    "(store gain)",
                    "",
                ]
            )
    print_table(
        "Lifecycle ratios (median of same-round ratios)",
        ["ratio", "synchronous", "value", "target", "verdict"],
        ratios,
    )
    return vs_hold >= 2.0 and vs_floor >= 0.10


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--items", type=int, help="items per repetition")
    parser.add_argument("--reps", type=int, help="repetitions")
    parser.add_argument("--no-full", action="store_true", help="skip synchronous=FULL")
    parser.add_argument("--budget", type=float, help="seconds; no new repetition after this")
    parser.add_argument(
        "--baseline-ref",
        metavar="REF",
        help="also run Placet with the store files of this git revision",
    )
    args = parser.parse_args(argv)
    items = args.items or (300 if args.quick else 2000)
    reps = args.reps or (3 if args.quick else 5)
    print(f"# lifecycle  ({machine_info()})")
    budget = args.budget or (30 if args.quick else 120)
    series = benchmark(items, reps, not args.no_full, args.baseline_ref, budget)
    report(series, items)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
