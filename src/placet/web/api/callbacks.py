"""Inbound callback URLs: a signed, single-use URL a tool that can only call a URL decides with.

A person who may decide a task asks for one (``POST /api/v1/tasks/{id}/callback-url``)
and hands it to the tool; the tool POSTs ``{"decision": "approve" | "reject",
"reason": ...}`` to it, and the engine's one decision call decides as the person
the URL was minted for (the signature says who; no header or body can say
otherwise), on the draft and version it was minted for, once, before it expires.
The URL is the credential: keep it as you would a token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from placet.domain.links import CALLBACK, LinkRefused
from placet.domain.models import Task, TaskStatus
from placet.domain.notifications import iso
from placet.domain.policy import Principal
from placet.errors import PermissionDeniedError
from placet.web.api.common import Caller, Svc, TaskId, errors, visible_task
from placet.web.pages.links import desk
from placet.web.services import Services

router = APIRouter()
Token = Annotated[str, Path(min_length=1, max_length=2000, description="The signed token.")]


class CallbackUrlOut(BaseModel):
    """A callback URL, and what it is bound to."""

    url: str = Field(description="POST {decision, reason} here, once.")
    decides_as: str = Field(description="The account it decides as: who asked for it.")
    draft_id: str
    version: int
    expires_at: str = Field(description="ISO 8601, UTC.")


class CallbackIn(BaseModel):
    """What a tool posts to a callback URL."""

    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=2000, description="Needed to reject.")


class CallbackOut(BaseModel):
    """The task after the decision."""

    task_id: str
    status: str
    decided_as: str


@router.post(
    "/tasks/{task_id}/callback-url",
    response_model=CallbackUrlOut,
    tags=["callbacks"],
    summary="A signed, single-use URL that decides this draft as you",
    responses=errors(401, 403, 404, 409, 503),
)
def mint(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> Any:
    """For a person who may decide the task now; 409 when it awaits no review."""
    task = visible_task(request, svc, who, task_id)
    verdict = svc.engine.may_decide(who, task)
    if not verdict.allowed:
        raise PermissionDeniedError(f"{verdict.reason}; no callback URL was made")
    links = desk(request, svc)
    link = links.mint_callback(task, who)
    if link is None:
        raise HTTPException(409, f"task {task.id} is {task.status.value}: nothing to decide")
    base = svc.engine.settings.base_url or str(request.base_url)
    return CallbackUrlOut(
        url=links.url(link, base),
        decides_as=link.account,
        draft_id=link.draft_id,
        version=link.version,
        expires_at=iso(link.expires_at),
    )


def callback_url_for(request: Request, svc: Services, who: Principal, task: Task) -> str | None:
    """A callback URL for the caller on the task's current draft, when they may decide it."""
    if task.status is not TaskStatus.AWAITING_REVIEW:
        return None
    if not svc.engine.may_decide(who, task).allowed:
        return None
    links = desk(request, svc)
    link = links.mint_callback(task, who)
    base = svc.engine.settings.base_url or str(request.base_url)
    return links.url(link, base) if link is not None else None


@router.post(
    "/callbacks/{token}",
    response_model=CallbackOut,
    tags=["callbacks"],
    summary="Decide through a callback URL (no other credentials)",
    responses={
        **errors(400, 403, 404, 409, 422, 503),
        410: {"description": "Used, expired or stale."},
    },
)
def callback(token: Token, body: CallbackIn, request: Request, svc: Svc) -> Any:
    """Approve or reject as the URL's account, once; 410 with the reason when it cannot."""
    links = desk(request, svc)
    try:
        link = links.read(token)
    except LinkRefused as exc:
        raise HTTPException(404, exc.message) from None
    if link.action != CALLBACK:
        raise HTTPException(404, "this is no callback URL (an e-mail's link opens a page)")
    try:
        task = links.use(token, body.decision, body.reason, "callback")
    except LinkRefused as exc:
        raise HTTPException(410, exc.message) from None
    return CallbackOut(task_id=task.id, status=task.status.value, decided_as=link.account)
