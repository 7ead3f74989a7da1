"""Lifecycle throughput on PostgreSQL with 1, 2 and 4 worker processes.

Placet's item is the scale-out loop: a task is submitted (queued, one
commit); a worker claims it with ``FOR UPDATE SKIP LOCKED`` (one commit),
drafts it with ``FakeProvider`` and saves the draft (one commit), and the
approval is recorded (one commit): four commits, each with its hash-chained
event and its NOTIFY. Each of N worker processes submits its share of the
items, then claims, drafts and approves until nothing is left to claim.

Beside it, in the same run, on the same server, with the same number of
processes and ``synchronous_commit=on``:

* the floor: raw psycopg, one INSERT and one UPDATE per item, one commit each;
* procrastinate (PyPI): each process defers its share of jobs (one commit
  each), then runs a worker until the queue is empty (a fetch and a finish,
  one commit each).

Every run gets a fresh schema; contenders are interleaved and each
repetition's ratios are taken within its own round. The table shows medians.

    .venv/bin/python bench/postgres_lifecycle.py [--quick] [--items N] [--reps R]
        [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from common import approval_request, machine_info, median, print_table, require_extras, verdict
from pgcommon import fresh_schema, in_process, libpq, run_processes, server_info

NEEDS = ("procrastinate",)  # the package of the contender (the bench extra; run_all.PG_NEEDS)
KIND = "onboarding_email"
WARMUP_ITEMS = 10
MIN_REPS = 3


def _engine(url: str) -> Any:
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.store import open_store
    from placet.testing import FakeProvider

    kind = TaskKind(name=KIND, template="Write a short onboarding email to {name}.",
                    system="You write friendly onboarding emails.")  # fmt: skip
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds={kind.name: kind})
    return Engine(open_store(url), settings, provider_for=lambda _model: provider)


# -- Placet --------------------------------------------------------------------------


def placet_process(go: Any, results: Any, url: str, index: int, share: int, queued: bool) -> None:
    """Submit, draft and approve a share of the items.

    ``queued``: submit the whole share first, then claim (any process's tasks),
    draft and approve until nothing is left to claim. Otherwise each task is
    claimed by its submitter in the submit's own commit, as in lifecycle.py.
    """
    name = f"bench-worker-{index}"

    def setup() -> Any:
        engine = _engine(url)
        for n in range(WARMUP_ITEMS):  # prepared statements, pool, caches
            task = engine.submit(KIND, {"name": f"warm{index}-{n}"}, "bench", claim_as=name)
            task = engine.draft(task, name)
            engine.decide(approval_request(task.id))
        return engine

    def work(engine: Any) -> None:
        def approve(task: Any) -> None:
            task = engine.draft(task, name)
            engine.decide(approval_request(task.id))

        if queued:
            for n in range(share):
                engine.submit(KIND, {"name": f"user{index}-{n}"}, "bench")
            while (task := engine.claim(name)) is not None:
                approve(task)
        else:
            for n in range(share):
                approve(engine.submit(KIND, {"name": f"user{index}-{n}"}, "bench", claim_as=name))
        engine.store.close()

    in_process(go, results, setup, work)


def run_placet(url: str, workers: int, items: int, queued: bool = False) -> float:
    """Items per second through N worker processes."""
    _engine(url).store.close()  # the schema exists before the workers race to it
    shares = [(*share, queued) for share in _shares(url, workers, items)]
    seconds = run_processes(placet_process, shares)
    rows = _query(url, "SELECT count(*) FROM tasks WHERE status = 'approved'")
    assert rows == items + workers * WARMUP_ITEMS, rows
    return items / seconds


# -- the floor -----------------------------------------------------------------------


def floor_process(go: Any, results: Any, url: str, index: int, share: int) -> None:
    """One INSERT and one UPDATE per item, one commit each."""
    insert = "INSERT INTO items (id, status, payload, updated_at) VALUES (%s, %s, %s, %s)"
    update = "UPDATE items SET status = %s, updated_at = %s WHERE id = %s"

    def one(conn: psycopg.Connection[Any], item_id: str) -> None:
        conn.execute(insert, (item_id, "pending", '{"name":"user"}', time.time()))
        conn.commit()
        conn.execute(update, ("approved", time.time(), item_id))
        conn.commit()

    def setup() -> psycopg.Connection[Any]:
        conn = psycopg.connect(libpq(url))
        for n in range(WARMUP_ITEMS):
            one(conn, f"warm-{index}-{n:020d}")
        return conn

    def work(conn: psycopg.Connection[Any]) -> None:
        for n in range(share):
            one(conn, f"{index}-{n:024d}")  # time-ordered within a process, like ULIDs
        conn.close()

    in_process(go, results, setup, work)


def run_floor(url: str, workers: int, items: int) -> float:
    """Items per second for the raw psycopg floor."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE items (id text PRIMARY KEY, status text NOT NULL, "
            "payload text NOT NULL, updated_at double precision NOT NULL)"
        )
    seconds = run_processes(floor_process, _shares(url, workers, items))
    assert _query(url, "SELECT count(*) FROM items WHERE status = 'approved'") == (
        items + workers * WARMUP_ITEMS
    )
    return items / seconds


# -- procrastinate -------------------------------------------------------------------


def _procrastinate_app(url: str) -> Any:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq(url)))

    @app.task(name="draft")
    def draft(name: str) -> str:
        return f"Dear {name}, welcome."

    return app


def procrastinate_process(go: Any, results: Any, url: str, index: int, share: int) -> None:
    """Defer a share of the jobs, then work until the queue is empty."""
    logging.getLogger("procrastinate").setLevel(logging.WARNING)

    def setup() -> Any:
        app = _procrastinate_app(url)
        app.open()  # the synchronous pool, for defer
        return app

    def work(app: Any) -> None:
        task = app.tasks["draft"]
        for n in range(share):
            task.defer(name=f"user{index}-{n}")
        app.close()
        app.run_worker(wait=False, concurrency=1, install_signal_handlers=False)

    in_process(go, results, setup, work)


def run_procrastinate(url: str, workers: int, items: int) -> float:
    """Jobs per second: deferred and run by N processes."""
    app = _procrastinate_app(url)
    with app.open():
        app.schema_manager.apply_schema()
    seconds = run_processes(procrastinate_process, _shares(url, workers, items))
    done = _query(url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")
    assert done == items, done
    return items / seconds


# -- the benchmark -------------------------------------------------------------------


def _shares(url: str, workers: int, items: int) -> list[tuple[Any, ...]]:
    return [(url, n, items // workers + (n < items % workers)) for n in range(workers)]


def _query(url: str, sql: str) -> Any:
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


@dataclass
class Series:
    """One contender at one worker count across repetitions."""

    name: str
    workers: int
    run: Callable[[str, int, int], float]
    rates: list[float] = field(default_factory=list)


def run_placet_queued(url: str, workers: int, items: int) -> float:
    """Items per second when workers claim queued tasks with SKIP LOCKED."""
    return run_placet(url, workers, items, queued=True)


CONTENDERS = {
    "placet": ("Placet (submit+claim, draft, approve)", run_placet),
    "queued": ("Placet (submit; claim, draft, approve)", run_placet_queued),
    "floor": ("raw psycopg floor (insert + update)", run_floor),
    "procrastinate": ("procrastinate (defer + run)", run_procrastinate),
}


def benchmark(
    items: int, reps: int, worker_counts: list[int], budget: float | None
) -> dict[str, Series]:
    """Run every contender at every worker count ``reps`` times, interleaved."""
    series = {
        f"{key}@{n}": Series(name, n, run)
        for n in worker_counts
        for key, (name, run) in CONTENDERS.items()
    }
    started = time.monotonic()
    for rep in range(reps):
        if rep >= MIN_REPS and budget is not None and time.monotonic() - started > budget:
            print(f"(postgres lifecycle: stopped after {rep} repetitions, over {budget:.0f} s)")
            break
        order = list(series.values())
        if rep % 2:
            order.reverse()  # no contender always runs first (or last) in a round
        for entry in order:
            with fresh_schema(entry.name.split()[0].lower()) as url:
                entry.rates.append(entry.run(url, entry.workers, items))
    return series


def paired_ratio(top: Series, bottom: Series) -> float:
    """The median over repetitions of top/bottom measured in the same round."""
    return median([a / b for a, b in zip(top.rates, bottom.rates, strict=True)])


def report(series: dict[str, Series], items: int, worker_counts: list[int]) -> bool:
    """Print the tables; True when both targets are met with 2 workers."""
    rows = [
        [s.name, s.workers, median(s.rates), min(s.rates), max(s.rates), 1000 / median(s.rates)]
        for s in series.values()
    ]
    reps = len(next(iter(series.values())).rates)
    print_table(
        f"PostgreSQL lifecycle throughput, {items} items x {reps} repetitions (medians)",
        ["contender", "workers", "items/s", "min", "max", "ms/item"],
        rows,
    )
    ratios, met = [], True
    for key, label in (("placet", "Placet"), ("queued", "Placet, queued")):
        for n in worker_counts:
            placet, floor, proc = (series[f"{k}@{n}"] for k in (key, "floor", "procrastinate"))
            vs_proc, vs_floor = paired_ratio(placet, proc), paired_ratio(placet, floor)
            target = n == 2
            ratios.append([f"{label} / procrastinate", n, vs_proc, ">= 2.0x" if target else "",
                           verdict(vs_proc >= 2.0) if target else ""])  # fmt: skip
            ratios.append([f"{label} / floor", n, vs_floor, ">= 0.30x" if target else "",
                           verdict(vs_floor >= 0.30) if target else ""])  # fmt: skip
            if target and key == "placet":
                met = vs_proc >= 2.0 and vs_floor >= 0.30
    print_table(
        "PostgreSQL lifecycle ratios (median of same-round ratios)",
        ["ratio", "workers", "value", "target", "verdict"],
        ratios,
    )
    return met


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--items", type=int, help="items per run (split across the workers)")
    parser.add_argument("--reps", type=int, help="repetitions")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--budget", type=float, help="seconds; no new repetition after this")
    args = parser.parse_args(argv)
    require_extras("bench/postgres_lifecycle.py", *NEEDS)
    items = args.items or (400 if args.quick else 2000)
    reps = args.reps or (3 if args.quick else 5)
    worker_counts = [int(n) for n in args.workers.split(",")]
    print(f"# postgres lifecycle  ({machine_info()})")
    print(f"# {server_info()}")
    series = benchmark(items, reps, worker_counts, args.budget or (90 if args.quick else 600))
    report(series, items, worker_counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
