"""The REST API's lessons: what a kind learned from its reviewers (issue 18).

A proposal is a task (``lessons:KIND``) that people decide like any draft; only
approved lessons reach a prompt. Retiring and restoring are chained events.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from placet.domain.policy import Permission
from placet.errors import NotFoundError
from placet.web.api.common import Caller, Svc, errors
from placet.web.api.schemas import LessonOut, TaskOut

router = APIRouter()
READ_ERRORS = errors(401, 403, 404, 422, 503)  # 404: no such kind
WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 422, 503)


def _known(svc: Svc, kind: str) -> str:
    """The kind named in the path, or 404 (not an empty list)."""
    if kind not in svc.engine.kinds:
        raise NotFoundError(f"no kind {kind!r}")
    return kind


@router.get(
    "/kinds/{kind}/lessons",
    response_model=list[LessonOut],
    tags=["lessons"],
    summary="A kind's lessons, in use and retired",
    responses=READ_ERRORS,
)
def lessons(kind: str, request: Request, svc: Svc, who: Caller) -> list[LessonOut]:
    """Every lesson the kind was taught, numbered, in the order approved."""
    svc.gate.check(request, who, Permission.VIEW_QUEUE)
    return [LessonOut.of(lesson) for lesson in svc.engine.learning.lessons(_known(svc, kind))]


@router.post(
    "/kinds/{kind}/lessons",
    status_code=201,
    response_model=TaskOut,
    tags=["lessons"],
    summary="Propose lessons from the kind's reviewers' feedback",
    responses=WRITE_ERRORS,
)
def propose(kind: str, svc: Svc, who: Caller) -> TaskOut:
    """A lesson proposal: a task for people to decide (422 when there is no feedback yet)."""
    return TaskOut.of(svc.engine.learning.propose_as(who, _known(svc, kind)))


@router.post(
    "/kinds/{kind}/lessons/{number}/retire",
    response_model=LessonOut,
    tags=["lessons"],
    summary="Stop using a lesson",
    responses=WRITE_ERRORS,
)
def retire(kind: str, number: int, svc: Svc, who: Caller) -> LessonOut:
    """The lesson stays on record and can be restored."""
    return LessonOut.of(svc.engine.learning.retire(who, _known(svc, kind), number))


@router.post(
    "/kinds/{kind}/lessons/{number}/restore",
    response_model=LessonOut,
    tags=["lessons"],
    summary="Use a retired lesson again",
    responses=WRITE_ERRORS,
)
def restore(kind: str, number: int, svc: Svc, who: Caller) -> LessonOut:
    """The lesson is in every prompt of the kind again."""
    return LessonOut.of(svc.engine.learning.restore(who, _known(svc, kind), number))
