"""The REST API for outcome handlers: how they fared with a task, and retrying failures.

A handler (``@client.on_approved``) runs in the developer's ``placet worker
--app``, not in this server; these routes only show and reset its deliveries,
so a person can see that an approved email was not sent after all, and let it
run again once the cause is fixed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from placet.domain.policy import Permission
from placet.errors import ConflictError
from placet.handlers.admin import (
    failed_deliveries,
    nothing_to_retry,
    retry_failed,
    task_deliveries,
)
from placet.web.api.common import Caller, Svc, TaskId, errors, visible_task
from placet.web.api.schemas import DeliveryOut, FailedDeliveryOut, RetryIn

router = APIRouter()


@router.get(
    "/tasks/{task_id}/deliveries",
    response_model=list[DeliveryOut],
    tags=["handlers"],
    summary="How each outcome handler fared with the task's decisions",
    responses=errors(401, 403, 404, 422, 503),
)
def deliveries(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> Any:
    """One entry per handler and final decision, oldest first; empty when no handler is set."""
    task = visible_task(request, svc, who, task_id)
    return [DeliveryOut.of(record) for record in task_deliveries(svc.engine, task.id)]


@router.post(
    "/tasks/{task_id}/deliveries/retry",
    response_model=list[DeliveryOut],
    tags=["handlers"],
    summary="Give the task's failed deliveries a fresh set of attempts (admins)",
    responses=errors(400, 401, 403, 404, 409, 413, 422, 503),
)
def retry(
    task_id: TaskId, request: Request, svc: Svc, who: Caller, body: RetryIn | None = None
) -> Any:
    """The deliveries made due again (recorded on the task); 409 when none had failed."""
    task = visible_task(request, svc, who, task_id)  # first: a hidden task is missing (404)
    svc.gate.check(request, who, Permission.RETRY_HANDLERS, task)
    handler = body.handler if body else None
    retried = retry_failed(svc.engine, task.id, who.name, handler)
    if not retried:
        raise ConflictError(nothing_to_retry(task.id, handler))
    keys = {(record.handler, record.decision_id) for record in retried}
    now = task_deliveries(svc.engine, task.id)  # as they stand after the retry
    return [DeliveryOut.of(r) for r in now if (r.handler, r.decision_id) in keys]


@router.get(
    "/deliveries/failed",
    response_model=list[FailedDeliveryOut],
    tags=["handlers"],
    summary="Deliveries whose handler gave up, on every task, most recent first",
    responses=errors(401, 403, 422, 503),
)
def failed(
    request: Request,
    svc: Svc,
    who: Caller,
    limit: Annotated[int, Query(ge=1, le=500, description="How many at most.")] = 50,
) -> Any:
    """What ``placet handlers failed`` lists: retry each with its task's retry route."""
    svc.gate.check(request, who, Permission.VIEW_QUEUE)
    return [FailedDeliveryOut.of_failed(r) for r in failed_deliveries(svc.engine, limit)]
