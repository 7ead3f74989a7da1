"""The kill switch on the dashboard: pause and resume (admins), from any page's header."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from placet.errors import PermissionDeniedError, UsageError
from placet.web.auth import remote_address
from placet.web.pages.common import FormText, PageError, ViewerDep, check_csrf

router = APIRouter()


@router.post("/controls/pause")
def pause(
    request: Request,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    reason: FormText = "",
    kind: FormText = "",
) -> Response:
    """Pause drafting, approved calls and handlers (of one kind, or all); the engine checks who."""
    check_csrf(request, viewer, csrf_token)
    principal = replace(viewer.principal, remote=remote_address(request))
    try:
        viewer.services.engine.pause(principal, reason, kind or None)
    except UsageError as exc:
        raise PageError(_status(exc), "Not paused", exc.message) from exc
    return RedirectResponse("/", 303)


@router.post("/controls/resume")
def resume(
    request: Request, viewer: ViewerDep, csrf_token: FormText = "", kind: FormText = ""
) -> Response:
    """Lift a pause (of one kind, or of everything)."""
    check_csrf(request, viewer, csrf_token)
    principal = replace(viewer.principal, remote=remote_address(request))
    try:
        viewer.services.engine.resume(principal, kind or None)
    except UsageError as exc:
        raise PageError(_status(exc), "Not resumed", exc.message) from exc
    return RedirectResponse("/", 303)


def _status(exc: UsageError) -> int:
    return 403 if isinstance(exc, PermissionDeniedError) else 422
