"""The approval cycle from code: Placet's SDK beside LangGraph's interrupts and holdpoint.

One item is one request for approval, approved, and the waiting code resumed:

* Placet: ``engine.propose`` of a caller-made draft (the way a guarded call, a
  question or a LangGraph interrupt enters the queue), ``engine.decide``
  (approve), and ``client.wait`` returning the ``Outcome``;
* LangGraph: a one-node graph whose node calls ``interrupt()``, invoked to the
  interrupt, then invoked with ``Command(resume=...)``, on its ``SqliteSaver``;
* holdpoint 0.2.0: a ``@hold.guard`` call, then ``hold.approve(...)`` (which runs it);
* for reference, this repository's LangGraph integration: the same one-node
  graph asking through ``PlacetInterrupts.interrupt`` (LangGraph and Placet
  both), decided, and resumed with ``PlacetInterrupts.wait``.

Each contender writes its own SQLite file (WAL) in one temporary folder, so all
share a disk. Durability where it can be set: LangGraph's ``SqliteSaver`` sets
WAL and leaves ``synchronous`` at SQLite's default, FULL, so it runs beside
Placet at FULL (Placet's default, ``PLACET_SQLITE_SYNCHRONOUS``); holdpoint
always runs NORMAL, so it runs beside Placet at NORMAL. The contenders run
interleaved, each repetition on a fresh file; the tables show medians and the
median of same-round ratios.

    .venv/bin/python bench/sdk_cycle.py [--quick] [--items N] [--reps R] [--baseline-ref REF]

``--baseline-ref REF`` adds the whole Placet package as it was at git
revision REF (its ``src/`` tree, from ``git archive``) beside the working
tree, at FULL and at NORMAL, in the same run, interleaved with the rest: both
run the current propose+approve+wait loop in child processes, one per
repetition (bench/baseline.py), and the ratios table gains "Placet working
tree / Placet at REF", the median of same-round ratios. With ``--quick`` it is
a fast check.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import baseline
from common import (
    approval_request,
    machine_info,
    median,
    print_table,
    require_extras,
    scratch_dir,
    verdict,
)

NEEDS = ("holdpoint", "langgraph")  # the packages of the contenders (the bench extra)
SYNC_ENV = "PLACET_SQLITE_SYNCHRONOUS"
WARMUP_ITEMS = 20
KIND = "send_email"


@contextlib.contextmanager
def synchronous(level: str) -> Iterator[None]:
    """Placet reads its synchronous level from the environment when it connects."""
    old = os.environ.get(SYNC_ENV)
    os.environ[SYNC_ENV] = level
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(SYNC_ENV, None)
        else:
            os.environ[SYNC_ENV] = old


def placet_client(folder: Path, register: bool = True) -> Any:
    """A Placet client on a fresh SQLite file (with the review kind registered in code)."""
    from placet import Client  # the SDK's public name, at any revision
    from placet.config import Settings
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.testing import FakeProvider, temp_store

    store = temp_store(folder)
    provider = FakeProvider()  # never called: every draft here is the caller's
    engine = Engine(store, Settings(database_url=store.url), provider_for=lambda _m: provider)
    if register:
        engine.register_kind(TaskKind(KIND, template="", max_attempts=1))
    return Client(engine, requester="agent", owns_store=True)


# -- contenders: each takes a fresh folder, an item count and a sync level -------------


def run_placet(folder: Path, items: int, level: str) -> float:
    """Items per second: propose a caller-made draft, approve it, wait for the outcome."""
    with synchronous(level):
        client = placet_client(folder)
        engine = client.engine
        try:

            def one(index: int) -> None:
                to = f"u{index}@example.com"
                task = engine.propose(KIND, {"to": to}, "agent", f"Send the welcome email to {to}")
                engine.decide(approval_request(task.id))
                assert client.wait(task.id, timeout=10).approved

            return _timed(one, items)
        finally:
            client.close()


class _State(TypedDict, total=False):
    to: str
    answer: Any


def _saver(folder: Path, level: str) -> tuple[Any, sqlite3.Connection]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(folder / "langgraph.db", check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()  # sets WAL; synchronous stays as the connection has it
    if level != "DEFAULT":
        conn.execute(f"PRAGMA synchronous={level}")
    return saver, conn


def _one_node_graph(node: Callable[[_State], _State], saver: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(_State)
    builder.add_node("send", node)
    builder.add_edge(START, "send")
    builder.add_edge("send", END)
    return builder.compile(checkpointer=saver)


def run_langgraph(folder: Path, items: int, level: str) -> float:
    """Items per second: invoke to ``interrupt()``, then invoke with ``Command(resume=...)``."""
    from langgraph.types import Command, interrupt

    def send(state: _State) -> _State:
        return {"answer": interrupt({"to": state["to"]})}

    saver, conn = _saver(folder, level)
    try:
        graph = _one_node_graph(send, saver)

        def one(index: int) -> None:
            config = {"configurable": {"thread_id": uuid.uuid4().hex}}
            paused = graph.invoke({"to": f"u{index}"}, config)
            assert "__interrupt__" in paused
            done = graph.invoke(Command(resume={"action": "approve"}), config)
            assert done["answer"] == {"action": "approve"}

        return _timed(one, items)
    finally:
        conn.close()


def run_holdpoint(folder: Path, items: int, level: str) -> float:
    """Items per second: a guarded call queued, then approved (and run)."""
    from holdpoint import HoldPoint, SQLiteStore

    assert level == "NORMAL", "holdpoint always runs synchronous=NORMAL"
    store = SQLiteStore(folder / "holdpoint.db")
    try:
        hold = HoldPoint(store=store)

        @hold.guard(kind=KIND)
        def send_email(to: str) -> str:
            return "sent"

        def one(index: int) -> None:
            pending = send_email(to=f"u{index}")
            assert hold.approve(pending.id, actor="reviewer").value == "sent"

        return _timed(one, items)
    finally:
        store.close()


def run_integration(folder: Path, items: int, level: str) -> float:
    """Items per second: LangGraph asking through Placet, decided, resumed by the caller."""
    from placet.integrations.langgraph import PlacetInterrupts

    with synchronous(level):
        client = placet_client(folder, register=False)  # PlacetInterrupts registers it
        reviews = PlacetInterrupts(client, kind=KIND)
        saver, conn = _saver(folder, level)
        try:
            graph = _one_node_graph(
                lambda state: {"answer": reviews.interrupt({"to": state["to"]}).action}, saver
            )

            def one(index: int) -> None:
                config = {"configurable": {"thread_id": uuid.uuid4().hex}}
                paused = graph.invoke({"to": f"u{index}"}, config)
                task_id = paused["__interrupt__"][0].value["placet_task_id"]
                client.engine.decide(approval_request(task_id))
                done = graph.invoke(reviews.wait(graph, config, timeout=10), config)
                assert done["answer"] == "approve"

            return _timed(one, items)
        finally:
            conn.close()
            client.close()


def _timed(one: Callable[[int], None], items: int) -> float:
    for index in range(WARMUP_ITEMS):
        one(-1 - index)
    started = time.perf_counter()
    for index in range(items):
        one(index)
    return items / (time.perf_counter() - started)


def langgraph_default_synchronous(folder: Path) -> str:
    """What SqliteSaver's connection runs with when nobody sets it (SQLite's default)."""
    _, conn = _saver(folder, "DEFAULT")
    try:
        (level,) = conn.execute("PRAGMA synchronous").fetchone()
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    finally:
        conn.close()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return f"{names.get(level, level)} (journal_mode={mode})"


CHILD_RUNS: dict[str, baseline.Run] = {"placet": run_placet}  # what --child runs


# -- the benchmark ---------------------------------------------------------------------


@dataclass
class Series:
    """One contender at one sync level across repetitions."""

    name: str
    level: str
    run: Callable[[Path, int, str], float]
    rates: list[float] = field(default_factory=list)
    tree: str = ""  # for a child-process row: the Placet tree it runs


def benchmark(items: int, reps: int, baseline_ref: str | None = None) -> dict[str, Series]:
    """Run every contender ``reps`` times, interleaved; return the series by key.

    ``baseline_ref``: also Placet at that git revision and Placet of the working
    tree, each in a child process per repetition (keys ``ref@`` and ``tree@``).
    """
    with contextlib.ExitStack() as stack:
        tree = stack.enter_context(baseline.tree_at(baseline_ref)) if baseline_ref else None
        return _rounds(items, reps, tree)


def _rounds(items: int, reps: int, tree: baseline.Tree | None) -> dict[str, Series]:
    series = {
        "placet@FULL": Series("Placet propose+approve+wait", "FULL", run_placet),
        "langgraph@FULL": Series("LangGraph interrupt+resume (SqliteSaver)", "FULL", run_langgraph),
        "placet@NORMAL": Series("Placet propose+approve+wait", "NORMAL", run_placet),
        "holdpoint@NORMAL": Series("holdpoint 0.2.0 guard+approve", "NORMAL", run_holdpoint),
        "langgraph@NORMAL": Series(
            "LangGraph interrupt+resume (SqliteSaver)", "NORMAL", run_langgraph
        ),
        "integration@FULL": Series(
            "LangGraph + Placet (PlacetInterrupts)", "FULL", run_integration
        ),
    }
    if tree is not None:
        for level in ("FULL", "NORMAL"):
            for key, source in (("tree", baseline.WORKING_TREE), ("ref", tree)):
                series[f"{key}@{level}"] = Series(
                    baseline.row_name(source),
                    level,
                    baseline.in_child(__file__, source, "placet"),
                    tree=source.label,
                )
    with scratch_dir("placet-bench-sdk-") as base:
        for rep in range(reps):
            order = list(series.values())
            if rep % 2:
                order.reverse()  # no contender always runs first (or last) in a round
            for entry in order:
                folder = base / f"{len(entry.rates)}-{entry.level}-{id(entry)}"
                folder.mkdir()
                entry.rates.append(entry.run(folder, items, entry.level))
    return series


def same_round_ratios(top: Series, bottom: Series) -> list[float]:
    """top/bottom for each repetition, both measured in the same round."""
    return [a / b for a, b in zip(top.rates, bottom.rates, strict=True)]


def ratio_row(
    name: str, level: str, top: Series, bottom: Series, target: float | None
) -> list[Any]:
    """A ratio table row: the median of same-round ratios, their range, the verdict."""
    ratios = same_round_ratios(top, bottom)
    value = median(ratios)
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    if target is None:
        return [name, level, value, spread, "(info)", ""]
    return [name, level, value, spread, f"> {target:.1f}x", verdict(value > target)]


def report(series: dict[str, Series], items: int, reps: int, langgraph_sync: str) -> bool:
    """Print the tables; True when Placet is ahead of both LangGraph and holdpoint."""
    rows = [
        [s.name, s.level, median(s.rates), min(s.rates), max(s.rates), 1000 / median(s.rates)]
        for s in series.values()
    ]
    print_table(
        f"Approval cycle from code, {items} items x {reps} repetitions (medians)",
        ["contender", "synchronous", "items/s", "min", "max", "ms/item"],
        rows,
    )
    print(f"\nLangGraph's SqliteSaver, left alone, runs synchronous={langgraph_sync}.")
    s = series
    ratios = [
        ratio_row("Placet / LangGraph", "FULL (both)", s["placet@FULL"], s["langgraph@FULL"], 1.0),
        ratio_row(
            "Placet / holdpoint", "NORMAL (both)", s["placet@NORMAL"], s["holdpoint@NORMAL"], 1.0
        ),
        ratio_row(
            "Placet / LangGraph", "NORMAL (both)", s["placet@NORMAL"], s["langgraph@NORMAL"], None
        ),
        ratio_row(
            "Placet FULL / holdpoint NORMAL", "mixed", s["placet@FULL"], s["holdpoint@NORMAL"], None
        ),
        ratio_row(
            "LangGraph + Placet / LangGraph",
            "FULL",
            s["integration@FULL"],
            s["langgraph@FULL"],
            None,
        ),
    ]
    for level in ("FULL", "NORMAL"):
        if f"ref@{level}" in s:
            old = s[f"ref@{level}"]
            ratios.append(
                ratio_row(baseline.ratio_name(old.tree), level, s[f"tree@{level}"], old, None)
            )
    print_table(
        "Approval cycle ratios (median and range of same-round ratios)",
        ["ratio", "synchronous", "median", "range", "target", "verdict"],
        ratios,
    )
    return all(row[-1] == verdict(True) for row in ratios[:2])


def run(items: int, reps: int, baseline_ref: str | None = None) -> bool:
    """Measure and print the tables (for bench/run_all.py); True when the targets are met."""
    with scratch_dir("placet-bench-sdk-probe-") as probe:
        langgraph_sync = langgraph_default_synchronous(probe)
    return report(benchmark(items, reps, baseline_ref), items, reps, langgraph_sync)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--items", type=int, help="items per repetition")
    parser.add_argument("--reps", type=int, help="repetitions")
    parser.add_argument(
        "--baseline-ref",
        metavar="REF",
        help="also run the whole Placet package of this git revision, beside the working tree",
    )
    baseline.add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return baseline.child_main(CHILD_RUNS, args)
    require_extras("bench/sdk_cycle.py", *NEEDS)
    items = args.items or (150 if args.quick else 1000)
    reps = args.reps or (3 if args.quick else 5)
    print(f"# sdk cycle  ({machine_info()})")
    run(items, reps, args.baseline_ref)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
