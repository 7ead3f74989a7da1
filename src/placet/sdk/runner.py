"""Driving one task to its end: draft in-process, wait for people, draft again.

``placet run`` and ``placet wait`` use this loop; it is the seed script's
"draft, save, wait for a human" done properly, on top of the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from placet.domain.models import Task, TaskStatus
from placet.engine import ChunkSink, Engine
from placet.errors import PausedError, PlacetError

TaskHook = Callable[[Task], None]
# How often a paused run looks again; a pause is read through a half-second cache.
PAUSE_LOOK_SECONDS = 0.25


def _ignore(_: object) -> None:
    return None


@dataclass(frozen=True)
class RunHooks:
    """What the caller is told while a task moves."""

    on_drafting: TaskHook = _ignore  # this process starts drafting the task
    on_chunk: ChunkSink = _ignore  # a piece of the draft being generated
    on_review: TaskHook = _ignore  # a draft is waiting for a person
    on_revision: TaskHook = _ignore  # a person asked for a revision
    on_paused: Callable[[str], None] = _ignore  # drafting waits for placet resume (why)


class WaitTimeout(PlacetError, TimeoutError):
    """The task did not end before the timeout; it is kept as it is."""

    def __init__(self, task: Task) -> None:
        super().__init__(f"task {task.id} is still {task.status.value}")
        self.task = task


def drive(
    engine: Engine,
    task_id: str,
    worker: str,
    hooks: RunHooks = RunHooks(),
    timeout: float | None = None,
) -> Task:
    """Draft (when no one else is) and wait, until the task is final or failed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    task = engine.get(task_id)
    announced: tuple[str | None, int] | None = None
    while not (task.status.is_final or task.status is TaskStatus.FAILED):
        marker = (task.current_draft_id, task.version)
        if announced != marker:
            _announce(task, hooks)
            announced = marker
        claimed = _take(engine, task, worker)
        if claimed is not None:
            hooks.on_drafting(claimed)
            try:
                task = engine.draft(claimed, worker, hooks.on_chunk)
            except PausedError as exc:  # handed back undrafted: draft it after the resume
                hooks.on_paused(exc.message)
                task = _wait_out_pause(engine, claimed, deadline)
            continue
        task = _wait_for_move(engine, task, deadline)
    return task


def _wait_out_pause(engine: Engine, task: Task, deadline: float | None) -> Task:
    """Wait until drafting this kind may go on (placet resume), or the timeout."""
    while engine.controls.paused(task.kind) is not None:
        if deadline is not None and time.monotonic() >= deadline:
            raise WaitTimeout(engine.get(task.id))
        time.sleep(PAUSE_LOOK_SECONDS)
    return engine.get(task.id)


def _take(engine: Engine, task: Task, worker: str) -> Task | None:
    """The task claimed for this worker, if it holds the lease or can get it."""
    if task.status is TaskStatus.DRAFTING and task.lease_owner == worker:
        return task  # claimed when it was submitted
    if engine.is_claimable(task):
        return engine.claim(worker, task.id)
    return None


def _announce(task: Task, hooks: RunHooks) -> None:
    if task.status is TaskStatus.AWAITING_REVIEW:
        hooks.on_review(task)
    elif task.status is TaskStatus.QUEUED and task.pending_feedback is not None:
        hooks.on_revision(task)


def _wait_for_move(engine: Engine, task: Task, deadline: float | None) -> Task:
    seen = task.version
    remaining = None if deadline is None else deadline - time.monotonic()
    if remaining is not None and remaining <= 0:
        raise WaitTimeout(task)

    def moved(current: Task) -> bool:
        # A lease that runs out while we wait means its worker died: take over.
        return current.version != seen or engine.is_claimable(current)

    return engine.wait(task.id, moved, remaining)
