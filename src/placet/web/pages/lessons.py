"""A kind's Lessons page: what it learned from its reviewers, in use and retired.

Lessons come from approved ``lessons:KIND`` proposals (domain/lessons.py); this
page lists them, asks for a new proposal (a task people then decide like any
draft), and lets those who may decide the kind retire and restore lessons.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from placet.domain.learning import lessons_version
from placet.domain.policy import Permission
from placet.errors import NotFoundError, PermissionDeniedError, UsageError
from placet.web.pages.common import FormText, PageError, ViewerDep, check, check_csrf, page

router = APIRouter()


@router.get("/lessons")
def lessons_index(request: Request, viewer: ViewerDep, kind: str = "") -> Response:
    """The Lessons page of the kind chosen (the first kind when none is)."""
    check(request, viewer, Permission.VIEW_QUEUE)
    chosen = kind or viewer.first_kind()
    if chosen is None:
        raise PageError(404, "No kinds", "there are no kinds to learn for")
    return RedirectResponse("/lessons/" + quote(chosen, safe=""), 303)


@router.get("/lessons/{kind}")
def lessons_page(request: Request, viewer: ViewerDep, kind: str, done: str = "") -> HTMLResponse:
    """The kind's lessons, each with who approved it and when, and the set in use now."""
    check(request, viewer, Permission.VIEW_QUEUE)
    engine = viewer.services.engine
    if kind not in engine.kinds:
        raise PageError(404, "No such kind", f"there is no kind {kind!r}")
    taught = engine.learning.lessons(kind)
    active = [lesson.text for lesson in taught if lesson.active]
    return page(
        "lessons.html",
        viewer,
        title=f"Lessons: {kind}",
        page="lessons",
        kind=kind,
        kinds=sorted(engine.kinds),
        lessons=taught,
        version=lessons_version(active[-20:]),
        may_teach=viewer.principal.has(Permission.DECIDE),
        done=done,
    )


@router.post("/lessons/{kind}/propose")
def propose(request: Request, viewer: ViewerDep, kind: str, csrf_token: FormText = "") -> Response:
    """Ask for a proposal from the reviewers' latest feedback: a task to decide."""
    check_csrf(request, viewer, csrf_token)
    try:
        proposal = viewer.services.engine.learning.propose_as(viewer.principal, kind)
    except UsageError as exc:
        raise PageError(_status(exc), "No proposal", exc.message) from exc
    return RedirectResponse(f"/tasks/{proposal.id}", 303)


@router.post("/lessons/{kind}/{number}/{change}")
def change(
    request: Request,
    viewer: ViewerDep,
    kind: str,
    number: int,
    change: str,
    csrf_token: FormText = "",
) -> Response:
    """Retire a lesson, or restore one."""
    check_csrf(request, viewer, csrf_token)
    learning = viewer.services.engine.learning
    try:
        if change == "retire":
            learning.retire(viewer.principal, kind, number)
        elif change == "restore":
            learning.restore(viewer.principal, kind, number)
        else:
            raise NotFoundError(f"no such change: {change}")
    except UsageError as exc:
        raise PageError(_status(exc), "Not changed", exc.message) from exc
    return RedirectResponse(f"/lessons/{kind}?" + urlencode({"done": f"{change}d"}), 303)


def _status(exc: UsageError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    return 403 if isinstance(exc, PermissionDeniedError) else 422
