"""Outcome handlers that wait on the network: deliveries per second by handler threads.

A handler here stands for a call to a mail server or an HTTP API: it sleeps
``--handler-ms`` (20 ms by default) and returns. ``--decisions`` approvals are
committed first; then ``client.run_handlers(threads=N)`` runs until every one
has been delivered, on a fresh SQLite file per run, for N = 1 (the baseline,
in the same run) and each N in ``--threads``. The rounds interleave, the order
alternating; the table shows medians and the median of same-round ratios, and
the ideal (N handlers asleep at once, no Placet cost at all) beside them.

    .venv/bin/python bench/handler_pool.py [--quick] [--decisions N] [--threads 4 8]
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from common import approval_request, machine_info, median, print_table, scratch_dir

KIND = "send_email"
WAIT_SECONDS = 300.0


def deliveries_per_second(folder: Path, decisions: int, threads: int, handler_ms: float) -> float:
    """Deliveries per second with ``threads`` handlers at once, all decisions made beforehand."""
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.sdk.client import Client
    from placet.testing import temp_store

    store = temp_store(folder)
    kind = TaskKind(KIND, template="Send {to}.")
    engine = Engine(store, Settings(database_url=store.url, kinds={KIND: kind}))
    client = Client(engine, requester="bench", owns_store=True)
    done = threading.Semaphore(0)

    @client.on_approved(KIND, name="bench.send", backfill=True)
    def send(outcome: object, key: str) -> None:
        time.sleep(handler_ms / 1000)
        done.release()

    try:
        for index in range(decisions):
            task = engine.propose(KIND, {"to": f"user{index}"}, "bench", "Welcome!")
            engine.decide(approval_request(task.id))
        stop = threading.Event()
        runner = threading.Thread(target=client.run_handlers, args=(stop, threads))
        started = time.perf_counter()
        runner.start()
        for _ in range(decisions):
            if not done.acquire(timeout=WAIT_SECONDS):
                raise RuntimeError("the handlers stopped delivering")
        elapsed = time.perf_counter() - started
        stop.set()
        runner.join()
        return decisions / elapsed
    finally:
        client.close()


def run(decisions: int, thread_counts: list[int], reps: int, handler_ms: float) -> None:
    """Measure, interleaved, and print the tables."""
    counts = [1, *[n for n in thread_counts if n != 1]]
    rates: dict[int, list[float]] = {n: [] for n in counts}
    for rep in range(reps):
        order = counts if rep % 2 == 0 else counts[::-1]
        for threads in order:
            with scratch_dir("placet-bench-handlers-") as folder:
                rates[threads].append(deliveries_per_second(folder, decisions, threads, handler_ms))
    ideal_one = 1000 / handler_ms
    rows = []
    for threads in counts:
        ratios = [rate / base for rate, base in zip(rates[threads], rates[1], strict=True)]
        rows.append(
            [
                threads,
                f"{median(rates[threads]):,.0f}",
                f"{min(rates[threads]):,.0f}",
                f"{max(rates[threads]):,.0f}",
                f"{median(ratios):.2f}x",
                f"{threads * ideal_one:,.0f}",
            ]
        )
    print_table(
        f"Handler deliveries, {decisions} decisions, a {handler_ms:g} ms handler, "
        f"{reps} rounds (medians)",
        ["threads", "deliveries/s", "min", "max", "vs 1 thread", "ideal"],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--decisions", type=int, help="approvals to deliver per run")
    parser.add_argument("--threads", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--reps", type=int, help="interleaved rounds")
    parser.add_argument("--handler-ms", type=float, default=20.0, help="how long a handler waits")
    args = parser.parse_args(argv)
    decisions = args.decisions or (100 if args.quick else 400)
    reps = args.reps or (2 if args.quick else 3)
    print(f"# handler pool  ({machine_info()})")
    run(decisions, args.threads, reps, args.handler_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
