"""The REST API for notifications: what a task's channels were told, those that gave up,
and sending one again (the same id)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from placet.channels.notices import (
    failed_notifications,
    retry_notification,
    task_notifications,
)
from placet.domain.notifications import notice_id
from placet.domain.policy import Permission
from placet.errors import NotFoundError
from placet.web.api.common import Caller, Svc, TaskId, errors, visible_task
from placet.web.api.schemas import NotificationOut

router = APIRouter()
NotificationId = Annotated[
    str, Path(min_length=1, max_length=64, description="The notification's id (or msg_ id).")
]


@router.get(
    "/tasks/{task_id}/notifications",
    response_model=list[NotificationOut],
    tags=["notifications"],
    summary="What the task's channels were told, and whether it got there",
    responses=errors(401, 403, 404, 422, 503),
)
def notifications(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> Any:
    """One entry per notification of the task, oldest first; empty with no channel."""
    task = visible_task(request, svc, who, task_id)
    return [NotificationOut.of(record) for record in task_notifications(svc.engine, task.id)]


@router.get(
    "/notifications/failed",
    response_model=list[NotificationOut],
    tags=["notifications"],
    summary="Notifications that gave up, on every task, most recent first",
    responses=errors(401, 403, 422, 503),
)
def failed(
    request: Request,
    svc: Svc,
    who: Caller,
    limit: Annotated[int, Query(ge=1, le=500, description="How many at most.")] = 50,
) -> Any:
    """What ``placet channels failed`` lists."""
    svc.gate.check(request, who, Permission.VIEW_QUEUE)
    return [NotificationOut.of(r) for r in failed_notifications(svc.engine, limit)]


@router.post(
    "/notifications/{notification_id}/retry",
    response_model=NotificationOut,
    tags=["notifications"],
    summary="Send a notification that gave up again, with the same id (admins)",
    responses=errors(401, 403, 404, 409, 422, 503),
)
def retry(notification_id: NotificationId, request: Request, svc: Svc, who: Caller) -> Any:
    """The notification, due again; 409 when it had not given up."""
    found = svc.engine.notifications().get(notice_id(notification_id))
    if found is None:
        raise NotFoundError(f"no notification with id {notification_id!r}")
    task = visible_task(request, svc, who, found.task_id)  # a hidden task's is missing (404)
    svc.gate.check(request, who, Permission.RETRY_HANDLERS, task)
    retry_notification(svc.engine, found.id, who.name)
    now = svc.engine.notifications().get(found.id)
    assert now is not None
    return NotificationOut.of(now)
