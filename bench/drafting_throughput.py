"""Drafts per second from one worker with many drafts in flight (issue 22).

A loopback OpenAI-compatible server (``tests/integration/hosted_api.py``, in a process
of its own) plays a hosted API: a first-token delay (0.5 s), 400 tokens a second, drafts
of 200 tokens, and, for the limited runs, a requests-per-second limit announced in the
``x-ratelimit-*`` headers and enforced with 429. One ``Worker`` drafts through the real
OpenAI-compatible adapter into SQLite (WAL, in a scratch folder).

* Unlimited: drafts per second at 1, 8, 32 and 64 in flight, against the ideal: in
  flight divided by the time one draft takes, measured in the same run at 1 in flight.
  Target: 0.80 of the ideal at 64.
* Two workers on PostgreSQL (PLACET_BENCH_DATABASE_URL, else the test server), 32 in
  flight each, against the same limit: the same figures (they share it only through the
  headers each answer carries).
* Limited (20 requests a second): the sustained rate (drafts finished from the 20th to
  the 90th percentile of the run, per second) against the limit, and the share of
  requests answered 429. Target: 0.90 of the limit, fewer than 1% 429s, no failed task.

    .venv/bin/python bench/drafting_throughput.py [--quick] [--limit 20] [--seconds 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import machine_info, print_table, scratch_dir

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the hosted-API server lives with the tests

from placet.config import Settings  # noqa: E402
from placet.domain.models import TaskKind, TaskStatus  # noqa: E402
from placet.domain.queries import TaskFilter  # noqa: E402
from placet.engine import Engine  # noqa: E402
from placet.engine.worker import Worker  # noqa: E402
from placet.providers.openai_compat import OpenAICompatibleProvider  # noqa: E402
from placet.store import open_store  # noqa: E402

KIND = TaskKind(name="reply", template="Write a short support reply to {name}.", max_tokens=200)


@dataclass(frozen=True)
class Run:
    """One measured run."""

    in_flight: int
    drafts: int
    seconds: float
    sustained: float  # drafts/s from the 20th to the 90th percentile of finishing times
    failed: int
    sent: int
    rate_limited: int

    @property
    def per_second(self) -> float:
        return self.drafts / self.seconds


class Server:
    """The hosted-API server in a subprocess (its own interpreter, its own GIL)."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.hosted_api", *options],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measure(base_url: str, in_flight: int, drafts: int, folder: Path) -> Run:
    """Submit ``drafts`` tasks, then time one worker drafting them all."""
    url = f"sqlite:///{folder / f'flight-{in_flight}-{time.monotonic_ns()}.db'}"
    settings = Settings(database_url=url, kinds={KIND.name: KIND}, model="hosted:hosted-model")
    provider = OpenAICompatibleProvider(
        "hosted", "hosted-model", base_url=base_url, api_key=f"bench-key-{time.monotonic_ns()}"
    )
    engine = Engine(open_store(url), settings, provider_for=lambda _model: provider)
    try:
        for index in range(drafts):
            engine.submit(KIND.name, {"name": f"customer {index}"}, "bench")
        worker = Worker(engine, report=lambda _message: None, concurrency=in_flight)
        started = time.time()
        worker.run(max_tasks=drafts)
        seconds = time.time() - started
        return _run(engine, provider, in_flight, seconds, drafts)
    finally:
        engine.close(store_too=True)
        provider.close()


def _run(
    engine: Engine, provider: OpenAICompatibleProvider, in_flight: int, seconds: float, n: int
) -> Run:
    done = engine.list_tasks(TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), limit=n))
    failed = engine.list_tasks(TaskFilter(statuses=(TaskStatus.FAILED,), limit=n))
    finished = sorted(engine.get_draft(task.current_draft_id or "").created_at for task in done)
    low, high = int(len(finished) * 0.2), int(len(finished) * 0.9) - 1
    window = finished[high] - finished[low] if high > low else 0.0
    sustained = (high - low) / window if window > 0 else float("nan")
    pace = provider.gate.pace()
    return Run(in_flight, len(done), seconds, sustained, len(failed), pace.sent, pace.rate_limited)


def unlimited(args: argparse.Namespace, folder: Path) -> None:
    server = Server("--first-token", str(args.first_token))
    try:
        one = measure(server.base_url, 1, 4 if args.quick else 8, folder)
        draft_seconds = one.seconds / one.drafts
        rows = []
        for in_flight in (1, 8, 32, 64):
            drafts = in_flight * (2 if args.quick else 4)
            found = one if in_flight == 1 else measure(server.base_url, in_flight, drafts, folder)
            ideal = in_flight / draft_seconds
            rows.append([in_flight, found.drafts, f"{found.per_second:.1f}", f"{ideal:.1f}",
                         f"{found.per_second / ideal:.2f}", found.failed])  # fmt: skip
    finally:
        server.close()
    print(f"one draft alone: {draft_seconds:.3f} s")
    print_table(
        "Unlimited server: drafts per second from one worker",
        ["in flight", "drafts", "drafts/s", "ideal", "ratio", "failed"],
        rows,
    )


def limited(args: argparse.Namespace, folder: Path) -> None:
    limit = args.limit
    server = Server("--first-token", str(args.first_token), "--requests-per-second", str(limit))
    try:
        drafts = int(limit * args.seconds)
        found = measure(server.base_url, 64, drafts, folder)
    finally:
        server.close()
    share = found.rate_limited / found.sent if found.sent else 0.0
    print_table(
        f"Limited server ({limit:g} requests/s): 64 in flight, {drafts} drafts",
        ["drafts/s (whole run)", "sustained", "limit", "ratio", "429s", "share 429", "failed"],
        [[f"{found.per_second:.1f}", f"{found.sustained:.1f}", f"{limit:g}",
          f"{found.sustained / limit:.2f}", found.rate_limited, f"{share:.2%}", found.failed]],
    )  # fmt: skip


def shared_on_postgres(args: argparse.Namespace) -> None:
    """Two worker processes on one PostgreSQL database, 32 in flight each, one limit."""
    from pgcommon import fresh_schema, unavailable

    why = unavailable()
    if why:
        print(f"\ntwo workers on PostgreSQL: not run ({why})")
        return
    limit, drafts = args.limit, int(args.limit * args.seconds)
    server = Server("--first-token", str(args.first_token), "--requests-per-second", str(limit))
    try:
        with fresh_schema("drafting") as url:
            found = _two_workers(url, server.base_url, drafts)
    finally:
        server.close()
    sent, refused, per_second, sustained, failed = found
    share = refused / sent if sent else 0.0
    print_table(
        f"Two workers on PostgreSQL, one limit ({limit:g} requests/s): 32 in flight each, "
        f"{drafts} drafts",
        ["drafts/s (whole run)", "sustained", "limit", "ratio", "429s", "share 429", "failed"],
        [[f"{per_second:.1f}", f"{sustained:.1f}", f"{limit:g}", f"{sustained / limit:.2f}",
          refused, f"{share:.2%}", failed]],
    )  # fmt: skip


def _two_workers(url: str, base_url: str, drafts: int) -> tuple[int, int, float, float, int]:
    settings = Settings(database_url=url, kinds={KIND.name: KIND}, model="hosted:hosted-model")
    provider = OpenAICompatibleProvider("hosted", "hosted-model", base_url=base_url, api_key="x")
    engine = Engine(open_store(url), settings, provider_for=lambda _model: provider)
    try:
        for index in range(drafts):
            engine.submit(KIND.name, {"name": f"customer {index}"}, "bench")
        started = time.time()
        actor = [sys.executable, "-m", "tests.integration.many_drafts_actor", url, base_url]
        quiet = subprocess.DEVNULL
        workers = [
            subprocess.Popen([*actor, "32", f"bench-worker-{n}"], cwd=ROOT, stdout=quiet)
            for n in (1, 2)
        ]
        finished = (TaskStatus.AWAITING_REVIEW, TaskStatus.FAILED)
        while engine.count_by_status() and _count(engine, finished) < drafts:
            time.sleep(0.2)
        seconds = time.time() - started
        for worker in workers:
            worker.terminate()
            worker.wait(60)
        run = _run(engine, provider, 64, seconds, drafts)
        rows = [row for row in engine.provider_paces(3600) if row.endpoint == base_url]
        sent = sum(int(row.pace["sent"]) for row in rows)
        refused = sum(int(row.pace["rate_limited"]) for row in rows)
        for row in rows:
            print(f"{row.worker}: {row.pace}")
        return sent, refused, run.per_second, run.sustained, run.failed
    finally:
        engine.close(store_too=True)


def _count(engine: Engine, statuses: tuple[TaskStatus, ...]) -> int:
    return sum(n for (_kind, status), n in engine.count_by_status().items() if status in statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer drafts per run")
    parser.add_argument("--first-token", type=float, default=0.5)
    parser.add_argument("--limit", type=float, default=20.0, help="requests/s of the limited run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the limited run")
    parser.add_argument(
        "--postgres-only", action="store_true", help="only the two workers on PostgreSQL"
    )
    args = parser.parse_args()
    print(machine_info())
    with scratch_dir("drafting-") as folder:
        if not args.postgres_only:
            unlimited(args, Path(folder))
            limited(args, Path(folder))
    shared_on_postgres(args)


if __name__ == "__main__":
    main()
