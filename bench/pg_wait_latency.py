"""Decision-to-resume latency across processes on PostgreSQL (LISTEN/NOTIFY).

The method of wait_latency.py, on PostgreSQL: a long-lived waiter process
blocks in ``Engine.wait`` on one task after another (the predicate
``placet wait ID`` uses); the parent, on the same database, drafts a task,
tells the waiter its id, waits a random few milliseconds, approves it, and
reads ``time.monotonic()`` once the decide call has returned (committed).
The waiter reports when ``Engine.wait`` returned; on Linux the monotonic
clock is system-wide, so the readings compare across processes.

Beside it, in the same run: the fallback alone, a waiter whose LISTEN hears
nothing (as behind a transaction-mode pooler), woken only by the snapshot
poll. And the idle cost: the waiter waits on a task nobody touches and
reports its own CPU time as a share of one core.

    .venv/bin/python bench/pg_wait_latency.py [--quick] [--decisions N] [--idle-seconds S]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import approval_request, machine_info, percentile, print_table, verdict
from pgcommon import fresh_schema, server_info

KIND = "onboarding_email"
NOTIFY = "Placet (LISTEN/NOTIFY)"
FALLBACK = "fallback only (notifications lost)"


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


def waiter(url: str, deaf: bool) -> None:
    """Serve ``wait ID`` and ``idle ID SECONDS`` from stdin, one per line."""
    if deaf:  # listen on a channel nobody notifies: only the fallback poll wakes us
        from placet.store import pgnotify

        original = pgnotify.PgNotifySignal.__init__

        def deaf_init(self: Any, conninfo: str, channel: str, *args: Any) -> None:
            original(self, conninfo, channel + "_deaf", *args)

        pgnotify.PgNotifySignal.__init__ = deaf_init  # type: ignore[method-assign]
    engine = _engine(url)
    out = sys.stdout
    for line in sys.stdin:
        command, task_id, *rest = line.split()
        seen = engine.get(task_id).version

        def moved(current: Any, seen: int = seen) -> bool:
            return current.version != seen or engine.is_claimable(current)

        if command == "wait":
            out.write("ready\n")
            out.flush()
            task = engine.wait(task_id, moved, timeout=10.0)
            out.write(f"woke {time.monotonic()!r} {task.status.value}\n")
        else:
            seconds = float(rest[0])
            before, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            engine.wait(task_id, moved, timeout=seconds)
            after, ended = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            out.write(f"idle {cpu!r} {ended - started!r}\n")
        out.flush()
    engine.store.close()


def benchmark(decisions: int, idle_seconds: float, deaf: bool = False) -> dict[str, Any]:
    """Run a waiter, make the decisions, return latencies (ms) and idle CPU (%)."""
    from placet.domain.models import TaskStatus

    rng = random.Random(2)
    with fresh_schema("wait") as url:
        engine = _engine(url)  # the schema exists before the waiter opens it
        command = [sys.executable, str(Path(__file__).resolve()), "--waiter", url]
        child = subprocess.Popen(
            command + (["--deaf"] if deaf else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        stdin, stdout = child.stdin, child.stdout

        def ask(line: str) -> str:
            stdin.write(line + "\n")
            stdin.flush()
            return stdout.readline().strip()

        def awaiting_review() -> str:
            task = engine.submit(KIND, {"name": "Rahul"}, "bench", claim_as="w1")
            return str(engine.draft(task, "w1").id)

        latencies: list[float] = []
        try:
            for index in range(decisions + 5):  # the first five warm up
                task_id = awaiting_review()
                assert ask(f"wait {task_id}") == "ready"
                # The waiter is waiting by now; without NOTIFY, decide at a random
                # point of the poll interval, not in step with it.
                time.sleep(rng.uniform(0.003, 0.6 if deaf else 0.012))
                engine.decide(approval_request(task_id))
                decided = time.monotonic()
                _, woke, status = stdout.readline().split()
                assert status == TaskStatus.APPROVED.value, status
                if index >= 5:
                    latencies.append((float(woke) - decided) * 1000)
            _, cpu, wall = ask(f"idle {awaiting_review()} {idle_seconds}").split()
        finally:
            stdin.close()
            child.wait(timeout=30)
            engine.store.close()
    return {"latencies": latencies, "idle_cpu_percent": float(cpu) / float(wall) * 100}


def report(results: dict[str, dict[str, Any]], idle_seconds: float) -> bool:
    """Print the tables; True when both targets are met through NOTIFY."""
    rows = []
    for label, result in results.items():
        values = result["latencies"]
        rows.append([label, len(values), percentile(values, 50), percentile(values, 90),
                     percentile(values, 99), max(values),
                     f"{result['idle_cpu_percent']:.2f} %"])  # fmt: skip
    print_table(
        "Decision-to-resume latency on PostgreSQL, ms (waiter in another process)",
        ["signal", "decisions", "p50", "p90", "p99", "max", "idle CPU, % of a core"],
        rows,
    )
    values = results[NOTIFY]["latencies"]
    p50, p99 = percentile(values, 50), percentile(values, 99)
    idle = results[NOTIFY]["idle_cpu_percent"]
    print_table(
        "Wait targets (NOTIFY)",
        ["measure", "value", "target", "verdict"],
        [
            ["p50 latency", f"{p50:.2f} ms", "<= 5 ms", verdict(p50 <= 5)],
            ["p99 latency", f"{p99:.2f} ms", "<= 25 ms", verdict(p99 <= 25)],
            [f"waiter CPU while idle ({idle_seconds} s)", f"{idle:.2f} % of a core", "", ""],
        ],
    )
    return p50 <= 5 and p99 <= 25


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--decisions", type=int, help="decisions to time (>= 200 for p99)")
    parser.add_argument("--idle-seconds", type=float, default=2.0)
    parser.add_argument("--no-fallback", action="store_true", help="skip the fallback-only run")
    parser.add_argument("--waiter", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--deaf", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.waiter:
        waiter(args.waiter, args.deaf)
        return 0
    decisions = args.decisions or (60 if args.quick else 300)
    print(f"# pg wait latency  ({machine_info()})")
    print(f"# {server_info()}")
    results = {NOTIFY: benchmark(decisions, args.idle_seconds)}
    if not args.no_fallback:
        results[FALLBACK] = benchmark(max(20, decisions // 10), args.idle_seconds, deaf=True)
    report(results, args.idle_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
