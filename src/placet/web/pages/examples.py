"""Marking an approved task "not an example" on the dashboard, and undoing it.

The task page (pages/task.py, ``_examples_context``) names the approved tasks
a draft's prompt showed as examples, and says of an approved task whether it
is an example for later drafts of its kind or who marked it not; its reviewers
and admins get a button here to mark it, or to undo the mark (engine/examples.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from placet.errors import InvalidInputError, PermissionDeniedError
from placet.web.pages.common import FormText, PageError, Viewer, ViewerDep, check_csrf
from placet.web.pages.task import visible_detail

router = APIRouter()


@router.post("/tasks/{task_id}/example/not")
def not_an_example(
    request: Request, task_id: str, viewer: ViewerDep, csrf_token: FormText = ""
) -> Response:
    """Mark an approved task "not an example" for later drafts of its kind."""
    return _mark(request, task_id, viewer, csrf_token, example=False)


@router.post("/tasks/{task_id}/example/again")
def an_example_again(
    request: Request, task_id: str, viewer: ViewerDep, csrf_token: FormText = ""
) -> Response:
    """Undo the mark: the approved task may be an example again."""
    return _mark(request, task_id, viewer, csrf_token, example=True)


def _mark(request: Request, task_id: str, viewer: Viewer, csrf: str, example: bool) -> Response:
    check_csrf(request, viewer, csrf)
    task = visible_detail(request, viewer, task_id).task
    try:
        viewer.services.engine.examples.mark(viewer.principal, task.id, example)
    except PermissionDeniedError as exc:
        raise PageError(403, "Not marked", exc.message) from exc
    except InvalidInputError as exc:
        raise PageError(422, "Not marked", exc.message) from exc
    done = urlencode({"done": "an-example" if example else "not-an-example", "task": task.id})
    return RedirectResponse(f"/tasks/{task.id}?{done}", 303)
