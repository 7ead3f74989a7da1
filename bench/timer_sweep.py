"""Timer sweeps (reminders, escalations, deadlines) at 1,000 and at 1,000,000 waiting tasks.

Every worker and ``placet serve`` call ``Engine.fire_timers`` twice a second.
Its cost must not grow with the number of tasks that have timers (the due ones
come from the partial index ``ix_tasks_due_at``), and a timer must fire within
a second of its due time. Measured here, on SQLite (and PostgreSQL with
``PLACET_TEST_DATABASE_URL``), at each depth:

* an idle sweep (nothing due), median of many: what a worker pays twice a second;
* firing 1,000 due deadlines in one sweep: the cost per timer fired;
* the delay from due to fired with a real ``Worker`` sweeping: 300 tasks whose
  reminders fall due over a few seconds, p50 and p99 of (event time - due time).

The filler tasks (all but 1,000) are written with SQL straight into the tasks
table: waiting tasks whose next timer is a year away, as a deep backlog looks.

    .venv/bin/python bench/timer_sweep.py [--quick] [--depth N ...]

Target (issue 16): the 1,000,000 idle sweep within 1.5x of the 1,000 one; fired
within 1 s of due at p99.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from common import ROOT, machine_info, median, percentile, print_table, scratch_dir, verdict

from placet.config import Settings
from placet.domain.models import TaskKind
from placet.engine import Engine
from placet.engine.worker import Worker
from placet.store.sql import SqlStore
from placet.testing import FakeProvider

DUE = 1000  # the timers that fall due in the firing measurement
YEAR = 365 * 86400.0
LATE = TaskKind(name="late", template="A note about {topic}.", deadline=3600.0)
NAG = TaskKind(name="nag", template="A note about {topic}.", remind_after=2.0)


def make_engine(url: str) -> Engine:
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds={"late": LATE, "nag": NAG})
    return Engine(SqlStore(url), settings, provider_for=lambda _model: provider)


def fill(url: str, count: int, due_at: float) -> None:
    """``count`` waiting tasks whose next timer is at ``due_at``, written in one statement.

    PostgreSQL's statistics are brought up to date at every depth (as autovacuum
    would), so the planner sees each table as it is: at 1,000 tasks too.
    """
    columns = (
        "id, kind, input, requester, status, version, attempt, max_attempts, created_at, "
        "updated_at, head_hash, event_count, logged_count, due_at"
    )
    values = (
        "'F' || printf('%025d', n), 'late', '{}', 'bench', 'awaiting_review', 2, 1, 3, "
        f"0.0, 0.0, '{'0' * 64}', 2, 2, {due_at}"
    )
    engine = sa.create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as conn:
            if count > 0 and sqlite:
                conn.exec_driver_sql(
                    f"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
                    f"WHERE n < {count}) INSERT INTO tasks ({columns}) SELECT {values} FROM c"
                )
            elif count > 0:
                pg_values = values.replace("printf('%025d', n)", "lpad(n::text, 25, '0')")
                conn.exec_driver_sql(
                    f"INSERT INTO tasks ({columns}) SELECT {pg_values} "
                    f"FROM generate_series(1, {count}) n"
                )
            if not sqlite:
                conn.exec_driver_sql("ANALYZE tasks")
    finally:
        engine.dispose()


def drafted(engine: Engine, kind: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        task = engine.submit(kind, {"topic": f"t{index}"}, "bench", claim_as="w")
        ids.append(engine.draft(task, "w").id)
    return ids


def measure_depth(url: str, depth: int, idle_reps: int) -> dict[str, float]:
    """Idle sweep and per-timer firing cost with ``depth`` waiting tasks that have timers."""
    engine = make_engine(url)
    try:
        drafted(engine, "late", DUE)
        fill(url, depth - DUE, time.time() + YEAR)
        now = time.time()  # nothing is due yet: deadlines are an hour away
        idle = []
        for _ in range(idle_reps):
            started = time.perf_counter()
            assert engine.fire_timers(now) == 0
            idle.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        fired = engine.fire_timers(now + 3601, limit=DUE)
        firing = (time.perf_counter() - started) * 1000
        assert fired == DUE, fired
        return {"idle_ms": median(idle), "per_timer_ms": firing / DUE}
    finally:
        engine.store.close()


def measure_delay(url: str, tasks: int) -> list[float]:
    """Seconds from due to fired, with a real Worker sweeping as placet worker does."""
    engine = make_engine(url)
    try:
        drafted(engine, "nag", tasks)  # reminders every 2 s from each draft
        worker = Worker(make_engine(url), report=lambda _line: None)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        time.sleep(5.0)
        worker.stop_requested.set()
        thread.join(10)
        worker.engine.store.close()
        delays = []
        for task_id in _ids(engine, "nag"):
            for event in engine.task_events(task_id):
                if event.type == "reminder":
                    delays.append(event.created_at - float(event.payload["due_at"]))
        return delays
    finally:
        engine.store.close()


def _ids(engine: Engine, kind: str) -> Iterator[str]:
    from placet.domain.queries import TaskFilter

    for task in engine.list_tasks(TaskFilter(kinds=(kind,), limit=10000)):
        yield task.id


@contextmanager
def databases(folder: Path, name: str) -> Iterator[list[tuple[str, str]]]:
    urls = [("SQLite", f"sqlite:///{folder / name}.db")]
    pg_url = os.environ.get("PLACET_TEST_DATABASE_URL")
    if pg_url:
        sys.path.insert(0, str(ROOT))  # the test suite's helper makes a fresh schema
        from tests.conformance import postgres as pg

        with pg.fresh_schema() as fresh:
            urls.append(("PostgreSQL", fresh))
            yield urls
        return
    yield urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 instead of 1,000,000")
    parser.add_argument("--depth", type=int, nargs="*", help="the depths to measure")
    args = parser.parse_args()
    deep = 100_000 if args.quick else 1_000_000
    depths = args.depth or [DUE, deep]
    print(machine_info())
    rows, ratios = [], []
    with scratch_dir("placet-bench-timers-") as folder:
        for label in ("SQLite", "PostgreSQL"):
            found = {}
            for depth in depths:
                with databases(folder, f"d{depth}") as urls:
                    url = dict(urls).get(label)
                    if url is None:
                        continue
                    found[depth] = measure_depth(url, depth, idle_reps=50)
                    rows.append(
                        [label, f"{depth:,}", found[depth]["idle_ms"], found[depth]["per_timer_ms"]]
                    )
            if len(found) >= 2:
                low, high = found[min(found)], found[max(found)]
                ratio = high["idle_ms"] / low["idle_ms"]
                depths_said = f"{max(found):,} / {min(found):,}"
                ratios.append([label, depths_said, ratio, "<= 1.5x", verdict(ratio <= 1.5)])
        with databases(folder, "delay") as urls:
            for label, url in urls:
                delays = measure_delay(url, 300)
                p50, p99 = percentile(delays, 50), percentile(delays, 99)
                said = f"{p50:.2f} / {p99:.2f}"
                what = f"{label} delay p50 / p99 (s)"
                ratios.append(
                    [what, f"{len(delays)} reminders", said, "p99 <= 1 s", verdict(p99 <= 1.0)]
                )
    print_table(
        "Timer sweeps", ["database", "waiting tasks", "idle sweep ms", "ms per timer fired"], rows
    )
    print_table("Targets", ["what", "depths", "figure", "target", "verdict"], ratios)


if __name__ == "__main__":
    main()
