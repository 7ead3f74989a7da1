"""Taking an item on the dashboard: the queue's Open button takes it, the task page lets go.

A reviewer who opens a waiting task they may decide takes it (domain/holds.py):
others then see who is reviewing it and their queues skip it until the hold
lapses, its holder lets go or decides. Someone else's hold does not stop
anyone from opening the page (or deciding, with a warning); an admin may hand
the item to another reviewer.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from placet.errors import ConflictError, PermissionDeniedError, UsageError
from placet.web.pages.common import FormText, PageError, ViewerDep, check_csrf
from placet.web.pages.task import visible_detail

router = APIRouter()


@router.post("/tasks/{task_id}/take")
def take(request: Request, task_id: str, viewer: ViewerDep, csrf_token: FormText = "") -> Response:
    """Open a task to review it, taking it; someone else's hold just opens the page."""
    check_csrf(request, viewer, csrf_token)
    task = visible_detail(request, viewer, task_id).task
    engine = viewer.services.engine
    if engine.may_decide(viewer.principal, task).allowed:
        # Taken by someone else, or no longer waiting: the page says so.
        with contextlib.suppress(ConflictError):
            engine.take(task.id, viewer.principal)
    return RedirectResponse(f"/tasks/{task.id}", 303)


@router.post("/tasks/{task_id}/release")
def release(
    request: Request, task_id: str, viewer: ViewerDep, csrf_token: FormText = ""
) -> Response:
    """Let go of a task: it is back in everyone's queue."""
    check_csrf(request, viewer, csrf_token)
    task = visible_detail(request, viewer, task_id).task
    try:
        viewer.services.engine.let_go(task.id, viewer.principal)
    except UsageError as exc:
        raise PageError(_status(exc), "Not let go", exc.message) from exc
    return RedirectResponse("/?" + urlencode({"done": "released", "task": task.id}), 303)


@router.post("/tasks/{task_id}/hand-over")
def hand_over(
    request: Request, task_id: str, viewer: ViewerDep, csrf_token: FormText = "", to: FormText = ""
) -> Response:
    """An admin hands a waiting task to another reviewer."""
    check_csrf(request, viewer, csrf_token)
    task = visible_detail(request, viewer, task_id).task
    try:
        viewer.services.engine.hand_over(task.id, viewer.principal, to.strip())
    except UsageError as exc:
        raise PageError(_status(exc), "Not handed over", exc.message) from exc
    done = urlencode({"done": "handed-over", "task": task.id})
    return RedirectResponse(f"/tasks/{task.id}?{done}", 303)


def _status(exc: UsageError) -> int:
    if isinstance(exc, ConflictError):
        return 409
    return 403 if isinstance(exc, PermissionDeniedError) else 422
