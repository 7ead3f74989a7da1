"""The REST API's tasks: submit, list, read, decide and cancel.

Routes are thin: they parse, ask the gate, call the engine, and render. Who may
do what lives in ``placet.domain.policy``; what a decision means lives in the
engine. Every refusal is recorded by the gate.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from placet.domain import holds, routing
from placet.domain.models import Task, TaskStatus
from placet.domain.policy import Permission, Principal, Role
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest
from placet.engine.pipelines import chain_in
from placet.errors import ConflictError, NotFoundError, PermissionDeniedError, PlacetError
from placet.web.api.callbacks import callback_url_for
from placet.web.api.common import (
    READ_ERRORS,
    WRITE_ERRORS,
    Caller,
    Svc,
    TaskId,
    errors,
    task_not_found,
    visible_detail,
    visible_task,
)
from placet.web.api.schemas import (
    CancelIn,
    ConflictOut,
    DecisionIn,
    ErrorOut,
    HoldIn,
    PipelineOut,
    SubmitIn,
    TaskDetailOut,
    TaskOut,
    TaskPage,
    decode_cursor,
    encode_cursor,
    epoch,
)
from placet.web.services import Services

MAX_PAGE = 200

router = APIRouter()


@router.post(
    "/tasks",
    status_code=201,
    response_model=TaskOut,
    tags=["tasks"],
    summary="Submit a task",
    responses={
        200: {"model": TaskOut, "description": "The task this Idempotency-Key made."},
        409: {
            "model": ErrorOut,
            "description": "The Idempotency-Key was used for another request.",
        },
        **WRITE_ERRORS,
    },
)
def submit(
    body: SubmitIn,
    request: Request,
    response: Response,
    svc: Svc,
    who: Caller,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Repeat a submission safely: the same key gives the same task.",
        ),
    ] = None,
) -> TaskOut:
    """Queue a task; a drafting worker picks it up at once."""
    svc.gate.check(request, who, Permission.SUBMIT)
    started = time.time()
    # A key used for other work, or by someone else, is a ConflictError (409) that
    # hands back nothing of that task.
    task = svc.engine.submit(body.kind, body.input, who.name, idempotency_key)
    if idempotency_key is not None and task.created_at < started:
        response.status_code = 200  # the key's task, made by an earlier request
    return TaskOut.of(task)


@router.get(
    "/tasks",
    response_model=TaskPage,
    tags=["tasks"],
    summary="List tasks",
    responses=READ_ERRORS,
)
def list_tasks(
    request: Request,
    svc: Svc,
    who: Caller,
    status: Annotated[list[TaskStatus] | None, Query(max_length=20)] = None,
    kind: Annotated[
        list[Annotated[str, Query(max_length=200)]] | None, Query(max_length=50)
    ] = None,
    requester: Annotated[str | None, Query(max_length=200)] = None,
    created_after: Annotated[datetime | None, Query(description="Created at or after.")] = None,
    created_before: Annotated[datetime | None, Query(description="Created before.")] = None,
    cursor: Annotated[
        str | None, Query(max_length=100, description="next_cursor of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> TaskPage:
    """Tasks newest first, a page at a time; requesters see only their own."""
    svc.gate.check(request, who, Permission.VIEW_TASK)
    requester = _visible_requester(request, svc, who, requester)
    base = TaskFilter(
        statuses=tuple(status or ()),
        kinds=tuple(kind or ()),
        after_id=_task_after(cursor),
        limit=limit,
        newest_first=True,
    )
    after = epoch(created_after) if created_after else None
    before = epoch(created_before) if created_before else None
    found = _page(svc, base, requester, after, before)
    items, more = found[:limit], len(found) > limit
    next_cursor = encode_cursor(items[-1].id) if more else None
    return TaskPage(items=[TaskOut.of(task) for task in items], next_cursor=next_cursor)


def _visible_requester(
    request: Request, svc: Services, who: Principal, requester: str | None
) -> str | None:
    """The requester filter: people who cannot see the whole queue see only their own tasks."""
    if who.has(Permission.VIEW_QUEUE):
        return requester
    if requester not in (None, who.name):
        svc.gate.refuse(
            request, who.name, "view_queue", 403, f"{who.name} may only list their own tasks"
        )
    return who.name


def _page(
    svc: Services,
    base: TaskFilter,
    requester: str | None,
    after: float | None,
    before: float | None,
) -> list[Task]:
    """Up to ``limit + 1`` matching tasks (one more than a page tells whether more follow)."""
    wanted = replace(
        base,
        limit=base.limit + 1,
        requester=requester,
        created_after=after,
        created_before=before,
    )
    return svc.engine.list_tasks(wanted)


def _task_after(cursor: str | None) -> str | None:
    """The task id a cursor stands for; 422 naming the cursor if it is not one of ours."""
    try:
        return None if cursor is None else decode_cursor(cursor)
    except ValueError as exc:
        issue = {"loc": ["query", "cursor"], "msg": str(exc), "type": "value_error"}
        raise HTTPException(422, [issue]) from None


@router.get(
    "/tasks/{task_id}",
    response_model=TaskDetailOut,
    tags=["tasks"],
    summary="One task with its drafts, decisions and events",
    responses=errors(401, 403, 404, 422, 503),
)
def get_task(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> TaskDetailOut:
    """The task's whole story: drafts, decisions and the audit trail.

    A task you may not see answers as one that does not exist (404).
    """
    detail = visible_detail(request, svc, who, task_id)
    rule = svc.engine.route_of(detail.task)
    route = routing.described(rule) if rule is not None else None
    found = TaskDetailOut.of_detail(detail, svc.engine.approvals(detail.task), route)
    found.callback_url = callback_url_for(request, svc, who, detail.task)
    found.pipeline = PipelineOut.of(chain_in(svc.engine, detail, who))
    return found


@router.post(
    "/tasks/{task_id}/decisions",
    response_model=TaskOut,
    tags=["tasks"],
    summary="Approve, edit, revise or reject the draft a task waits on",
    responses={**WRITE_ERRORS, **errors(409)},
)
def decide(task_id: TaskId, body: DecisionIn, request: Request, svc: Svc, who: Caller) -> Any:
    """Record a verdict; a stale or second decision gets 409 with the task as it is now."""
    # Who may decide, and whether the request is complete, is the engine's to say
    # (403 and 422 through the app's error handlers), as for every other channel.
    decision = DecisionRequest(
        task_id=task_id,
        kind=body.kind,
        principal=who,
        draft_id=body.draft_id,
        expected_version=body.version,
        text=body.text if body.value is None else json.dumps(body.value, ensure_ascii=False),
        feedback=body.feedback,
        reason=body.reason,
        choice=None if body.choice is None else tuple(body.choice),
        fields=body.fields,
    )
    held = None
    with contextlib.suppress(NotFoundError):  # a missing task is the decision's to report
        held = svc.engine.hold_of(svc.engine.get(task_id))
    try:
        decided = svc.engine.decide(decision)
    except ConflictError as exc:
        return _conflict(svc, task_id, exc)
    except NotFoundError:
        raise task_not_found(task_id) from None
    except PermissionDeniedError:
        # Refused (and recorded) by the engine; a task the caller may not even see
        # answers as a missing one, so ids cannot be probed by deciding them.
        visible_task(request, svc, who, task_id)
        raise
    _count_decision(svc, decided, body.draft_id)
    over = held is not None and held.holder != who.name
    return TaskOut.of(decided, [holds.warning(held, time.time())] if held and over else None)


def _conflict(svc: Services, task_id: str, exc: ConflictError) -> JSONResponse:
    current = TaskOut.of(svc.engine.get(task_id))
    body = ConflictOut(detail=exc.message, error=type(exc).__name__, task=current)
    return JSONResponse(body.model_dump(mode="json"), status_code=409)


def _count_decision(svc: Services, decided: Task, draft_id: str) -> None:
    # The decision is committed; a failed metrics read must not turn it into an error.
    with contextlib.suppress(PlacetError):
        svc.metrics.decided(svc.engine.detail(decided.id), draft_id)


@router.post(
    "/tasks/{task_id}/cancel",
    response_model=TaskOut,
    tags=["tasks"],
    summary="Cancel a task",
    responses={**WRITE_ERRORS, **errors(409)},
)
def cancel(
    task_id: TaskId, request: Request, svc: Svc, who: Caller, body: CancelIn | None = None
) -> Any:
    """Cancel a task that is not final: its requester or an admin may."""
    task = visible_task(request, svc, who, task_id)
    if task.requester != who.name and Role.ADMIN not in who.roles:
        svc.gate.refuse(
            request,
            who.name,
            "cancel",
            403,
            f"only the requester or an admin may cancel task {task.id}",
            task.id,
        )
    try:
        return TaskOut.of(svc.engine.cancel(task.id, who.name, body.reason if body else ""))
    except ConflictError as exc:
        return _conflict(svc, task.id, exc)


@router.post(
    "/tasks/{task_id}/hold",
    response_model=TaskOut,
    tags=["tasks"],
    summary="Take a waiting task to review (or hand it to someone)",
    responses={**WRITE_ERRORS, **errors(409)},
)
def take(
    task_id: TaskId, request: Request, svc: Svc, who: Caller, body: HoldIn | None = None
) -> Any:
    """Others see that you are reviewing it and their queues skip it until the hold lapses.

    Someone else's hold answers 409 (they may still decide it); an admin may
    hand it to another person who may decide it with ``to``.
    """
    task = visible_task(request, svc, who, task_id)
    body = body or HoldIn(seconds=None, to=None)
    try:
        if body.to is not None:
            return TaskOut.of(svc.engine.hand_over(task.id, who, body.to, body.seconds))
        return TaskOut.of(svc.engine.take(task.id, who, body.seconds))
    except ConflictError as exc:
        return _conflict(svc, task.id, exc)


@router.delete(
    "/tasks/{task_id}/hold",
    response_model=TaskOut,
    tags=["tasks"],
    summary="Let go of a task you took (admins: anyone's)",
    responses={**WRITE_ERRORS, **errors(409)},
)
def let_go(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> Any:
    """End the hold: the task is back in everyone's queue."""
    task = visible_task(request, svc, who, task_id)
    try:
        return TaskOut.of(svc.engine.let_go(task.id, who))
    except ConflictError as exc:
        return _conflict(svc, task.id, exc)
