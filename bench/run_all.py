"""Run every Placet benchmark and print a table per benchmark, then a summary.

    .venv/bin/python bench/run_all.py            # the full run (a few minutes)
    .venv/bin/python bench/run_all.py --quick    # a short smoke run (under a minute)
    .venv/bin/python bench/run_all.py --only lifecycle --items 3000 --reps 7

The PostgreSQL benchmarks (pg_lifecycle, pg_wait, pg_claims, pg_verify) use
PLACET_BENCH_DATABASE_URL, else PLACET_TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test, and are reported as skipped when no
server answers there.

Each benchmark also runs on its own: bench/lifecycle.py, bench/wait_latency.py,
bench/local_tokens.py, bench/sdk_cycle.py, bench/web_queue.py,
bench/http_decisions.py, bench/handler_pool.py, bench/handler_sweep.py,
bench/sqlite_claims.py, bench/verify_speed.py, bench/postgres_lifecycle.py,
bench/pg_wait_latency.py, bench/claim_latency.py (each with --help). Results and
their reading are in BENCHMARKS.md. Nothing here is a test: no figure is asserted.
"""

from __future__ import annotations

import argparse
import datetime
import time

import handler_pool
import handler_sweep
import http_decisions
import lifecycle
import local_tokens
import sdk_cycle
import sqlite_claims
import verify_speed
import wait_latency
import web_queue
from common import machine_info, print_table, require_extras, verdict

SQLITE_BENCHMARKS = (
    "lifecycle",
    "wait",
    "tokens",
    "sdk",
    "web_queue",
    "http_decisions",
    "handlers",
    "handler_sweep",
    "sqlite_claims",
    "verify",
)
POSTGRES_BENCHMARKS = ("pg_lifecycle", "pg_wait", "pg_claims", "pg_verify")
BENCHMARKS = SQLITE_BENCHMARKS + POSTGRES_BENCHMARKS
PG_NEEDS = ("procrastinate",)  # postgres_lifecycle.NEEDS, without importing it before it runs


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--only", choices=BENCHMARKS, action="append", help="run only this benchmark (repeatable)"
    )
    group = parser.add_argument_group("lifecycle")
    group.add_argument("--items", type=int, help="items per repetition")
    group.add_argument("--reps", type=int, help="repetitions")
    group.add_argument("--no-full", action="store_true", help="skip synchronous=FULL")
    group.add_argument(
        "--baseline-ref",
        metavar="REF",
        help="lifecycle and sdk also run the whole Placet package of this git revision",
    )
    group = parser.add_argument_group("wait latency")
    group.add_argument("--decisions", type=int, help="decisions to time")
    group.add_argument("--idle-seconds", type=float, default=2.0)
    group.add_argument("--synchronous", default="FULL", help="PLACET_SQLITE_SYNCHRONOUS")
    group.add_argument("--no-baseline", action="store_true", help="skip the poll-only waiter")
    group = parser.add_argument_group("local tokens")
    group.add_argument("--max-tokens", type=int, help="tokens per generation")
    group.add_argument("--token-reps", type=int, help="interleaved rounds")
    args = parser.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    # Each contender's package is checked before anything runs, not when its turn comes.
    needs = {"lifecycle": lifecycle.NEEDS, "sdk": sdk_cycle.NEEDS, "pg_lifecycle": PG_NEEDS}
    require_extras("bench/run_all.py", *sorted({m for name in chosen for m in needs.get(name, ())}))
    quick = args.quick
    started = time.monotonic()
    print(
        f"# Placet benchmarks, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
        f"{' (quick)' if quick else ''}"
    )
    print(f"# {machine_info()}")
    summary = []
    if "lifecycle" in chosen:
        items, reps, budget = lifecycle.run_shape(quick, args.items, args.reps, None)
        series = lifecycle.benchmark(items, reps, not args.no_full, args.baseline_ref, budget)
        summary.append(
            [
                "lifecycle (>= 2x holdpoint, >= 10% floor)",
                verdict(lifecycle.report(series, items)),
            ]
        )
    if "wait" in chosen:
        decisions = args.decisions or (60 if quick else 300)
        level = args.synchronous.upper()
        results = {wait_latency.WATCH: wait_latency.benchmark(decisions, args.idle_seconds, level)}
        if not args.no_baseline:
            results[wait_latency.POLL] = wait_latency.benchmark(
                decisions, args.idle_seconds, level, poll_only=True
            )
        summary.append(
            [
                "wait latency (p50 <= 5 ms, p99 <= 25 ms)",
                verdict(wait_latency.report(results, level)),
            ]
        )
    if "tokens" in chosen:
        max_tokens = args.max_tokens or (32 if quick else 64)
        reps = args.token_reps or (3 if quick else 15)
        result = local_tokens.benchmark(max_tokens, reps, 20 if quick else 60)
        summary.append(
            [
                "local tokens (overhead <= 5%)",
                verdict(local_tokens.report(result, max_tokens)),
            ]
        )
    if "sdk" in chosen:
        ok = sdk_cycle.run(*((150, 3) if quick else (1000, 5)), args.baseline_ref)
        summary.append(["sdk cycle (ahead of LangGraph and holdpoint)", verdict(ok)])
    if "web_queue" in chosen:
        ok = web_queue.run(web_queue.TASKS, 60 if quick else 300, 30 if quick else 180)
        summary.append(["web queue, 1M tasks (page p95 <= 50 ms)", verdict(ok)])
    if "http_decisions" in chosen:
        http_decisions.run(100 if quick else 400, 2 if quick else 5, 20 if quick else 90)
        summary.append(["decisions over HTTP, 20 clients (measured)", "(info)"])
    if "handlers" in chosen:
        handler_pool.run(100 if quick else 400, [4, 8, 16], 2 if quick else 3, 20.0)
        summary.append(["handler deliveries by threads (measured)", "(info)"])
    if "handler_sweep" in chosen:
        ok = handler_sweep.run(200_000 if quick else 1_000_000, 60 if quick else 200, quick)
        summary.append(["handler worker, 1M decisions in history (flat)", verdict(ok)])
    if "sqlite_claims" in chosen:
        ok = sqlite_claims.run(200 if quick else 1000, 200_000 if quick else 1_000_000)
        summary.append(["SQLite claim latency, 10k queued, 1M approved (flat)", verdict(ok)])
    if "verify" in chosen:
        verify_speed.run(*_verify_shape(quick))
        summary.append(["audit verify, tasks/s at 100k and 1M (measured)", "(info)"])
    if any(name in chosen for name in POSTGRES_BENCHMARKS):
        summary.extend(_postgres(chosen, quick))
    print_table(f"Summary ({time.monotonic() - started:.0f} s)", ["benchmark", "targets"], summary)
    return 0


def _postgres(chosen: list[str], quick: bool) -> list[list[str]]:
    """The PostgreSQL benchmarks that were chosen, or why they cannot run."""
    titles = {
        "pg_lifecycle": "PostgreSQL lifecycle, 2 workers (>= 2x procrastinate, >= 30% floor)",
        "pg_wait": "PostgreSQL wake-up through NOTIFY (p50 <= 5 ms, p99 <= 25 ms)",
        "pg_claims": "PostgreSQL claim latency, 1M finished tasks (flat)",
        "pg_verify": "PostgreSQL audit verify, tasks/s at 100k and 1M (measured)",
    }
    names = [name for name in POSTGRES_BENCHMARKS if name in chosen]
    try:
        import claim_latency
        import pg_wait_latency
        import pgcommon
        import postgres_lifecycle
    except ImportError as exc:  # psycopg or procrastinate not installed
        print(f"# PostgreSQL benchmarks skipped: {exc} (make bench installs them)")
        return [[titles[name], "skipped: not installed"] for name in names]
    missing = pgcommon.unavailable()
    if missing is not None:
        print(f"# PostgreSQL benchmarks skipped: {missing}")
        return [[titles[name], "skipped: no server"] for name in names]
    print(f"# {pgcommon.server_info()}")
    summary = []
    if "pg_lifecycle" in names:
        items, reps, workers = (400, 3, [2]) if quick else (2000, 5, [1, 2, 4])
        series = postgres_lifecycle.benchmark(items, reps, workers, 90 if quick else 600)
        summary.append(
            [titles["pg_lifecycle"], verdict(postgres_lifecycle.report(series, items, workers))]
        )
    if "pg_wait" in names:
        decisions = 60 if quick else 300
        results = {pg_wait_latency.NOTIFY: pg_wait_latency.benchmark(decisions, 2.0)}
        results[pg_wait_latency.FALLBACK] = pg_wait_latency.benchmark(
            max(20, decisions // 10), 2.0, deaf=True
        )
        summary.append([titles["pg_wait"], verdict(pg_wait_latency.report(results, 2.0))])
    if "pg_claims" in names:
        finished, queued, claims = (200_000, 10_000, 1000) if quick else (1_000_000, 10_000, 3000)
        ok = claim_latency.report(
            claim_latency.benchmark(finished, queued, claims), finished, queued
        )
        summary.append([titles["pg_claims"], verdict(ok)])
    if "pg_verify" in names:
        verify_speed.run(*_verify_shape(quick), postgres=True, sqlite=False)
        summary.append([titles["pg_verify"], "(info)"])
    return summary


def _verify_shape(quick: bool) -> tuple[tuple[int, ...], int, float]:
    """Sizes, repetitions and seconds per size of the verify benchmarks here.

    The databases are built once per src/ and kept (bench/verify_speed.py).
    """
    if quick:
        return verify_speed.QUICK_SIZES, 2, 90.0
    return verify_speed.SIZES, 3, 600.0


if __name__ == "__main__":
    raise SystemExit(main())
