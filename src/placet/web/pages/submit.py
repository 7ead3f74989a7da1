"""Submitting a task from the dashboard: a form per kind, one text box per input its
template names, or, for a kind with an ``input_schema``, a field per input by its type
(the form the task page draws for a structured draft), read back by type."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from placet.domain.limits import MAX_NAME, too_long
from placet.domain.models import JsonObject, TaskKind
from placet.domain.policy import Permission
from placet.domain.prompts import template_inputs
from placet.errors import InvalidInputError, UsageError
from placet.web.auth import CSRF_FIELD
from placet.web.pages.common import SAFE_ID, Viewer, ViewerDep, check, check_csrf, page
from placet.web.pages.typed_form import FormField, object_from_schema, schema_form

Posted = tuple[tuple[str, str], ...]  # a refused form's (input, value) pairs, shown again

router = APIRouter()


def _submit_context(viewer: Viewer, chosen: str = "", posted: Posted = ()) -> dict[str, Any]:
    kinds = viewer.services.engine.settings.kinds.values()
    return {
        "kinds": [(kind, _inputs(kind, posted if kind.name == chosen else ())) for kind in kinds],
        "idempotency": secrets.token_urlsafe(16),
        "page": "submit",
    }


def _inputs(kind: TaskKind, posted: Posted) -> list[str] | list[FormField]:
    """A kind's inputs: the names its template needs, or its input_schema's typed fields."""
    if kind.input_schema is not None:
        return schema_form(kind.input_schema, {}, posted)
    return template_inputs(kind.template)


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
    typed = (
        [str(name) for name in form.getlist("input_name")],
        [str(value) for value in form.getlist("input_value")],
    )
    return await run_in_threadpool(_submit, request, viewer, fields, typed)


def _submit(
    request: Request,
    viewer: Viewer,
    fields: dict[str, str],
    typed: tuple[list[str], list[str]] = ([], []),
) -> Response:
    check_csrf(request, viewer, fields.get(CSRF_FIELD, ""))
    check(request, viewer, Permission.SUBMIT)
    values: JsonObject = {
        key[6:]: value for key, value in fields.items() if key.startswith("input:")
    }
    key = fields.get("idempotency", "")
    try:
        if problem := too_long("kind", fields.get("kind", ""), MAX_NAME):
            raise InvalidInputError(problem)  # as the API's limit on it
        kind = viewer.services.engine.settings.kinds.get(fields.get("kind", ""))
        if kind is not None and kind.input_schema is not None:
            # Each field read by its type; whether the whole fits is the engine's to say.
            values = object_from_schema(kind.input_schema, kind.name, *typed)
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
            **_submit_context(viewer, chosen, tuple(zip(*typed, strict=False))),
        )
    return RedirectResponse(f"/tasks/{task.id}?done=submitted", 303)
