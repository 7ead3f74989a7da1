"""Shared helpers for Placet's benchmarks: statistics, tables, temp dirs, machine info.

Machines here are small, shared and noisy, so every benchmark measures its
baselines in the same run, interleaves the contenders, and reports medians
and ratios rather than absolute figures alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import os
import platform
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Placet's src/ folder: this checkout's, or another revision's tree when a child
# process of bench/baseline.py runs Placet as it was at that revision.
SRC_ENV = "PLACET_BENCH_SRC"
SRC = Path(os.environ.get(SRC_ENV) or ROOT / "src")
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # run from a checkout without installing


def require_extras(what: str, *modules: str) -> None:
    """Exit with one line when a contender's package is missing, before any timing starts.

    The contenders (holdpoint, LangGraph, procrastinate) come with the
    ``bench`` extra, not with ``make run`` or ``make test``.
    """
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"{what} needs {', '.join(missing)}, from the bench extra: install it with "
            "`make bench` or `.venv/bin/pip install -e '.[bench]'`"
        )


def approval_request(
    task_id: str,
    reviewer: str = "reviewer",
    draft_id: str | None = None,
    expected_version: int | None = None,
) -> Any:
    """An approval of ``task_id`` by ``reviewer``: the ``DecisionRequest`` the engine takes.

    The one place the benchmarks build a decision, so that one bench script
    drives Placet at any revision (bench/baseline.py): a request names its
    reviewer either as ``actor`` (a name, with ``role``) or as ``principal``
    (a ``placet.domain.policy.Principal``, with the reviewer role, from the SDK).
    """
    return _approval_factory(reviewer)(task_id, draft_id, expected_version)


@functools.cache
def _approval_factory(reviewer: str) -> Callable[[str, str | None, int | None], Any]:
    from placet.domain.models import DecisionKind
    from placet.engine import DecisionRequest

    names = {f.name for f in dataclasses.fields(DecisionRequest)}
    who: dict[str, Any]
    if "principal" in names:
        from placet.domain.policy import Principal, Role

        wanted = {"name": reviewer, "roles": frozenset({Role.REVIEWER}), "channel": "sdk"}
        known = {f.name for f in dataclasses.fields(Principal)}
        who = {"principal": Principal(**{k: v for k, v in wanted.items() if k in known})}
    else:
        who = {"actor": reviewer}
        if "role" in names:
            who["role"] = "reviewer"

    def build(task_id: str, draft_id: str | None, expected_version: int | None) -> Any:
        return DecisionRequest(
            task_id=task_id,
            kind=DecisionKind.APPROVE,
            draft_id=draft_id,
            expected_version=expected_version,
            **who,
        )

    return build


BENCH_AUDIT_KEY = b"placet-bench-audit-key-0123456789"
SEAL_EVERY = 200  # items between two seals of the global audit log, as an idle worker does


def audit_settings() -> dict[str, Any]:
    """The ``Settings`` arguments that key the audit trail, when this Placet has keys.

    Like ``approval_request``, so that one bench script drives Placet at any
    revision: a Placet whose ``Settings`` has ``audit_key`` chains its events
    with HMAC-SHA256 under ``BENCH_AUDIT_KEY``; an older one gets nothing and
    keeps its plain chains.
    """
    from placet.config import Settings

    names = {f.name for f in dataclasses.fields(Settings)}
    return {"audit_key": BENCH_AUDIT_KEY} if "audit_key" in names else {}


def audit_sealer(engine: Any, every: int = SEAL_EVERY) -> Callable[[], None]:
    """Call once per item: seals the engine's global audit log every ``every`` calls.

    A no-op for a Placet without a global log (no ``Engine.seal_audit_log``).
    """
    seal = getattr(engine, "seal_audit_log", None)
    if seal is None:
        return lambda: None
    calls = 0

    def after_item() -> None:
        nonlocal calls
        calls += 1
        if calls % every == 0:
            seal()

    return after_item


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on the sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine_info() -> str:
    """One line naming the machine: cores, CPU, Python, SQLite."""
    import sqlite3

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"nproc={os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
    )


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table that reads well in a terminal and pastes into Markdown."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print(
            "| "
            + " | ".join(
                c.rjust(w) if index and col else c.ljust(w)
                for col, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    sys.stdout.flush()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def verdict(ok: bool) -> str:
    """How a target reads in a table."""
    return "met" if ok else "NOT met"


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder (on the default temp filesystem), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
