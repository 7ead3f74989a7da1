"""Placet as it was at a git revision, measured beside the working tree in the same run.

``tree_at(REF)`` extracts REF's ``src/`` (``git archive REF src``) into a
temporary folder. A benchmark then runs its Placet contender in child
processes, one per repetition: the *current* bench script, re-invoked with
``--child NAME``, with Placet imported from REF's tree or from this
checkout's ``src/`` (``PYTHONPATH`` and ``common.SRC_ENV``). The working tree
runs as a child too, so both pay the same start-up and neither inherits the
parent's warm caches. Each child times one repetition and prints its items/s
as one line of JSON; the parent interleaves the children with its other
contenders and reports the median of same-round ratios, as for any contender.

The child runs the current item loop, so that loop must work with the Placet
of either revision: decisions go through ``common.approval_request``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, SRC_ENV, scratch_dir

Run = Callable[[Path, int, str], float]  # folder, items, sync level -> items/s
CHILD_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Tree:
    """A Placet source tree: what a row calls it and its ``src/`` folder."""

    label: str
    src: Path


WORKING_TREE = Tree("working tree", ROOT / "src")


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def tree_at(ref: str) -> Iterator[Tree]:
    """REF's ``src/`` tree in a temporary folder, removed afterwards."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    label = ref if commit.startswith(ref) else f"{ref} ({commit[:9]})"
    with scratch_dir("placet-bench-ref-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        if not (folder / "src" / "placet" / "__init__.py").is_file():
            raise SystemExit(f"{ref} has no src/placet/__init__.py")
        yield Tree(label, folder / "src")


def row_name(tree: Tree) -> str:
    """What a table calls Placet from ``tree``, run in child processes."""
    joint = ", " if tree is WORKING_TREE else " at "
    return f"Placet{joint}{tree.label} (child process)"


def ratio_name(label: str) -> str:
    """What a table calls the working tree's rate over that of the tree ``label``."""
    return f"Placet {WORKING_TREE.label} / Placet at {label}"


def in_child(script: str | Path, tree: Tree, contender: str) -> Run:
    """A contender's run that happens in a child process, with Placet from ``tree``."""

    def run(folder: Path, items: int, level: str) -> float:
        return run_child(Path(script), tree, contender, folder, items, level)

    return run


def run_child(
    script: Path, tree: Tree, contender: str, folder: Path, items: int, level: str
) -> float:
    """Items per second of one repetition of ``contender``, timed by a child process."""
    paths = [str(tree.src), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), SRC_ENV: str(tree.src)}
    command = [sys.executable, str(script), "--child", contender]
    command += ["--items", str(items), "--level", level, "--folder", str(folder)]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(
            f"{script.name} --child {contender} with Placet from {tree.label} failed "
            f"(exit {done.returncode}):\n{done.stderr.strip()[-4000:]}"
        )
    result = json.loads(lines[-1])
    placet = Path(result["placet"]).resolve()
    if not placet.is_relative_to(tree.src.resolve()):
        raise RuntimeError(f"the child imported Placet from {placet}, not from {tree.src}")
    return float(result["items_per_second"])


def add_child_arguments(parser: argparse.ArgumentParser) -> None:
    """The hidden options a bench script takes when ``run_child`` re-invokes it."""
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--level", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)


def child_main(runs: dict[str, Run], args: argparse.Namespace) -> int:
    """In the child: one repetition of the named contender; items/s as JSON on stdout."""
    import placet

    rate = runs[args.child](args.folder, args.items, args.level)
    print(json.dumps({"items_per_second": rate, "placet": placet.__file__}))
    return 0
