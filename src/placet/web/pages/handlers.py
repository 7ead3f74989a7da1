"""Outcome handlers that gave up, across every task, for an admin to retry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from placet.domain.policy import Permission
from placet.handlers.admin import failed_deliveries
from placet.web.pages.common import ViewerDep, check, notice_for, page
from placet.web.pages.task import FAILED_HANDLERS_PAGE

router = APIRouter()
SHOWN = 100


@router.get(FAILED_HANDLERS_PAGE)
def failed_handlers(
    request: Request, viewer: ViewerDep, done: str = "", task: str = ""
) -> HTMLResponse:
    """The deliveries whose handler gave up, most recent first, each with a Retry button."""
    check(request, viewer, Permission.RETRY_HANDLERS)
    deliveries = failed_deliveries(viewer.services.engine, SHOWN)
    return page(
        "handlers.html",
        viewer,
        title="Failed handlers",
        page="handlers",
        notice=notice_for(done, task),
        deliveries=deliveries,
        shown=SHOWN,
        back=FAILED_HANDLERS_PAGE,
    )
