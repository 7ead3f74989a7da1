"""Claim latency on PostgreSQL with a million finished tasks in the table.

A worker's claim (``Engine.claim``: ``SELECT ... FOR UPDATE SKIP LOCKED`` on
the oldest queued task, then the compare-and-set that claims it, in one
transaction) must cost the same whether the table holds ten thousand tasks
or a million: the status index leads it straight to the queued ones. Two
tables, in the same run, each in a fresh schema:

* small: 10,000 queued tasks and nothing else;
* large: the same 10,000 queued tasks beside 1,000,000 finished ones.

The rows are bulk-loaded server-side (``INSERT ... SELECT generate_series``),
then ``VACUUM ANALYZE`` (what autovacuum does on a live table). One worker
claims and drafts (``FakeProvider``) until a given number of claims are
made; only the claim call is timed. The table shows percentiles, the large
table's latency over the small one's, early claims against late ones (dead
index entries pile up as the queue drains), and the plans PostgreSQL chose.

    .venv/bin/python bench/claim_latency.py [--quick] [--finished N] [--queued N] [--claims N]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from common import machine_info, median, percentile, print_table, verdict
from pgcommon import admin, fresh_schema, server_info
from sqlite_claims import timed_claims

KIND = "onboarding_email"


def _engine(url: str) -> Any:
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.store import open_store
    from placet.testing import FakeProvider

    kind = TaskKind(name=KIND, template="Write a short onboarding email to {name}.")
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds={kind.name: kind})
    return Engine(open_store(url), settings, provider_for=lambda _model: provider)


def load(url: str, finished: int, queued: int) -> float:
    """Bulk-load the tasks; seconds it took. Finished tasks are older (smaller ids)."""
    started = time.monotonic()
    columns = (
        "id, kind, input, requester, status, version, attempt, max_attempts, created_at, "
        "updated_at, head_hash, event_count, final_output"
    )
    for prefix, status, count, output in (
        ("01F", "approved", finished, "'Dear user, welcome.'"),
        ("01K", "queued", queued, "NULL"),
    ):
        if count:
            admin(
                f"INSERT INTO tasks ({columns}) SELECT '{prefix}' || lpad(g::text, 23, '0'), "
                f"'{KIND}', '{{\"name\":\"user' || g || '\"}}', 'bench', '{status}', 4, 1, 3, "
                f"1.7e9 + g, 1.7e9 + g, repeat('a', 64), 4, {output} "
                f"FROM generate_series(1, {count}) AS g",
                url,
            )
    admin("VACUUM ANALYZE tasks", url)
    return time.monotonic() - started


def claim_latencies(url: str, claims: int) -> list[float]:
    """Milliseconds per claim, in order, for one worker draining the queue."""
    engine = _engine(url)
    try:
        return timed_claims(engine, claims, warmup=20)
    finally:
        engine.store.close()


def plans(url: str) -> list[str]:
    """EXPLAIN ANALYZE of the two claim queries, as PostgreSQL runs them."""
    from placet.store import postgres

    found = []
    for sql, params in (
        (postgres._CLAIM_QUEUED, postgres._QUEUED),
        (postgres._CLAIM_EXPIRED, (*postgres._DRAFTING, time.time())),
    ):
        text = sql % tuple(repr(value) for value in params)
        rows = admin(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {text}", url)
        found.append("\n".join(f"    {row[0]}" for row in rows))
    return found


def benchmark(finished: int, queued: int, claims: int) -> dict[str, Any]:
    """Load both tables, time the claims on each, return latencies and plans."""
    results: dict[str, Any] = {}
    for label, count in (("small", 0), ("large", finished)):
        with fresh_schema(f"claim_{label}") as url:
            _engine(url).store.close()  # the schema, by Placet's migrations
            results[f"{label}_load"] = load(url, count, queued)
            results[label] = claim_latencies(url, claims)
            results[f"{label}_plans"] = plans(url)
    return results


def report(results: dict[str, Any], finished: int, queued: int) -> bool:
    """Print the tables and plans; True when the large table's p50 is within 1.5x."""
    rows = []
    for label, tasks in (("small", queued), ("large", finished + queued)):
        values = results[label]
        tenth = max(1, len(values) // 10)
        rows.append([f"{tasks:,} tasks ({label})", len(values), percentile(values, 50),
                     percentile(values, 90), percentile(values, 99), median(values[:tenth]),
                     median(values[-tenth:]), f"{results[f'{label}_load']:.0f} s"])  # fmt: skip
    print_table(
        f"Claim latency, ms ({queued:,} queued; one worker claims and drafts)",
        ["table", "claims", "p50", "p90", "p99", "first 10% p50", "last 10% p50", "load"],
        rows,
    )
    ratio = percentile(results["large"], 50) / percentile(results["small"], 50)
    flat = ratio <= 1.5
    measure = f"p50 with {finished:,} finished / without"
    target = [measure, f"{ratio:.2f}x", "<= 1.5x (flat)", verdict(flat)]
    print_table("Claim latency target", ["measure", "value", "target", "verdict"], [target])
    for label in ("large", "small"):
        print(f"\nPlans on the {label} table (EXPLAIN ANALYZE, after the run):")
        for plan in results[f"{label}_plans"]:
            print(plan + "\n")
    return flat


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200,000 finished tasks")
    parser.add_argument("--finished", type=int, help="finished tasks (default 1,000,000)")
    parser.add_argument("--queued", type=int, default=10_000, help="queued tasks")
    parser.add_argument("--claims", type=int, help="claims to time (default 3,000)")
    args = parser.parse_args(argv)
    finished = args.finished or (200_000 if args.quick else 1_000_000)
    claims = min(args.claims or (1000 if args.quick else 3000), args.queued - 20)
    print(f"# claim latency  ({machine_info()})")
    print(f"# {server_info()}")
    report(benchmark(finished, args.queued, claims), finished, args.queued)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
