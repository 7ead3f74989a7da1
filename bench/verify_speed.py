"""Audit verification speed: ``placet audit verify`` over 100,000 and 1,000,000 tasks.

The database is made as Placet makes it: every task goes through the real
engine with an audit key (submit with ``claim_as=``, a draft from
``FakeProvider``, an approval), so each task has three events chained with
HMAC-SHA256, each queued for the global log in the same transaction; then
``engine.seal_audit_log()`` moves the queue into the global log, chained under
the key. To build a million tasks in minutes, the tasks are made by child
processes (``--build-workers``, one SQLite file each, synchronous=OFF: the rows
are the same, only the fsyncs go), whose rows are merged in id order into one
fresh database (the log's queue in each worker's commit order, interleaved), which
is then sealed. The built database is kept in a cache folder keyed by the git
commit and a digest of ``src/`` (``--cache``; ``--no-cache`` builds afresh),
and verification only reads it.

On each database, interleaved, every repetition (the order alternates):

* whole store: ``verify_store(engine)``, what ``placet audit verify`` runs: the
  global log (its walk in position order and the two anti-join queries), then
  every task's chain and rows replayed;
* log alone: ``engine.audit_log.check()``;
* tasks alone: ``verify_store(engine, task_ids=...)``, every task by id, no log
  (the per-task walk the store had before the global log: the baseline);
* floor: the events read with the raw driver in (task, seq) order and each
  HMAC recomputed and linked; no rows replayed, no Placet code: the least any
  chain check must do.

Reported as tasks/s and events/s (log entries/s for the log), medians, and the
median of same-round ratios. SQLite always; PostgreSQL as well with
``--postgres`` when PLACET_BENCH_DATABASE_URL or PLACET_TEST_DATABASE_URL
names a server (the SQLite build copied into a fresh schema with COPY, then
``VACUUM ANALYZE``). Loopback and local files only.

    .venv/bin/python bench/verify_speed.py [--quick] [--sizes 100000,1000000] [--reps R]
        [--budget S] [--postgres] [--build-workers W] [--cache DIR | --no-cache]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from common import (
    ROOT,
    SRC,
    SRC_ENV,
    approval_request,
    machine_info,
    median,
    print_table,
    scratch_dir,
)

KIND = "onboarding_email"
AUDIT_KEY = b"placet-bench-verify-speed-audit-key"
EVENTS_PER_TASK = 3  # submitted (with the claim), save_draft, decided
GENESIS = "0" * 64
SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
CACHE_ENV = "PLACET_BENCH_CACHE"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "placet-bench-verify-cache"
BUILD_TIMEOUT = 3600.0
WHOLE, LOG, TASKS, FLOOR = "whole", "log", "tasks", "floor"
NAMES = {
    WHOLE: "verify_store: whole store (log + tasks)",
    LOG: "log alone: audit_log.check()",
    TASKS: "tasks alone: verify_store(task_ids=...), no log",
    FLOOR: "floor: raw driver, chains only (HMAC)",
}


# -- building the database ---------------------------------------------------------------


def source_key() -> str:
    """The cache key of this Placet: its git commit and a digest of every file in src/."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=9", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = done.stdout.strip() if done.returncode == 0 else "nogit"
    digest = hashlib.sha256()
    for path in sorted(SRC.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(SRC)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return f"{commit}-{digest.hexdigest()[:12]}"


def make_engine(url: str) -> Any:
    """An engine on ``url`` with the audit key and a fake provider, as a worker has."""
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.store import open_store
    from placet.testing import FakeProvider

    kind = TaskKind(
        name=KIND,
        template="Write a short onboarding email to {name}.",
        system="You write friendly onboarding emails.",
    )
    settings = Settings(database_url=url, kinds={KIND: kind}, audit_key=AUDIT_KEY)
    provider = FakeProvider()
    return Engine(open_store(url), settings, provider_for=lambda _model: provider)


def build_shard(path: Path, count: int, shard: int) -> float:
    """``count`` tasks through the engine into a fresh file (unsealed); items/s."""
    from placet.domain.models import TaskStatus

    engine = make_engine(f"sqlite:///{path}")
    try:
        started = time.perf_counter()
        for index in range(count):
            task = engine.submit(KIND, {"name": f"user{shard}-{index}"}, "bench", claim_as="w1")
            task = engine.draft(task, "w1")
            done = engine.decide(approval_request(task.id))
            assert done.status is TaskStatus.APPROVED
        return count / (time.perf_counter() - started)
    finally:
        engine.store.close()


@dataclass
class Built:
    """How a database came to be."""

    path: Path
    tasks: int
    cached: bool
    seconds: float = 0.0  # the whole build: lifecycles, merge, seal
    item_rate: float = 0.0  # lifecycles per second, all workers together
    seal_seconds: float = 0.0
    sealed: int = 0

    def describe(self, key: str) -> str:
        """One line on where the database came from."""
        if self.cached:
            return f"{self.tasks:,} tasks: from the cache ({self.path}, key {key})"
        return (
            f"{self.tasks:,} tasks: built (src key {key}) in {self.seconds:.0f} s "
            f"({self.item_rate:,.0f} lifecycles/s over the workers; sealed {self.sealed:,} "
            f"log entries in {self.seal_seconds:.1f} s, "
            f"{self.sealed / max(self.seal_seconds, 1e-9):,.0f}/s)"
        )


def build(path: Path, count: int, workers: int) -> Built:
    """Build ``count`` tasks at ``path`` in ``workers`` child processes, merge, seal."""
    started = time.perf_counter()
    shards = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    shards = [n for n in shards if n]
    with scratch_dir("placet-bench-verify-build-") as folder:
        env = {**os.environ, "PLACET_SQLITE_SYNCHRONOUS": "OFF", SRC_ENV: str(SRC)}
        procs = []
        for shard, n in enumerate(shards):
            command = [sys.executable, str(Path(__file__).resolve()), "--build-shard"]
            command += [str(folder / f"shard{shard}.db"), "--count", str(n), "--shard", str(shard)]
            procs.append(
                subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            )
        for proc in procs:
            out, err = proc.communicate(timeout=BUILD_TIMEOUT)
            if proc.returncode:
                raise RuntimeError(f"a build worker failed:\n{err.decode()[-4000:]}")
            json.loads(out.decode().strip().splitlines()[-1])
        item_rate = count / (time.perf_counter() - started)
        merge(path, [folder / f"shard{shard}.db" for shard in range(len(shards))])
    engine = make_engine(f"sqlite:///{path}")
    try:
        sealing = time.perf_counter()
        sealed = engine.seal_audit_log()
        seal_seconds = time.perf_counter() - sealing
    finally:
        engine.store.close()
    assert sealed == count * EVENTS_PER_TASK, (sealed, count)
    return Built(path, count, False, time.perf_counter() - started, item_rate, seal_seconds, sealed)


MERGED = {  # table: the order its rows are copied in (the order Placet wrote them)
    "tasks": "id",
    "drafts": "id",
    "decisions": "id",
    "events": "task_id, seq",
    "security_events": "id",
}


def merge(path: Path, shards: Sequence[Path]) -> None:
    """One fresh database at ``path`` with every shard's rows, each table in id order."""
    from placet.store import open_store

    if len(shards) == 1:
        shutil.move(shards[0], path)
        return
    open_store(f"sqlite:///{path}").close()  # the schema, through Placet's migrations
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        names = [f"s{i}" for i in range(len(shards))]
        for name, shard in zip(names, shards, strict=True):
            conn.execute(f"ATTACH DATABASE ? AS {name}", (str(shard),))
        conn.execute("BEGIN")
        for table, order in MERGED.items():
            columns = ", ".join(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
            union = " UNION ALL ".join(f"SELECT {columns} FROM {n}.{table}" for n in names)
            conn.execute(
                f"INSERT INTO main.{table} ({columns}) "
                f"SELECT {columns} FROM ({union}) ORDER BY {order}"
            )
        # The log's queue: each worker's commit order, the workers interleaved.
        columns = "kind, task_id, seq, ref, entry_hash"
        union = " UNION ALL ".join(
            f"SELECT id, {i} AS shard, {columns} FROM {n}.audit_pending"
            for i, n in enumerate(names)
        )
        conn.execute(
            f"INSERT INTO main.audit_pending ({columns}) "
            f"SELECT {columns} FROM ({union}) ORDER BY id, shard"
        )
        conn.execute("COMMIT")
        for name in names:
            conn.execute(f"DETACH DATABASE {name}")
    finally:
        conn.close()


@contextlib.contextmanager
def database(count: int, cache: Path | None, key: str, workers: int) -> Iterator[Built]:
    """A sealed database of ``count`` tasks: from the cache, or built (and cached)."""
    if cache is None:
        with scratch_dir("placet-bench-verify-") as folder:
            yield build(folder / "placet.db", count, workers)
        return
    folder = cache / key
    path = folder / f"sqlite-{count}.db"
    if path.is_file():
        yield Built(path, count, True)
        return
    cache.mkdir(parents=True, exist_ok=True)
    for stale in cache.iterdir():  # databases of another src/ (they would not verify alike)
        if stale.name != key:
            shutil.rmtree(stale, ignore_errors=True)
    folder.mkdir(exist_ok=True)
    for left in folder.glob("partial-*"):  # a build that was killed
        shutil.rmtree(left, ignore_errors=True)
    partial = folder / f"partial-{os.getpid()}-{count}"
    partial.mkdir()
    try:
        built = build(partial / "placet.db", count, workers)
        for suffix in ("-wal", "-shm"):  # closed cleanly: nothing left in them
            Path(f"{built.path}{suffix}").unlink(missing_ok=True)
        built.path.rename(path)
        built.path = path
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    yield built


# -- PostgreSQL: the SQLite build copied in ---------------------------------------------


def postgres_url() -> str | None:
    """The server named by PLACET_BENCH_DATABASE_URL or PLACET_TEST_DATABASE_URL, if any."""
    return os.environ.get("PLACET_BENCH_DATABASE_URL") or os.environ.get("PLACET_TEST_DATABASE_URL")


COPIED = ("tasks", "drafts", "decisions", "events", "security_events", "audit_log", "audit_pending")


def copy_to_postgres(path: Path, url: str) -> float:
    """Every row of the SQLite database at ``path`` into the schema at ``url``; seconds."""
    import pgcommon
    import psycopg
    import sqlalchemy as sa

    from placet.store import open_store, schema

    started = time.perf_counter()
    open_store(url).close()  # the schema, through Placet's migrations
    source = sqlite3.connect(path)
    try:
        with psycopg.connect(pgcommon.libpq(url)) as conn:
            for name in COPIED:
                table = schema.metadata.tables[name]
                columns = [c.name for c in table.columns]
                flags = [i for i, c in enumerate(table.columns) if isinstance(c.type, sa.Boolean)]
                query = f"SELECT {', '.join(columns)} FROM {name} ORDER BY rowid"
                copy_sql = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
                with conn.cursor().copy(copy_sql) as copy:
                    for row in source.execute(query):
                        if flags:
                            row = tuple(bool(v) if i in flags else v for i, v in enumerate(row))
                        copy.write_row(row)
            conn.commit()
    finally:
        source.close()
    pgcommon.admin(f"VACUUM ANALYZE {', '.join(COPIED)}", url)  # what autovacuum does
    return time.perf_counter() - started


# -- what is timed ---------------------------------------------------------------------


def _problems(what: str, problems: Sequence[Any], unchecked: int) -> None:
    if problems or unchecked:
        shown = "; ".join(f"{p.task_id} {p.seq}: {p.problem}" for p in problems[:3])
        raise RuntimeError(f"{what} found {len(problems)} problems, {unchecked} unchecked: {shown}")


def check_whole(engine: Any, count: int) -> int:
    """``verify_store`` over the whole store; events checked."""
    from placet.engine.auditing import verify_store

    report = verify_store(engine)
    _problems("verify_store", report.problems, report.unchecked)
    assert report.tasks == count and report.log is not None, (report.tasks, count)
    assert report.log.size == count * EVENTS_PER_TASK, report.log.size
    return int(report.events)


def check_log(engine: Any, count: int) -> int:
    """The global log alone; entries checked."""
    result = engine.audit_log.check()
    _problems("audit_log.check", result.problems, result.unchecked)
    assert result.size == count * EVENTS_PER_TASK and result.pending == 0, result
    return int(result.size)


def check_tasks(engine: Any, ids: list[str]) -> int:
    """``verify_store`` over every task by id (no log); events checked."""
    from placet.engine.auditing import verify_store

    report = verify_store(engine, task_ids=ids)
    _problems("verify_store(task_ids)", report.problems, report.unchecked)
    assert report.tasks == len(ids) and report.log is None
    return int(report.events)


_EVENTS_SQL = (
    "SELECT task_id, seq, type, actor, created_at, payload, prev_hash, hash "
    "FROM events ORDER BY task_id, seq"
)


def floor_walk(rows: Iterator[Sequence[Any]]) -> int:
    """Each event's link and HMAC, recomputed from its columns (Placet's body text); events."""
    keyed = hmac.new(AUDIT_KEY, digestmod=hashlib.sha256)
    task, prev, checked = None, GENESIS, 0
    for task_id, seq, kind, actor, created_at, payload, prev_hash, digest in rows:
        if task_id != task:
            task, prev = task_id, GENESIS
        body = (
            f'{{"actor":{encode_basestring(actor)},"created_at":{float.__repr__(created_at)},'
            f'"payload":{payload},"seq":{int.__repr__(seq)},'
            f'"task_id":{encode_basestring(task_id)},"type":{encode_basestring(kind)}}}'
        )
        mac = keyed.copy()
        mac.update(prev_hash.encode("ascii"))
        mac.update(body.encode("utf-8"))
        if prev_hash != prev or mac.hexdigest() != digest:
            raise RuntimeError(f"the floor walk does not match Placet at {task_id} {seq}")
        prev = digest
        checked += 1
    return checked


def check_floor(url: str) -> int:
    """The floor over the database at ``url``; events checked."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return floor_walk(conn.execute(_EVENTS_SQL))
        finally:
            conn.close()
    import pgcommon
    import psycopg

    with psycopg.connect(pgcommon.libpq(url)) as pg, pg.cursor(name="floor") as cursor:
        cursor.itersize = 10_000
        cursor.execute(_EVENTS_SQL)
        return floor_walk(iter(cursor))


# -- the benchmark ---------------------------------------------------------------------


@dataclass
class Series:
    """One measurement on one database across repetitions: seconds and items checked."""

    key: str
    run: Callable[[], int]
    seconds: list[float] = field(default_factory=list)
    items: int = 0  # events (or log entries) per run


def measure(url: str, count: int, reps: int, budget: float) -> dict[str, Series]:
    """Every measurement ``reps`` times (at least once), interleaved, within ``budget`` s."""
    engine = make_engine(url)
    try:
        ids = [task.id for task in engine.iter_tasks()]
        assert len(ids) == count, (len(ids), count)
        series = {
            WHOLE: Series(WHOLE, lambda: check_whole(engine, count)),
            LOG: Series(LOG, lambda: check_log(engine, count)),
            TASKS: Series(TASKS, lambda: check_tasks(engine, ids)),
            FLOOR: Series(FLOOR, lambda: check_floor(url)),
        }
        started = time.monotonic()
        for rep in range(reps):
            if rep and time.monotonic() - started > budget:
                print(f"(stopped after {rep} repetitions, over the {budget:.0f} s budget)")
                break
            order = list(series.values())
            if rep % 2:
                order.reverse()
            for entry in order:
                os.sync()
                began = time.perf_counter()
                entry.items = entry.run()
                entry.seconds.append(time.perf_counter() - began)
        return series
    finally:
        engine.store.close()


def paired(top: Series, bottom: Series) -> float:
    """The median over repetitions of top's seconds / bottom's, in the same round."""
    return median([a / b for a, b in zip(top.seconds, bottom.seconds, strict=True)])


def report(store: str, results: dict[int, dict[str, Series]], notes: list[str]) -> None:
    """The tables: rates per size and measurement, then the same-round ratios."""
    rows = []
    for count, series in results.items():
        for key, entry in series.items():
            seconds = median(entry.seconds)
            rates = [count / s for s in entry.seconds]
            rows.append(
                [
                    NAMES[key],
                    f"{count:,}",
                    len(entry.seconds),
                    seconds,
                    count / seconds,
                    entry.items / seconds,
                    min(rates),
                    max(rates),
                ]
            )
    print_table(
        f"{store}: audit verification speed (medians; events: log entries for the log)",
        ["what", "tasks", "reps", "s", "tasks/s", "events/s", "min tasks/s", "max tasks/s"],
        rows,
    )
    ratios = []
    for count, s in results.items():
        size = f"{count:,}"
        ratios += [
            ["whole store / tasks alone (tasks/s)", size, 1 / paired(s[WHOLE], s[TASKS])],
            ["log alone, share of the whole verify's time", size, paired(s[LOG], s[WHOLE])],
            ["tasks alone / floor (events/s)", size, 1 / paired(s[TASKS], s[FLOOR])],
            ["whole store / floor (events/s)", size, 1 / paired(s[WHOLE], s[FLOOR])],
        ]
    sizes = list(results)
    if len(sizes) > 1:
        small, large = results[sizes[0]], results[sizes[-1]]
        for key in (WHOLE, LOG, TASKS):
            flat = (sizes[-1] / median(large[key].seconds)) / (
                sizes[0] / median(small[key].seconds)
            )
            ratios.append(
                [f"{NAMES[key]}: tasks/s, larger / smaller", f"{sizes[-1]:,} / {sizes[0]:,}", flat]
            )
    print_table(
        f"{store}: ratios (median of same-round ratios; across sizes, of the medians)",
        ["ratio", "tasks", "value"],
        ratios,
    )
    for note in notes:
        print(f"- {note}")


def run(
    sizes: Sequence[int],
    reps: int,
    budget: float,
    postgres: bool = False,
    sqlite: bool = True,
    cache: Path | None = DEFAULT_CACHE,
    workers: int = 2,
) -> None:
    """Build (or find) each database, time every measurement on it, print the tables.

    ``postgres``: also on the server of ``pgcommon.server_url()`` (the caller has
    checked that it answers), in a fresh schema per size; ``sqlite``: on SQLite
    (the build is SQLite's either way).
    """
    key = source_key()
    results: dict[str, dict[int, dict[str, Series]]] = {"SQLite": {}, "PostgreSQL": {}}
    notes: dict[str, list[str]] = {"SQLite": [], "PostgreSQL": []}

    def note(store: str, text: str) -> None:
        notes[store].append(text)
        print(f"# {store}, {text}")

    for count in sizes:
        with database(count, cache, key, workers) as built:
            note("SQLite", built.describe(key))
            if sqlite:
                results["SQLite"][count] = measure(f"sqlite:///{built.path}", count, reps, budget)
            if postgres:
                import pgcommon

                with pgcommon.fresh_schema("verify") as url:
                    copied = copy_to_postgres(built.path, url)
                    note("PostgreSQL", f"{count:,} tasks: copied from SQLite in {copied:.0f} s")
                    results["PostgreSQL"][count] = measure(url, count, reps, budget)
    for store, by_size in results.items():
        if by_size:
            report(store, by_size, notes[store])


def postgres_ready() -> bool:
    """True when a server is named in the environment and answers; else say why not."""
    if postgres_url() is None:
        print("# PostgreSQL skipped: set PLACET_TEST_DATABASE_URL (or PLACET_BENCH_DATABASE_URL)")
        return False
    try:
        import pgcommon
    except ImportError as exc:
        print(f"# PostgreSQL skipped: {exc} (make bench installs it)")
        return False
    missing = pgcommon.unavailable()
    if missing is not None:
        print(f"# PostgreSQL skipped: {missing}")
        return False
    print(f"# {pgcommon.server_info()}")
    return True


def parse_sizes(text: str) -> list[int]:
    """``100000,1000000`` (or ``100k,1M``) as task counts."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("km")) * scale))
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 tasks")
    parser.add_argument("--sizes", type=parse_sizes, help="task counts, e.g. 100000,1000000")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument(
        "--budget", type=float, help="seconds per size; no new repetition after this"
    )
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too (see above)")
    parser.add_argument("--build-workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE),
        help=f"where built databases are kept (default ${CACHE_ENV} or {DEFAULT_CACHE})",
    )
    parser.add_argument("--no-cache", action="store_true", help="build afresh, keep nothing")
    parser.add_argument("--build-shard", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--shard", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_shard:
        rate = build_shard(args.build_shard, args.count, args.shard)
        print(json.dumps({"items_per_second": rate}))
        return 0
    sizes = args.sizes or list(QUICK_SIZES if args.quick else SIZES)
    budget = args.budget or (300 if args.quick else 1500)
    print(f"# verify speed  ({machine_info()})")
    cache = None if args.no_cache else args.cache
    postgres = args.postgres and postgres_ready()
    run(sizes, max(1, args.reps), budget, postgres, True, cache, max(1, args.build_workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
