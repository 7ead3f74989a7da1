"""The REST API's kill switch: see the pauses in force, pause, resume (admins)."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request

from placet.web.api.common import READ_ERRORS, WRITE_ERRORS, Caller, Svc
from placet.web.api.schemas import PauseIn, PauseOut, ResumeIn
from placet.web.auth import remote_address

router = APIRouter()


@router.get(
    "/pauses",
    response_model=list[PauseOut],
    tags=["kill switch"],
    summary="The pauses in force",
    responses=READ_ERRORS,
)
def pauses(svc: Svc, who: Caller) -> list[PauseOut]:
    """Each pause in force: of everything (scope ``*``) or of one kind. Empty: running."""
    return [PauseOut.of(found) for found in svc.engine.controls.pauses().values()]


@router.post(
    "/pause",
    status_code=201,
    response_model=PauseOut,
    tags=["kill switch"],
    summary="Pause drafting, approved calls and handlers (admins)",
    responses=WRITE_ERRORS,
)
def pause(body: PauseIn, request: Request, svc: Svc, who: Caller) -> PauseOut:
    """Nothing of that scope is drafted, run or delivered until resumed; decisions go on."""
    principal = replace(who, remote=remote_address(request))
    return PauseOut.of(svc.engine.pause(principal, body.reason, body.kind))


@router.post(
    "/resume",
    response_model=PauseOut,
    tags=["kill switch"],
    summary="Lift a pause (admins)",
    responses=WRITE_ERRORS,
)
def resume(body: ResumeIn, request: Request, svc: Svc, who: Caller) -> PauseOut:
    """Lift the pause of everything, or of one kind; the pause lifted is returned."""
    principal = replace(who, remote=remote_address(request))
    return PauseOut.of(svc.engine.resume(principal, body.kind))
