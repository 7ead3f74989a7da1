"""Deliveries that failed for good: listing them, and giving them another go.

A handler gives up after its ``max_attempts``; the delivery then waits as
``failed`` until someone fixes the cause and retries it (``placet handlers
retry TASK``). A retry is a person's action, so it is recorded on the task's
audit trail with who did it; the earlier failures stay there too.
"""

from __future__ import annotations

import time

from placet.domain.deliveries import DeliveryRecord, DeliveryStatus
from placet.domain.models import TaskDetail
from placet.engine import Engine
from placet.errors import StoreError
from placet.handlers.runner import record_event


def task_deliveries(engine: Engine, task_id: str) -> list[DeliveryRecord]:
    """How each outcome handler fared with a task's decisions, oldest first."""
    return engine.deliveries().for_task(task_id)


def handlers_to_run(engine: Engine, detail: TaskDetail, deliveries: list[DeliveryRecord]) -> bool:
    """True while an outcome handler has yet to run on the task's final decision.

    Also before a worker's sweep has made the delivery: a handler registered for
    the task's kind and outcome that has not swept that far will make it (its
    mark trails the newest decisions by a few seconds, so a made row counts).
    """
    if any(record.status is DeliveryStatus.PENDING for record in deliveries):
        return True
    task = detail.task
    if not task.status.is_final or not detail.decisions:
        return False
    decision_id = detail.decisions[-1].id
    made = {record.handler for record in deliveries if record.decision_id == decision_id}
    to_sweep = engine.deliveries().to_sweep(task.kind, task.status, decision_id)
    return any(name not in made for name in to_sweep)


def failed_deliveries(engine: Engine, limit: int = 50) -> list[DeliveryRecord]:
    """The deliveries whose handler gave up, most recent first."""
    return engine.deliveries().failed(limit)


def nothing_to_retry(task_id: str, handler: str | None = None) -> str:
    """What to say when a retry finds no failed delivery (never failed, or retried already)."""
    which = f"of handler {handler} " if handler else ""
    return f"no failed delivery {which}on task {task_id}; nothing was changed"


def retry_failed(
    engine: Engine, task_id: str, actor: str, handler: str | None = None
) -> list[DeliveryRecord]:
    """Make the task's failed deliveries (or the named handler's) due again; those retried."""
    engine.get(task_id)  # an unknown task is refused by name, not met with silence
    deliveries = engine.deliveries()
    chosen = [
        record
        for record in task_deliveries(engine, task_id)
        if record.status is DeliveryStatus.FAILED and handler in (None, record.handler)
    ]
    retried = []
    for record in chosen:
        if not deliveries.retry(record, time.time()):
            continue  # someone else retried it first
        payload = {
            "handler": record.handler,
            "decision": record.decision_id,
            "attempts_before": record.attempts,
            "last_error": record.last_error,
        }
        problem = record_event(engine, task_id, actor, "handler_retried", payload)
        if problem is not None:
            raise StoreError(problem)
        retried.append(record)
    return retried
