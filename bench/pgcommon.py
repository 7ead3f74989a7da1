"""Shared helpers for the PostgreSQL benchmarks: the server, fresh schemas, worker processes.

The server comes from PLACET_BENCH_DATABASE_URL, else PLACET_TEST_DATABASE_URL,
else postgresql://postgres@127.0.0.1:5432/test. Every run gets a schema of its
own (through ``search_path`` in the URL), dropped afterwards.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import common  # noqa: F401  # puts src/ on sys.path
import psycopg
import sqlalchemy as sa

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
_counter = itertools.count()


def server_url() -> str:
    """The PostgreSQL server the benchmarks use."""
    return (
        os.environ.get("PLACET_BENCH_DATABASE_URL")
        or os.environ.get("PLACET_TEST_DATABASE_URL")
        or DEFAULT_URL
    )


def libpq(url: str) -> str:
    """The URL as psycopg takes it."""
    parsed = sa.engine.make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def admin(sql: str, url: str | None = None) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit; its rows, if any."""
    with psycopg.connect(libpq(url or server_url()), autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def unavailable() -> str | None:
    """Why the PostgreSQL benchmarks cannot run here, or None when the server answers."""
    try:
        admin("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at {server_url()}: {str(exc).strip().splitlines()[0]}"
    return None


def server_info() -> str:
    """One line naming the server and the settings that decide commit cost."""
    (version,), *_ = admin("SHOW server_version")
    settings = [
        f"{name}={admin(f'SHOW {name}')[0][0]}"
        for name in ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay")
    ]
    return f"PostgreSQL {version}, {', '.join(settings)}"


@contextlib.contextmanager
def fresh_schema(label: str) -> Iterator[str]:
    """A URL whose tables live in a new schema, dropped afterwards."""
    name = f"placet_bench_{label}_{os.getpid()}_{next(_counter)}"
    admin(f'CREATE SCHEMA "{name}"')
    parsed = sa.engine.make_url(server_url())
    url = parsed.update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def run_processes(
    target: Callable[..., None], args: Sequence[tuple[Any, ...]], timeout: float = 600
) -> float:
    """Run one process per argument tuple; seconds from the common start to the last finish.

    Each process gets ``(go, results, *args)`` and hands the first two to
    ``in_process``: it sets up, says it is ready, waits for ``go``, works, and
    reports its finish as a ``time.monotonic()`` reading (system-wide on
    Linux, so readings compare across processes).
    """
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter, as a real worker is
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(go, results, *a)) for a in args]
    for proc in procs:
        proc.start()
    try:
        _collect(results, procs, "ready", 120)
        started = time.monotonic()
        go.set()
        finishes = _collect(results, procs, "done", timeout)
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join()
    return max(finishes) - started


def _collect(results: Any, procs: Sequence[Any], kind: str, timeout: float) -> list[float]:
    """One ``kind`` report from every process; an error, a death or a timeout raises."""
    found: list[float] = []
    deadline = time.monotonic() + timeout
    while len(found) < len(procs):
        try:
            what, value = results.get(timeout=1)
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"a benchmark process died or hung before {kind!r}") from None
            continue
        if what == "error":
            raise RuntimeError(f"a benchmark process failed: {value}")
        found.append(value)
    return found


def in_process(
    go: Any, results: Any, setup: Callable[[], Any], work: Callable[[Any], None]
) -> None:
    """A benchmark process's body: set up, wait for the others, work, report the finish."""
    try:
        state = setup()
        results.put(("ready", 0.0))
        go.wait()
        work(state)
        results.put(("done", time.monotonic()))
    except BaseException as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
        raise
