"""Submitting a task from the dashboard."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from placet.domain.limits import MAX_NAME, too_long
from placet.domain.policy import Permission
from placet.domain.prompts import template_inputs
from placet.errors import InvalidInputError, UsageError
from placet.web.auth import CSRF_FIELD
from placet.web.pages.common import SAFE_ID, Viewer, ViewerDep, check, check_csrf, page

router = APIRouter()


def _submit_context(viewer: Viewer) -> dict[str, Any]:
    kinds = viewer.services.engine.settings.kinds.values()
    return {
        "kinds": [(kind, template_inputs(kind.template)) for kind in kinds],
        "idempotency": secrets.token_urlsafe(16),
        "page": "submit",
    }


@router.get("/submit")
def submit_form(request: Request, viewer: ViewerDep) -> HTMLResponse:
    """A form per kind, one field per input the kind's template needs."""
    check(request, viewer, Permission.SUBMIT)
    return page("submit.html", viewer, title="New task", values={}, **_submit_context(viewer))


@router.post("/submit")
async def submit(request: Request, viewer: ViewerDep) -> Response:
    """Queue a task from the form; a repeated post with the same form key gives the same task."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_submit, request, viewer, fields)


def _submit(request: Request, viewer: Viewer, fields: dict[str, str]) -> Response:
    check_csrf(request, viewer, fields.get(CSRF_FIELD, ""))
    check(request, viewer, Permission.SUBMIT)
    values = {key[6:]: value for key, value in fields.items() if key.startswith("input:")}
    key = fields.get("idempotency", "")
    try:
        if problem := too_long("kind", fields.get("kind", ""), MAX_NAME):
            raise InvalidInputError(problem)  # as the API's limit on it
        task = viewer.services.engine.submit(
            fields.get("kind", ""),
            values,
            viewer.name,
            idempotency_key=f"web:{viewer.name}:{key}" if SAFE_ID.match(key) else None,
        )
    except UsageError as exc:
        chosen = fields.get("kind", "")
        return page(
            "submit.html",
            viewer,
            422,
            title="New task",
            error=exc.message,
            chosen=chosen,
            values=values,
            **_submit_context(viewer),
        )
    return RedirectResponse(f"/tasks/{task.id}?done=submitted", 303)
