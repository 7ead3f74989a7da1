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

from placet.domain import audit, pipelines
from placet.domain.audit import ChainProblem
from placet.domain.auditlog import Checkpoint, covering
from placet.domain.deliveries import DeliveryRecord
from placet.domain.examples import entry_problems
from placet.domain.models import TaskDetail
from placet.domain.proof import delivery_problems, record_problems
from placet.engine.auditlog import LogCheck
from placet.engine.reading import Reads
from placet.engine.supervising import redacted

Tick = Callable[[], None]  # called once per task done: progress for the caller to show


def _noop() -> None:
    return None


@dataclass
class AuditReport:
    """What ``placet audit verify`` found."""

    tasks: int = 0
    events: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    unchecked: int = 0  # hashes made under an audit key this check was not given
    log: LogCheck | None = None  # the global log, when every task was verified

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
    store: Reads,
    task_ids: list[str] | None = None,
    tick: Tick = _noop,
    against: Checkpoint | None = None,
) -> AuditReport:
    """Check the global log (when checking every task), then each task's chain and rows."""
    report = AuditReport()
    keyed = store.audit_log.keyed() if task_ids is not None else False
    if task_ids is None or against is not None:
        report.log = store.audit_log.check(against)
        report.problems += report.log.problems
        report.unchecked += report.log.unchecked
        keyed = report.log.keyed
    if task_ids is None:
        report.problems += _delivery_problems(store)
        report.problems += [
            ChainProblem("examples", None, s) for s in store.examples_index_problems()
        ]
    for task_id in _task_ids(store, task_ids):
        detail = store.detail(task_id)
        report.tasks += 1
        report.events += len(detail.events)
        problems, unchecked = verify_task(detail, store, keyed)
        report.problems += problems
        report.unchecked += unchecked
        tick()
    return report


def _delivery_problems(store: Reads) -> list[ChainProblem]:
    """Finished handler deliveries that their tasks' events do not bear out."""
    by_task: dict[str, list[DeliveryRecord]] = {}
    for record in store.deliveries().finished():
        by_task.setdefault(record.task_id, []).append(record)
    problems: list[ChainProblem] = []
    for task_id, records in by_task.items():
        problems += delivery_problems(store.task_events(task_id), records)
    return problems


def verify_task(
    detail: TaskDetail, store: Reads, keys_in_use: bool = False
) -> tuple[list[ChainProblem], int]:
    """Every problem with one task's chain and the rows it pins; and its unchecked hashes."""
    task, chain = detail.task, store.audit_chain
    check = audit.verify_chain(task.id, detail.events, task.head_hash, task.event_count, chain)
    entries = store.audit_log.task_entries(task.id) if check.plain and chain.keyed else {}

    def made_before_the_key(seq: int) -> bool:
        entry = covering(entries, seq)
        return entry is not None and (entry.legacy or entry.key_id is None)

    problems, unchecked = check.judge(chain.keyed, keys_in_use, made_before_the_key)
    example = entry_problems(task, detail.events, store.example_entry(task.id))
    return problems + record_problems(detail) + example + _link_problems(detail, store), unchecked


def _link_problems(detail: TaskDetail, store: Reads) -> list[ChainProblem]:
    """A pipeline step's link to the approval that made it (domain/pipelines.py)."""
    link = pipelines.parent_link(detail.events[0].payload) if detail.events else None
    if link is None:
        return []
    problem = pipelines.link_problem(link, store.task_events(link[0]))
    return [] if problem is None else [ChainProblem(detail.task.id, 1, problem)]


def iter_event_lines(
    store: Reads, task_ids: list[str] | None = None, tick: Tick = _noop, redact: bool = False
) -> Iterator[str]:
    """Every event (or the named tasks') as one JSON line, task by task, in chain order."""
    if task_ids is not None:
        for task_id in task_ids:
            store.get(task_id)  # an unknown id is an error, not an empty export
    for task_id in _task_ids(store, task_ids):
        for event in store.task_events(task_id):
            record = asdict(event)
            if redact:  # the payload's text as well: it is what the event's hash covers
                record["payload"] = redacted(record["payload"])
                record["payload_json"] = audit.canonical_json(record["payload"])
            yield json.dumps(record, ensure_ascii=False, sort_keys=True)
        tick()


def export_jsonl(
    store: Reads,
    out: IO[str],
    task_ids: list[str] | None = None,
    tick: Tick = _noop,
    redact: bool = False,
) -> int:
    """Write the trail as JSON Lines; return how many events were written.

    With ``redact``, every span the supervisor's scanners find in the events' texts
    (personal data, secrets, internal links) is masked.
    """
    count = 0
    for line in iter_event_lines(store, task_ids, tick, redact):
        out.write(line + "\n")
        count += 1
    return count
