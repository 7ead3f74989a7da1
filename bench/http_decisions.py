"""Decisions through the HTTP API from 20 concurrent clients, beside the same decisions in-process.

The server is the real app (``create_app``, as ``placet serve`` builds it: the
drafting worker running, JSON request logs, uvicorn with its own access log
off) in a subprocess on 127.0.0.1, over a SQLite file. Tasks are submitted
and drafted beforehand through the engine with ``FakeProvider``, so each one
waits on a draft. Then, in rounds, with the order alternating:

* HTTP: 20 client threads, each with its own keep-alive ``httpx.Client`` and
  an API token, POST ``/api/v1/tasks/{id}/decisions`` (approve, naming the
  draft and the version), each on its own share of the tasks;
* in-process: 20 threads calling ``Engine.decide`` with the same requests on
  the same database, in this process (the server idles meanwhile);
* in-process, one thread: the engine's own pace, for reference;
* the baseline: the HTTP and the 20-thread rounds again with the SQLite
  store's writer lock switched off (a second server, and the same engine with
  its lock swapped for one that never waits), as the store was before it:
  writers in one process then meet only SQLite's busy handler.

Throughput is decisions over the wall time of a round; latency is per
decision as the caller sees it. The table gives medians over rounds and the
median of the same-round ratios.

    .venv/bin/python bench/http_decisions.py [--quick] [--decisions N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    ROOT,
    approval_request,
    machine_info,
    median,
    percentile,
    print_table,
    scratch_dir,
)

CLIENTS = 20
KIND = "onboarding_email"
REVIEWER = "rita"
SECRET_KEY = "bench-secret-key"
MIN_ROUNDS = 2  # a time budget never cuts the run below this many rounds
UNLOCKED_ENV = "PLACET_BENCH_NO_WRITER_LOCK"  # the baseline server: no writer lock

Pending = tuple[str, str, int]  # task id, draft id, version


def _settings(folder: Path) -> Any:
    from placet.config import Settings
    from placet.domain.models import TaskKind

    kind = TaskKind(name=KIND, template="Write a short onboarding email to {name}.")
    return Settings(
        database_url=f"sqlite:///{folder / 'placet.db'}",
        kinds={KIND: kind},
        review_dir=folder / "human_feedback",
    )


def _engine(folder: Path) -> Any:
    from placet.engine import Engine
    from placet.store.sql import SqlStore
    from placet.testing import FakeProvider

    settings = _settings(folder)
    provider = FakeProvider()
    return Engine(SqlStore(settings.database_url), settings, provider_for=lambda _m: provider)


# -- the server (a subprocess running this file with --serve) --------------------------


def serve(folder: Path, port: int) -> None:
    """Run the app on 127.0.0.1:port as ``placet serve`` does (logs to a file)."""
    import uvicorn

    from placet.web.app import AppOptions, create_app
    from placet.web.ops import configure_request_logs

    engine = _engine(folder)
    if os.environ.get(UNLOCKED_ENV):
        without_writer_lock(engine)
    accounts = engine.accounts
    app = create_app(engine, accounts, AppOptions(SECRET_KEY, watch_folder=False))
    with open(folder / "requests.log", "w") as log:
        configure_request_logs(log)
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """The server subprocess."""

    def __init__(self, folder: Path, unlocked: bool = False) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        if unlocked:
            env[UNLOCKED_ENV] = "1"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder), str(self.port)], env=env
        )

    def wait_ready(self, timeout: float = 30) -> None:
        """Until /healthz answers."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        """Ask it to stop (SIGTERM), and wait."""
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- contenders --------------------------------------------------------------------------


@dataclass
class Series:
    """One contender across rounds: throughput per round and every latency."""

    name: str
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # ms
    p99s: list[float] = field(default_factory=list)


def prepare(engine: Any, count: int) -> list[Pending]:
    """Tasks submitted and drafted by the engine, each waiting on its draft."""
    pending = []
    for index in range(count):
        task = engine.submit(KIND, {"name": f"user{index}"}, "alice", claim_as="bench")
        task = engine.draft(task, "bench")
        pending.append((task.id, task.current_draft_id, task.version))
    return pending


def _in_threads(
    work: Sequence[Pending], threads: int, decide: Callable[[int, Pending], None]
) -> tuple[float, list[float]]:
    """Run ``decide`` over the work from ``threads`` threads; (decisions/s, latencies in ms)."""
    shares = [work[i::threads] for i in range(threads)]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def client(number: int) -> None:
        start.wait()
        try:
            for item in shares[number]:
                began = time.perf_counter()
                decide(number, item)
                latencies[number].append((time.perf_counter() - began) * 1000)
        except BaseException as exc:  # reported after the round
            errors.append(exc)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return len(work) / elapsed, [ms for share in latencies for ms in share]


def http_round(url: str, token: str, work: Sequence[Pending]) -> tuple[float, list[float]]:
    """Decisions over HTTP from CLIENTS threads, each with its own keep-alive connection."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.Client(base_url=url, headers=headers, timeout=60) for _ in range(CLIENTS)]
    for client in clients:  # connect before the clock starts
        client.get("/healthz")

    def decide(number: int, item: Pending) -> None:
        task_id, draft_id, version = item
        body = {"kind": "approve", "draft_id": draft_id, "version": version}
        response = clients[number].post(f"/api/v1/tasks/{task_id}/decisions", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

    try:
        return _in_threads(work, CLIENTS, decide)
    finally:
        for client in clients:
            client.close()


class _NoTurns:
    """A writer lock that never waits: the SQLite store as it was before it had one."""

    def acquire(self, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        pass


def _writer_lock_slot(engine: Any) -> tuple[dict[str, Any], str]:
    from placet.store import sqlite

    return sqlite._writer_locks, engine.store._db._lock_key


def without_writer_lock(engine: Any) -> Any:
    """Switch the store's writer lock off; returns the lock, to put back."""
    locks, key = _writer_lock_slot(engine)
    kept, locks[key] = locks[key], _NoTurns()
    return kept


def engine_round(
    engine: Any, work: Sequence[Pending], threads: int, unlocked: bool = False
) -> tuple[float, list[float]]:
    """The same decisions through ``Engine.decide`` in this process (``unlocked``: the baseline)."""
    from placet.domain.models import TaskStatus

    def decide(_number: int, item: Pending) -> None:
        task_id, draft_id, version = item
        request = approval_request(task_id, REVIEWER, draft_id, version)
        decided = engine.decide(request)
        assert decided.status is TaskStatus.APPROVED

    if not unlocked:
        return _in_threads(work, threads, decide)
    kept = without_writer_lock(engine)
    try:
        return _in_threads(work, threads, decide)
    finally:
        locks, key = _writer_lock_slot(engine)
        locks[key] = kept


# -- the benchmark -----------------------------------------------------------------------


def benchmark(decisions: int, rounds: int, budget: float) -> dict[str, Series]:
    """Run the rounds; the series by key."""

    series = {
        "http": Series(f"HTTP API, {CLIENTS} clients (uvicorn subprocess)"),
        "http_unlocked": Series(f"HTTP API, {CLIENTS} clients, no writer lock (baseline)"),
        "engine": Series(f"Engine.decide in-process, {CLIENTS} threads"),
        "unlocked": Series(
            f"Engine.decide in-process, {CLIENTS} threads, no writer lock (baseline)"
        ),
        "engine1": Series("Engine.decide in-process, 1 thread"),
    }
    with scratch_dir("placet-bench-http-") as folder:
        engine = _engine(folder)
        servers: dict[str, Server] = {}
        try:
            accounts = engine.accounts
            accounts.add_user(REVIEWER, "bench password 1", ["reviewer"])
            token = accounts.create_token(REVIEWER, "bench")[0]
            prepared = time.monotonic()
            work = prepare(engine, decisions * len(series) * rounds + 4 * CLIENTS)
            took = time.monotonic() - prepared
            print(f"(http_decisions: {len(work)} tasks drafted in {took:.0f} s)")
            servers = {"http": Server(folder), "http_unlocked": Server(folder, unlocked=True)}
            for server in servers.values():
                server.wait_ready()
            rounds_run = _rounds(series, servers, engine, token, work, decisions, rounds, budget)
            print(f"(http_decisions: {rounds_run} rounds)")
        finally:
            for server in servers.values():
                server.stop()
            engine.close()
            engine.store.close()
    return series


def _rounds(
    series: dict[str, Series],
    servers: dict[str, Server],
    engine: Any,
    token: str,
    work: list[Pending],
    decisions: int,
    rounds: int,
    budget: float,
) -> int:
    """Warm up, then run the contenders in rounds (order alternating); the rounds run."""
    for key in series:  # warm-up: connections, statements, threads
        work = _one(key, servers, engine, token, work[:CLIENTS])[2] + work[CLIENTS:]
    started = time.monotonic()
    for index in range(rounds):
        if index >= MIN_ROUNDS and time.monotonic() - started > budget:
            print(f"(http_decisions: stopped after {index} rounds, over {budget:.0f} s)")
            return index
        order = list(series) if index % 2 == 0 else list(reversed(series))
        for key in order:
            rate, times, _ = _one(key, servers, engine, token, work[:decisions])
            work = work[decisions:]
            entry = series[key]
            entry.rates.append(rate)
            entry.latencies.extend(times)
            entry.p99s.append(percentile(times, 99))
    return rounds


def _one(
    key: str, servers: dict[str, Server], engine: Any, token: str, batch: list[Pending]
) -> tuple[float, list[float], list[Pending]]:
    """One contender over one batch: (decisions/s, latencies, nothing left over)."""
    if key in servers:
        rate, times = http_round(servers[key].url, token, batch)
    else:
        threads = 1 if key == "engine1" else CLIENTS
        rate, times = engine_round(engine, batch, threads, key == "unlocked")
    return rate, times, []


def _ratio(top: Series, bottom: Series, values: str = "rates") -> float:
    pairs = zip(getattr(top, values), getattr(bottom, values), strict=False)
    return median([a / b for a, b in pairs])


def report(series: dict[str, Series], decisions: int) -> bool:
    """Print the tables. There is no target but the measurement itself: always True."""
    rounds = len(series["http"].rates)
    rows = [
        [
            entry.name,
            median(entry.rates),
            min(entry.rates),
            max(entry.rates),
            median(entry.latencies),
            percentile(entry.latencies, 99),
            median(entry.p99s),
        ]
        for entry in series.values()
    ]
    print_table(
        f"Decisions, {decisions} per round x {rounds} rounds (medians over rounds)",
        [
            "contender",
            "decisions/s",
            "min",
            "max",
            "p50 ms",
            "p99 ms (all)",
            "p99 ms (round median)",
        ],
        rows,
    )
    http, engine, one = series["http"], series["engine"], series["engine1"]
    print_table(
        "Ratios (median of same-round ratios)",
        ["ratio", "value"],
        [
            ["HTTP throughput / in-process (20 threads)", _ratio(http, engine)],
            ["HTTP throughput / in-process (1 thread)", _ratio(http, one)],
            ["HTTP p99 / in-process p99 (20 threads)", _ratio(http, engine, "p99s")],
            [
                "in-process 20 threads: writer lock / none (throughput)",
                _ratio(engine, series["unlocked"]),
            ],
            [
                "in-process 20 threads: writer lock / none (p99)",
                _ratio(engine, series["unlocked"], "p99s"),
            ],
            ["HTTP: writer lock / none (throughput)", _ratio(http, series["http_unlocked"])],
            ["HTTP: writer lock / none (p99)", _ratio(http, series["http_unlocked"], "p99s")],
        ],
    )
    return True


def run(decisions: int, rounds: int, budget: float) -> bool:
    """Measure and report."""
    return report(benchmark(decisions, rounds, budget), decisions)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    if argv is None and len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), int(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--decisions", type=int, help="decisions per contender per round")
    parser.add_argument("--rounds", type=int, help="rounds")
    parser.add_argument("--budget", type=float, help="seconds; no new round after this")
    args = parser.parse_args(argv)
    decisions = args.decisions or (100 if args.quick else 400)
    rounds = args.rounds or (2 if args.quick else 5)
    level = os.environ.get("PLACET_SQLITE_SYNCHRONOUS", "FULL")
    print(f"# http_decisions, SQLite synchronous={level}  ({machine_info()})")
    run(decisions, rounds, args.budget or (20 if args.quick else 90))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
