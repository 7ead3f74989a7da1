"""Verifying and exporting the audit trail.

A chain proves the events were not altered, removed or reordered. The events
also pin each draft's and each edit's text by digest, so an altered draft or
decision row is caught too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO

from placet.domain import audit
from placet.domain.audit import ChainProblem
from placet.domain.models import TaskDetail
from placet.domain.proof import record_problems
from placet.engine.reading import Reads

Tick = Callable[[], None]  # called once per task done: progress for the caller to show


def _noop() -> None:
    return None


@dataclass
class AuditReport:
    """What ``placet audit verify`` found."""

    tasks: int = 0
    events: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every chain verified."""
        return not self.problems


def task_count(store: Reads, task_ids: list[str] | None = None) -> int:
    """How many tasks a verify or an export over ``task_ids`` (None: all) goes through."""
    return len(task_ids) if task_ids is not None else sum(store.count_by_status().values())


def _task_ids(store: Reads, task_ids: list[str] | None) -> Iterable[str]:
    return task_ids if task_ids is not None else (task.id for task in store.iter_tasks())


def verify_store(
    store: Reads, task_ids: list[str] | None = None, tick: Tick = _noop
) -> AuditReport:
    """Check every task's chain (or the named tasks') and the records it pins."""
    report = AuditReport()
    for task_id in _task_ids(store, task_ids):
        detail = store.detail(task_id)
        report.tasks += 1
        report.events += len(detail.events)
        report.problems.extend(verify_task(detail))
        tick()
    return report


def verify_task(detail: TaskDetail) -> list[ChainProblem]:
    """Every problem with one task's chain and the drafts and decisions it pins."""
    task = detail.task
    problems = audit.verify_chain(task.id, detail.events, task.head_hash, task.event_count)
    return problems + record_problems(detail)


def iter_event_lines(
    store: Reads, task_ids: list[str] | None = None, tick: Tick = _noop
) -> Iterator[str]:
    """Every event (or the named tasks') as one JSON line, task by task, in chain order."""
    if task_ids is not None:
        for task_id in task_ids:
            store.get(task_id)  # an unknown id is an error, not an empty export
    for task_id in _task_ids(store, task_ids):
        for event in store.task_events(task_id):
            yield json.dumps(asdict(event), ensure_ascii=False, sort_keys=True)
        tick()


def export_jsonl(
    store: Reads, out: IO[str], task_ids: list[str] | None = None, tick: Tick = _noop
) -> int:
    """Write the trail as JSON Lines; return how many events were written."""
    count = 0
    for line in iter_event_lines(store, task_ids, tick):
        out.write(line + "\n")
        count += 1
    return count
