"""Claim latency on SQLite: flat whether the queue holds ten tasks or ten thousand.

A drafting worker claims with ``Engine.claim``: an idle probe outside the write
lock (is there anything to take?), then, under it, the oldest expired lease or
else the oldest queued task, and the compare-and-set. Each must be an index
probe in id order, whatever the queue's length or the history's. Three fresh
databases in the same run:

* short queue: 100 queued tasks;
* long queue: 10,000 queued tasks;
* long history: 10,000 queued beside 1,000,000 approved tasks.

Tasks are bulk-loaded (no ``ANALYZE``: Placet never gathers statistics); one
worker claims and drafts (``FakeProvider``) ``--claims`` times; only the claim
call is timed.

    .venv/bin/python bench/sqlite_claims.py [--quick] [--claims N] [--history N]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from common import machine_info, percentile, print_table, scratch_dir, verdict
from handler_sweep import id_series

KIND = "onboarding_email"


def load(engine: Any, status: str, count: int, prefix: str) -> None:
    """Bulk-insert ``count`` tasks in ``status`` with ids starting ``prefix``."""
    import sqlalchemy as sa

    source, _ = id_series("sqlite", count, "g")
    done = status == "approved"
    output = "'Welcome.'" if done else "NULL"
    hashed = "0" * 64
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tasks (id, kind, input, requester, status, version, attempt, "
                "max_attempts, created_at, updated_at, head_hash, event_count, final_output) "
                f"SELECT printf('{prefix}%023d', g), '{KIND}', '{{\"name\":\"n\"}}', 'bench', "
                f"'{status}', {4 if done else 1}, {1 if done else 0}, 3, 1.7e9 + g, 1.7e9 + g, "
                f"'{hashed}', 0, {output} FROM {source}"
            )
        )


def latencies(queued: int, finished: int, claims: int) -> list[float]:
    """Milliseconds per claim, on a fresh database with that many tasks."""
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.testing import FakeProvider, temp_store

    with scratch_dir("placet-bench-claims-") as folder:
        store = temp_store(folder)
        kind = TaskKind(name=KIND, template="Write to {name}.")
        provider = FakeProvider()
        settings = Settings(database_url=store.url, kinds={KIND: kind})
        engine = Engine(store, settings, provider_for=lambda _model: provider)
        try:
            if finished:
                load(store.sql_engine, "approved", finished, "01F")
            load(store.sql_engine, "queued", queued + claims, "01G")
            return timed_claims(engine, claims)
        finally:
            store.close()


def timed_claims(engine: Any, claims: int, warmup: int = 0) -> list[float]:
    """Milliseconds per ``engine.claim``, in order, each claim then drafted; warm-ups untimed."""
    for _ in range(warmup):  # prepared statements, caches
        engine.draft(engine.claim("warm"), "warm")
    timed = []
    for _ in range(claims):
        started = time.perf_counter()
        task = engine.claim("bench-worker")
        timed.append((time.perf_counter() - started) * 1000)
        assert task is not None
        engine.draft(task, "bench-worker")  # the queue moves on, as a real one would
    return timed


def run(claims: int, history: int) -> bool:
    """Measure the three databases; print the tables; True when the p50s are flat."""
    cases = [("short queue", 100, 0), ("long queue", 10_000, 0), ("long history", 10_000, history)]
    results = {name: latencies(queued, finished, claims) for name, queued, finished in cases}
    rows = [
        [name, f"{queued:,}", f"{finished:,}", len(results[name]),
         *(f"{percentile(results[name], q):.3f}" for q in (50, 90, 99))]
        for name, queued, finished in cases
    ]  # fmt: skip
    print_table(
        f"SQLite claim latency, ms ({claims} claims, each followed by its draft)",
        ["database", "queued", "approved", "claims", "p50", "p90", "p99"],
        rows,
    )
    base = percentile(results["short queue"], 50)
    targets = []
    flat = True
    for name in ("long queue", "long history"):
        ratio = percentile(results[name], 50) / base
        ok = ratio <= 1.5
        flat = flat and ok
        targets.append([f"p50 {name} / short queue", f"{ratio:.2f}x", "<= 1.5x", verdict(ok)])
    print_table("SQLite claims: flat?", ["measure", "value", "target", "verdict"], targets)
    return flat


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--claims", type=int, help="timed claims per database")
    parser.add_argument("--history", type=int, help="approved tasks beside the long queue")
    args = parser.parse_args(argv)
    claims = args.claims or (200 if args.quick else 1000)
    history = args.history or (200_000 if args.quick else 1_000_000)
    print(f"# sqlite claims  ({machine_info()})")
    run(claims, history)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
