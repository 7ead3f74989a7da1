"""What every route of the REST API shares: who is asking, and the error responses.

Both ways of asking (an API token, the dashboard's session cookie) are
documented in OpenAPI here; ``placet.web.auth``'s gate does the checking.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from placet.domain.models import Task, TaskDetail
from placet.domain.policy import Principal
from placet.errors import NotFoundError
from placet.web.api.schemas import ConflictOut, ErrorOut, ValidationErrorOut
from placet.web.auth import SESSION_COOKIE
from placet.web.services import Services, services

_ERRORS: dict[int, tuple[type[Any], str]] = {
    400: (ErrorOut, "The request could not be used."),
    401: (ErrorOut, "No credentials, or a token that is invalid, revoked or disabled."),
    403: (ErrorOut, "Not allowed for your roles (recorded), or a missing CSRF header."),
    404: (ErrorOut, "No such task (or not yours to see), token or user."),
    409: (ConflictOut, "The task changed since you looked: nothing was changed."),
    413: (ErrorOut, "The request body is too large."),
    422: (ValidationErrorOut, "Invalid input: the fields at fault, or what is wrong."),
    503: (
        ErrorOut,
        "The database did not answer, or (on submit) the kind's model cannot be used as "
        "the server is configured; the detail says which.",
    ),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses a route can give."""
    return {code: {"model": _ERRORS[code][0], "description": _ERRORS[code][1]} for code in codes}


READ_ERRORS = errors(401, 403, 422, 503)
WRITE_ERRORS = errors(400, 401, 403, 404, 413, 422, 503)

# -- who is asking --------------------------------------------------------------------

# Both schemes are documented in OpenAPI; the gate does the actual checking.
_bearer = HTTPBearer(auto_error=False, description="An API token: `placet tokens create`.")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The dashboard session; unsafe methods need x-csrf-token.",
)
Svc = Annotated[Services, Depends(services)]


def caller(
    request: Request,
    svc: Svc,
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _session: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """Who is asking: a bearer token, or a session cookie (with the CSRF header to change)."""
    principal = svc.gate.authenticate(request)
    request.state.user = principal.name  # for the request log
    return principal


Caller = Annotated[Principal, Depends(caller)]
TaskId = Annotated[str, Path(min_length=1, max_length=64, description="The task's id.")]


# -- tasks the caller may see ---------------------------------------------------------


def task_not_found(task_id: str) -> NotFoundError:
    """The one answer for a task id that does not exist or names a task the caller may not see."""
    return NotFoundError(f"no task with id {task_id}")


def visible_task(request: Request, svc: Services, who: Principal, task_id: str) -> Task:
    """The task, if it exists and the caller may see it; else 404 alike (a refusal is recorded)."""
    try:
        task = svc.engine.get(task_id)
    except NotFoundError:
        raise task_not_found(task_id) from None
    if not svc.gate.may_see(request, who, task):
        raise task_not_found(task_id)
    return task


def visible_detail(request: Request, svc: Services, who: Principal, task_id: str) -> TaskDetail:
    """The task's whole story, on the same terms as ``visible_task``."""
    try:
        detail = svc.engine.detail(task_id)
    except NotFoundError:
        raise task_not_found(task_id) from None
    if not svc.gate.may_see(request, who, detail.task):
        raise task_not_found(task_id)
    return detail
