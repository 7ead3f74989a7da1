"""What a program that waits on a person says while it waits: once, on stderr.

A guarded call or ``task.wait()`` can block for hours; printing nothing, the
program looks hung, and whoever runs it does not know a decision is wanted or
where to make it. So the waiting client says, once per draft, what it waits
for and how to decide, as ``placet run`` does. ``quiet`` (``connect(quiet=True)``
or ``PLACET_QUIET=1``) keeps it silent; what the review folder reports goes to
the ``placet.sdk`` logger then, its warnings included.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from placet.domain.models import Task

QUIET_ENV = "PLACET_QUIET"
_YES = {"1", "true", "yes", "on"}
_log = logging.getLogger("placet.sdk")


def quiet_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``PLACET_QUIET`` asks the SDK to print nothing while it waits."""
    return environ.get(QUIET_ENV, "").strip().lower() in _YES


class Announcer:
    """Tells the person running a program what it waits for, each thing once."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._said: set[tuple[str, str]] = set()  # (task id, what was said of it)

    def drafting(self, task: Task) -> None:
        """This process starts drafting the task (a local model may take a while)."""
        what = f"draft {task.attempt} of {task.max_attempts}"
        self._once(task, what, f"drafting task {task.id} ({task.kind}), {what} …")

    def revision(self, task: Task) -> None:
        """A person asked for a revision: a new draft comes next."""
        self._once(task, f"revision {task.version}", f"task {task.id}: a revision was asked for")

    def waiting(self, task: Task, pending_file: Path | None) -> None:
        """The task waits for a person: say where and how to decide it."""
        lines = [
            f"task {task.id} ({task.kind}) is waiting for a person's decision on draft "
            f"{task.attempt}; this program waits for it.",
            f"  decide with: placet review | placet approve {task.id} | placet reject {task.id} "
            '--reason "…" | the dashboard (placet serve)',
        ]
        if pending_file is not None:
            lines.append(f"  or move {pending_file} to approved/ or rejected/")
        self._once(task, f"review {task.current_draft_id}", *lines)

    def folder_message(self, message: str) -> None:
        """What the review folder reports: its warnings are shown, the rest logged."""
        if message.startswith("warning:") and not self.quiet:
            self._print(message)
        else:
            _log.log(logging.WARNING if message.startswith("warning:") else logging.INFO, message)

    def _once(self, task: Task, what: str, *lines: str) -> None:
        key = (task.id, what)
        if key in self._said:
            return
        self._said.add(key)
        if self.quiet:
            _log.info(" ".join(line.strip() for line in lines))
            return
        self._print(*lines)

    @staticmethod
    def _print(first: str, *more: str) -> None:
        # sys.stderr is looked up on each call: a caller (or a test) may have replaced it.
        print(f"placet: {first}", *more, sep="\n", file=sys.stderr, flush=True)
