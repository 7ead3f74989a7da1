"""The REST API, ``/api/v1``: tasks, decisions, live streams, tokens and users.

Routes are thin: they parse, ask the gate, call the engine or the accounts,
and render. Who may do what lives in ``placet.domain.policy``; what a
decision means lives in the engine. Every refusal is recorded by the gate.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from placet.domain.models import Task, TaskStatus
from placet.domain.policy import Permission, Principal, Role
from placet.engine import DecisionRequest
from placet.errors import ConflictError, PlacetError
from placet.store.base import TaskFilter
from placet.web.auth import SESSION_COOKIE
from placet.web.broker import Feed, queue_feed, task_feed
from placet.web.counts import MIN_AGE_SECONDS
from placet.web.schemas import (
    CancelIn,
    ConflictOut,
    DecisionIn,
    ErrorOut,
    SubmitIn,
    TaskDetailOut,
    TaskOut,
    TaskPage,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserOut,
    ValidationErrorOut,
    decode_cursor,
    encode_cursor,
    epoch,
)
from placet.web.services import Services, services

PING_SECONDS = 15.0  # keep-alive comments, so proxies do not close a quiet stream
# At most four queue updates a second per stream; no shorter than the counts'
# minimum age, so a stream woken by a commit reads counts taken after it.
QUEUE_EVENT_SECONDS = MIN_AGE_SECONDS
MAX_PAGE = 200

router = APIRouter(prefix="/api/v1")

_ERRORS: dict[int, tuple[type[Any], str]] = {
    400: (ErrorOut, "The request could not be used."),
    401: (ErrorOut, "No credentials, or a token that is invalid, revoked or disabled."),
    403: (ErrorOut, "Not allowed for your roles (recorded), or a missing CSRF header."),
    404: (ErrorOut, "No such task, token or user."),
    409: (ConflictOut, "The task changed since you looked: nothing was changed."),
    413: (ErrorOut, "The request body is too large."),
    422: (ValidationErrorOut, "Invalid input: the fields at fault, or what is wrong."),
    503: (ErrorOut, "The database did not answer."),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses a route can give."""
    return {code: {"model": _ERRORS[code][0], "description": _ERRORS[code][1]} for code in codes}


_READ_ERRORS = errors(401, 403, 422, 503)
_WRITE_ERRORS = errors(400, 401, 403, 404, 413, 422, 503)

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

# -- tasks ----------------------------------------------------------------------------


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
        **_WRITE_ERRORS,
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
    responses=_READ_ERRORS,
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


# The store filters by requester and creation time itself once TaskFilter has these fields.
_STORE_FILTERS = {"requester", "created_after", "created_before"} <= {
    field.name for field in fields(TaskFilter)
}


def _page(
    svc: Services,
    base: TaskFilter,
    requester: str | None,
    after: float | None,
    before: float | None,
) -> list[Task]:
    """Up to ``limit + 1`` matching tasks (one more than a page tells whether more follow)."""
    wanted = replace(base, limit=base.limit + 1)
    if requester is None and after is None and before is None:
        return svc.engine.list_tasks(wanted)
    if _STORE_FILTERS:
        extra: dict[str, Any] = {
            "requester": requester,
            "created_after": after,
            "created_before": before,
        }
        return svc.engine.list_tasks(replace(wanted, **extra))

    def keep(task: Task) -> bool:
        return (
            (requester is None or task.requester == requester)
            and (after is None or task.created_at >= after)
            and (before is None or task.created_at < before)
        )

    return _scan(svc, wanted, keep)


def _scan(svc: Services, wanted: TaskFilter, keep: Callable[[Task], bool]) -> list[Task]:
    """Filter in pages of the store's own order, so the cursor stays exact (a stopgap)."""
    found: list[Task] = []
    batch = max(wanted.limit, 200)
    after_id = wanted.after_id
    while len(found) < wanted.limit:
        rows = svc.engine.list_tasks(replace(wanted, after_id=after_id, limit=batch))
        found.extend(task for task in rows if keep(task))
        if len(rows) < batch:
            break
        after_id = rows[-1].id
    return found[: wanted.limit]


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
    """The task's whole story: drafts, decisions and the audit trail."""
    detail = svc.engine.detail(task_id)
    svc.gate.check(request, who, Permission.VIEW_TASK, detail.task)
    return TaskDetailOut.of_detail(detail)


@router.post(
    "/tasks/{task_id}/decisions",
    response_model=TaskOut,
    tags=["tasks"],
    summary="Approve, edit, revise or reject the draft a task waits on",
    responses={**_WRITE_ERRORS, **errors(409)},
)
def decide(task_id: TaskId, body: DecisionIn, request: Request, svc: Svc, who: Caller) -> Any:
    """Record a verdict; a stale or second decision gets 409 with the task as it is now."""
    task = svc.engine.get(task_id)
    svc.gate.check(request, who, Permission.DECIDE, task)
    decision = DecisionRequest(
        task_id=task.id,
        kind=body.kind,
        actor=who.name,
        draft_id=body.draft_id,
        expected_version=body.version,
        text=body.text,
        feedback=body.feedback,
        reason=body.reason,
        role=_role(who),
    )
    try:
        decided = svc.engine.decide(decision)
    except ConflictError as exc:
        return _conflict(svc, task.id, exc)
    _count_decision(svc, decided, body.draft_id)
    return TaskOut.of(decided)


def _role(who: Principal) -> str:
    """The role a decision is recorded under."""
    return Role.REVIEWER.value if Role.REVIEWER in who.roles else Role.ADMIN.value


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
    responses={**_WRITE_ERRORS, **errors(409)},
)
def cancel(
    task_id: TaskId, request: Request, svc: Svc, who: Caller, body: CancelIn | None = None
) -> Any:
    """Cancel a task that is not final: its requester or an admin may."""
    task = svc.engine.get(task_id)
    svc.gate.check(request, who, Permission.VIEW_TASK, task)
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


# -- live streams ---------------------------------------------------------------------

_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events."}
}


@router.get(
    "/tasks/{task_id}/events",
    response_class=EventSourceResponse,
    tags=["live"],
    summary="Live: draft text as it is generated, and status changes",
    responses={**_STREAM, **errors(401, 403, 404, 422, 503)},
)
async def task_events(
    task_id: TaskId, request: Request, svc: Svc, who: Caller
) -> EventSourceResponse:
    """``status`` events (the current one first), ``chunk`` and ``restart`` while drafting.

    A ``chunk`` event's data is ``{"text": ...}``: append it; ``restart`` means
    drop the text so far. The stream ends after a final status.
    """
    task = await run_in_threadpool(svc.engine.get, task_id)
    await run_in_threadpool(svc.gate.check, request, who, Permission.VIEW_TASK, task)
    closing = anyio.Event()
    return _stream(task_feed(svc.broker, svc.engine.store, task_id, closing), closing)


@router.get(
    "/queue/events",
    response_class=EventSourceResponse,
    tags=["live"],
    summary="Live: queue counts whenever the queue changes",
    responses={**_STREAM, **errors(401, 403)},
)
async def queue_events(request: Request, svc: Svc, who: Caller) -> EventSourceResponse:
    """``queue`` events with task counts by status and by kind: at once, then on changes."""
    await run_in_threadpool(svc.gate.check, request, who, Permission.VIEW_QUEUE)
    closing = anyio.Event()
    feed = queue_feed(svc.broker, svc.settled_counts, closing, QUEUE_EVENT_SECONDS)
    return _stream(feed, closing)


def _stream(feed: Feed, closing: anyio.Event) -> EventSourceResponse:
    """Server-Sent Events from a feed, with keep-alives.

    On server shutdown sse-starlette sets ``closing``; the feed then ends by
    itself, so the response is completed properly instead of being cut off.
    """
    events = (ServerSentEvent(json.dumps(data), event=kind) async for kind, data in feed)
    return EventSourceResponse(
        events, ping=PING_SECONDS, shutdown_event=closing, shutdown_grace_period=2.0
    )


# -- tokens and users -----------------------------------------------------------------


@router.get(
    "/tokens",
    response_model=list[TokenOut],
    tags=["accounts"],
    summary="List API tokens",
    responses=_READ_ERRORS,
)
def list_tokens(
    request: Request,
    svc: Svc,
    who: Caller,
    user: Annotated[str | None, Query(max_length=200, description="Whose (admins only).")] = None,
) -> list[TokenOut]:
    """Your tokens (never their secrets); an admin may name another user."""
    owner = _token_owner(request, svc, who, user)
    return [TokenOut.of(token) for token in svc.accounts.tokens(owner)]


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreatedOut,
    tags=["accounts"],
    summary="Create an API token",
    responses=_WRITE_ERRORS,
)
def create_token(body: TokenIn, request: Request, svc: Svc, who: Caller) -> TokenCreatedOut:
    """A new token; its secret is in this response only."""
    owner = _token_owner(request, svc, who, body.user)
    secret, token = svc.accounts.create_token(owner, body.label)
    svc.accounts.record(who.name, "create_token", "allowed", owner, token.id)
    return TokenCreatedOut(**TokenOut.of(token).model_dump(), token=secret)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    tags=["accounts"],
    summary="Revoke an API token",
    responses=errors(401, 403, 404, 422, 503),
)
def revoke_token(
    token_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    svc: Svc,
    who: Caller,
) -> Response:
    """Revoke one of your tokens at once (an admin may revoke anyone's)."""
    if who.has(Permission.MANAGE_USERS):
        svc.accounts.revoke_token(token_id)
    else:
        svc.gate.check(request, who, Permission.MANAGE_OWN_TOKENS)
        svc.accounts.revoke_token(token_id, user_name=who.name)  # someone else's: 404
    svc.accounts.record(who.name, "revoke_token", "allowed", token_id)
    return Response(status_code=204)


def _token_owner(request: Request, svc: Services, who: Principal, user: str | None) -> str:
    """Whose tokens a request is about, after checking it may be."""
    if user is None or user == who.name:
        svc.gate.check(request, who, Permission.MANAGE_OWN_TOKENS)
        return who.name
    svc.gate.check(request, who, Permission.MANAGE_USERS)
    return user


@router.get(
    "/users",
    response_model=list[UserOut],
    tags=["accounts"],
    summary="List users",
    responses=errors(401, 403, 503),
)
def list_users(request: Request, svc: Svc, who: Caller) -> list[UserOut]:
    """Every account (admins only)."""
    svc.gate.check(request, who, Permission.MANAGE_USERS)
    return [UserOut.of(user) for user in svc.accounts.users()]
