"""The approval cycle's cost in CPU instructions: the working tree beside git revisions.

A timed benchmark on a shared two-core machine moves by 10-20% from run to run;
an instruction count does not. Each tree runs the same loop as ``sdk_cycle.py``'s
Placet contender (``engine.propose`` of a caller-made draft, ``engine.decide``
approving it, ``client.wait`` returning the outcome) at ``synchronous = NORMAL``,
under ``valgrind --tool=callgrind``, which counts the instructions the process
executes (Python, SQLite, libc: everything but the kernel's own time, so fsync
costs nothing here; at FULL the disk hides most of this). Each tree runs twice,
with ``--low`` and ``--high`` cycles, and the difference divided by the cycles
between is the cost of one cycle, start-up and imports cancelled out.

    .venv/bin/python bench/cycle_instructions.py --baseline-ref REF [--baseline-ref REF2 ...]
        [--low 100] [--high 400]

The table gives instructions per cycle for each tree and the ratio of each
baseline's count to the working tree's (so that, as for the timed benches,
1.00 is "as fast" and 0.90 is "10% more work per cycle"). The count does not
depend on the machine's load, but it is not exact: the same revision counted
twice in one run differed by up to 2% (threads that poll on a clock, such as the
waiting client's review-folder upkeep, do more or less work as the slowed process
runs), so read differences under 3% as noise. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import baseline
from common import machine_info, print_table, scratch_dir

HERE = Path(__file__).resolve().parent
WARMUP = 20  # cycles before counting starts to matter: the kind's first draft, caches
TIMEOUT = 3600.0
COLLECTED = re.compile(r"Collected : (\d+)")


def child(cycles: int, folder: Path) -> None:
    """In the counted process: ``cycles`` (plus warm-up) propose+approve+wait cycles."""
    sys.path.insert(0, str(HERE))
    os.environ["PLACET_SQLITE_SYNCHRONOUS"] = "NORMAL"
    from common import approval_request
    from sdk_cycle import KIND, placet_client

    client = placet_client(folder)
    engine = client.engine
    try:
        for index in range(WARMUP + cycles):
            to = f"u{index}@example.com"
            task = engine.propose(KIND, {"to": to}, "agent", f"Send the welcome email to {to}")
            engine.decide(approval_request(task.id))
            assert client.wait(task.id, timeout=10).approved
    finally:
        client.close()


def instructions(src: Path, cycles: int) -> int:
    """The instructions of one whole child process with Placet from ``src``."""
    with scratch_dir("placet-bench-cg-") as folder:
        env = {
            **os.environ,
            "PYTHONPATH": str(src),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",  # the same dict layouts in every run
        }
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={folder / 'callgrind.out'}",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            str(cycles),
            "--folder",
            str(folder / "db"),
        ]
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        found = COLLECTED.search(done.stderr)
        if done.returncode or found is None:
            raise SystemExit(
                f"the counted child with Placet from {src} failed (exit {done.returncode}):\n"
                f"{done.stderr.strip()[-3000:]}"
            )
        return int(found.group(1))


def per_cycle(src: Path, low: int, high: int) -> float:
    """Instructions of one cycle: the difference of two runs over the cycles between."""
    return (instructions(src, high) - instructions(src, low)) / (high - low)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-ref", action="append", default=[], metavar="REF")
    parser.add_argument("--low", type=int, default=100, help="cycles of the shorter run")
    parser.add_argument("--high", type=int, default=400, help="cycles of the longer run")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.folder)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    if not 0 < args.low < args.high:
        raise SystemExit("--low must be at least 1 and below --high")
    print(machine_info())
    print(f"instructions per propose+approve+wait cycle at NORMAL, {args.low} and {args.high}")
    rows: list[list[object]] = []
    working = per_cycle(baseline.WORKING_TREE.src, args.low, args.high)
    rows.append(["working tree", f"{working:,.0f}", "1.00"])
    for ref in args.baseline_ref:
        with baseline.tree_at(ref) as tree:
            counted = per_cycle(tree.src, args.low, args.high)
        rows.append([tree.label, f"{counted:,.0f}", f"{counted / working:.3f}"])
    print_table(
        "The cycle's CPU work (callgrind)", ["Placet at", "instructions a cycle", "ratio"], rows
    )
    print("ratio: the revision's instructions over the working tree's (below 1: more work now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
