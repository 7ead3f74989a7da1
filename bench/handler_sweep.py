"""Outcome handlers with a million decisions in the history: the worker's cost must stay flat.

A handler worker finds new final decisions by walking the decisions table
(``placet/handlers/sweep.py``): a hot walk of the ids after the newest it has
seen on every wake-up, and a re-sweep of the last few minutes every 30 s.
Neither may grow with the history. Two databases, in the same run, each
fresh: a small one (10,000 approved tasks, with their drafts and decisions)
and a large one (1,000,000), bulk-loaded with ids older than the handler's
registration. On each, with one no-op ``on_approved`` handler, timed:

* idle: ``sweep()`` with nothing new (every wake-up of an idle worker);
* re-sweep: ``sweep()`` with the clock moved past the re-sweep interval;
* delivery: a new decision committed (not timed), then ``sweep()`` and
  ``run_one()``: what the worker does to deliver it.

SQLite always, with no ``ANALYZE`` statistics (Placet never gathers them, so the
planner works from the schema alone); PostgreSQL too when a server answers
(``PLACET_BENCH_DATABASE_URL``, else ``PLACET_TEST_DATABASE_URL``, else the local
one), after ``VACUUM ANALYZE``, as autovacuum would.

    .venv/bin/python bench/handler_sweep.py [--quick] [--history N] [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from common import approval_request, machine_info, percentile, print_table, scratch_dir, verdict

KIND = "send_email"
SMALL = 10_000
PREFIXES = {"tasks": "01F", "drafts": "01E", "decisions": "01G"}  # older than any new ULID


class Clock:
    """Real time that the benchmark can move forward, to make a re-sweep due."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def id_series(dialect: str, count: int, column: str) -> tuple[str, Callable[[str], str]]:
    """A FROM clause counting 1..count as ``g``, and how to make an id from it."""
    if dialect == "sqlite":
        source = (
            f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {count}) "
            "SELECT g FROM s)"
        )
        return source, lambda table: f"printf('{PREFIXES[table]}%023d', {column})"
    return (
        f"generate_series(1, {count}) AS gs(g)",
        lambda table: f"'{PREFIXES[table]}' || lpad({column}::text, 23, '0')",
    )


def load(engine: Any, count: int) -> float:
    """Bulk-load ``count`` approved tasks with a draft and a decision each; seconds taken."""
    import sqlalchemy as sa

    started = time.monotonic()
    dialect = engine.dialect.name
    source, ident = id_series(dialect, count, "g")
    statements = [
        "INSERT INTO tasks (id, kind, input, requester, status, version, attempt, max_attempts, "
        "created_at, updated_at, head_hash, event_count, current_draft_id, final_output) "
        f"SELECT {ident('tasks')}, '{KIND}', '{{}}', 'bench', 'approved', 4, 1, 3, "
        f"1.7e9 + g, 1.7e9 + g, '{'a' * 64}', 4, {ident('drafts')}, 'Welcome!' FROM {source}",
        "INSERT INTO drafts (id, task_id, attempt, provider, model, messages, output, "
        "prompt_tokens, completion_tokens, latency_ms, created_at) "
        f"SELECT {ident('drafts')}, {ident('tasks')}, 1, 'fake', 'fake', '[]', 'Welcome!', "
        f"1, 1, 1.0, 1.7e9 + g FROM {source}",
        "INSERT INTO decisions (id, task_id, draft_id, kind, actor, role, created_at) "
        f"SELECT {ident('decisions')}, {ident('tasks')}, {ident('drafts')}, 'approve', "
        f"'reviewer', 'reviewer', 1.7e9 + g FROM {source}",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    if dialect == "postgresql":  # what autovacuum does; Placet never runs ANALYZE on SQLite
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
    return time.monotonic() - started


def measure(url: str, history: int, rounds: int) -> dict[str, Any]:
    """Load the history, then time idle sweeps, re-sweeps and deliveries (ms each)."""
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.handlers.runner import HandlerRunner
    from placet.handlers.sweep import RESWEEP_SECONDS
    from placet.sdk.client import Client
    from placet.store import open_store

    kind = TaskKind(KIND, template="Send {to}.")
    engine = Engine(open_store(url), Settings(database_url=url, kinds={KIND: kind}))
    client = Client(engine, requester="bench", owns_store=True)

    @client.on_approved(KIND, name="bench.noop")
    def noop(outcome: object, key: str) -> None:
        pass

    try:
        loaded = load(engine.store.sql_engine, history)  # type: ignore[attr-defined]
        clock = Clock()
        runner = HandlerRunner(engine, client.handlers, report=lambda _: None, clock=clock)
        runner.run_pending()  # registers the handler: the history is older than it
        results: dict[str, Any] = {"load": loaded, "idle": [], "resweep": [], "delivery": []}
        for index in range(rounds):
            task = engine.propose(KIND, {"to": f"new{index}"}, "bench", "Welcome!")
            engine.decide(approval_request(task.id))
            with _timed(results["delivery"]):
                runner.sweep()
                assert runner.run_one(), "the new decision was not delivered"
            with _timed(results["idle"]):
                runner.sweep()
        for _ in range(max(10, rounds // 4)):
            clock.offset += RESWEEP_SECONDS + 1
            with _timed(results["resweep"]):
                runner.sweep()
        runner.close()
        return results
    finally:
        client.close()


@contextlib.contextmanager
def _timed(into: list[float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    into.append((time.perf_counter() - started) * 1000)


def _databases(quick: bool) -> Iterator[tuple[str, Callable[[str], Any]]]:
    """(name, a context manager giving a fresh URL) for SQLite, and PostgreSQL if it answers."""

    @contextlib.contextmanager
    def sqlite_url(label: str) -> Iterator[str]:
        with scratch_dir(f"placet-bench-sweep-{label}-") as folder:
            yield f"sqlite:///{folder / 'placet.db'}"

    yield "SQLite", sqlite_url
    try:
        import pgcommon
    except ImportError as exc:
        print(f"# PostgreSQL skipped: {exc}")
        return
    missing = pgcommon.unavailable()
    if missing is not None:
        print(f"# PostgreSQL skipped: {missing}")
        return
    print(f"# {pgcommon.server_info()}")
    yield "PostgreSQL", lambda label: pgcommon.fresh_schema(f"sweep_{label}")


def run(history: int, rounds: int, quick: bool = False) -> bool:
    """Measure both sizes on each database; print the tables; True when every p50 is flat."""
    flat = True
    for name, fresh in _databases(quick):
        results = {}
        for label, count in (("small", SMALL), ("large", history)):
            with fresh(label) as url:
                results[label] = measure(url, count, rounds)
        rows, targets = [], []
        for step in ("idle", "resweep", "delivery"):
            for label, count in (("small", SMALL), ("large", history)):
                values = results[label][step]
                spread = [f"{percentile(values, q):.2f}" for q in (50, 90, 99)]
                rows.append([step, f"{count:,}", len(values), *spread])
            ratio = percentile(results["large"][step], 50) / percentile(results["small"][step], 50)
            ok = ratio <= 1.5
            flat = flat and ok
            targets.append([f"{step}: p50 large / small", f"{ratio:.2f}x", "<= 1.5x", verdict(ok)])
        loads = ", ".join(f"{label} {results[label]['load']:.0f} s" for label in results)
        print_table(
            f"{name}: handler worker, ms per call (history loaded in {loads})",
            ["step", "decisions in history", "calls", "p50", "p90", "p99"],
            rows,
        )
        print_table(f"{name}: flat?", ["measure", "value", "target", "verdict"], targets)
    return flat


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--history", type=int, help="decisions in the large history")
    parser.add_argument("--rounds", type=int, help="new decisions delivered per database")
    args = parser.parse_args(argv)
    history = args.history or (200_000 if args.quick else 1_000_000)
    rounds = args.rounds or (60 if args.quick else 200)
    print(f"# handler sweep  ({machine_info()})")
    run(history, rounds, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
