"""The drafts one worker is writing at once: their tasks, and the slots left per model."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from placet.domain.models import Task

SlotsFor = Callable[[str], int]  # a model's name -> how many of its drafts at once


class InFlight:
    """The tasks a worker drafts now, each with its model; safe to share between threads.

    A worker claims only while there is room (``total`` in all) and passes over the
    models whose own slots are all taken (``slots_for``).
    """

    def __init__(self, total: int, slots_for: SlotsFor) -> None:
        self.total = total
        self._slots_for = slots_for
        self._tasks: dict[str, tuple[Task, str]] = {}
        self._changed = threading.Condition()

    def __len__(self) -> int:
        with self._changed:
            return len(self._tasks)

    def add(self, task: Task, model: str) -> None:
        """A draft of ``task`` with ``model`` begins."""
        with self._changed:
            self._tasks[task.id] = (task, model)

    def remove(self, task_id: str) -> None:
        """The draft of a task ended (saved, failed or handed back)."""
        with self._changed:
            self._tasks.pop(task_id, None)
            self._changed.notify_all()

    def ids(self) -> frozenset[str]:
        """The ids of the tasks being drafted."""
        with self._changed:
            return frozenset(self._tasks)

    def tasks(self) -> list[Task]:
        """The tasks being drafted, as they were claimed."""
        with self._changed:
            return [task for task, _model in self._tasks.values()]

    def full_models(self) -> frozenset[str]:
        """The models whose slots are all taken."""
        with self._changed:
            counts: dict[str, int] = {}
            for _task, model in self._tasks.values():
                counts[model] = counts.get(model, 0) + 1
        return frozenset(model for model, n in counts.items() if n >= self._slots_for(model))

    def wait_for_room(self, below: int, timeout: float) -> bool:
        """Wait until fewer than ``below`` drafts are in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._tasks) >= below:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def wait_until_empty(self, timeout: float) -> bool:
        """Wait until no draft is in flight; False on timeout."""
        return self.wait_for_room(1, timeout)
