"""Review statistics, as charts and tables: decisions, first touches, groups, timers."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from placet.domain.policy import Permission
from placet.domain.stats import NO_GROUP
from placet.engine.stats import ReviewNumbers
from placet.web import charts
from placet.web.pages.common import Viewer, ViewerDep, check, page

router = APIRouter()


@router.get("/stats")
def stats_page(request: Request, viewer: ViewerDep, kind: str = "") -> HTMLResponse:
    """Decisions, time to decision and to first touch, by group, overdue and escalations."""
    numbers = _numbers(request, viewer)
    kinds = numbers.stats.kinds()
    chosen = kind if kind in kinds else ""
    return page(
        "stats.html",
        viewer,
        title="Stats",
        page="stats",
        stats=numbers.stats,
        overdue=numbers.overdue,
        by_kind=numbers.by_kind(),
        kinds=kinds,
        chosen=chosen,
        chart_query=urlencode({"kind": chosen}) if chosen else "",
        scan_limit=numbers.limit,
        no_group=NO_GROUP,
    )


def _numbers(request: Request, viewer: Viewer) -> ReviewNumbers:
    check(request, viewer, Permission.VIEW_QUEUE)
    return viewer.services.review_numbers()


def _svg(body: bytes) -> Response:
    headers = {
        "Content-Security-Policy": charts.SVG_CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-store",
    }
    return Response(body, media_type="image/svg+xml", headers=headers)


@router.get("/stats/decisions.svg")
def decisions_svg(request: Request, viewer: ViewerDep, kind: str = "") -> Response:
    """The decisions-per-day chart."""
    stats = _numbers(request, viewer).stats
    return _svg(charts.decisions_chart(stats, kind if kind in stats.kinds() else None))


@router.get("/stats/waits.svg")
def waits_svg(request: Request, viewer: ViewerDep) -> Response:
    """The time-to-decision chart."""
    return _svg(charts.waits_chart(_numbers(request, viewer).stats))


@router.get("/stats/first-touch.svg")
def first_touch_svg(request: Request, viewer: ViewerDep) -> Response:
    """The time-to-first-touch chart."""
    return _svg(charts.first_touch_chart(_numbers(request, viewer).stats))


@router.get("/stats/groups.svg")
def groups_svg(request: Request, viewer: ViewerDep) -> Response:
    """The time-to-final-decision-by-group chart."""
    return _svg(charts.group_decisions_chart(_numbers(request, viewer).stats))


@router.get("/stats/overdue.svg")
def overdue_svg(request: Request, viewer: ViewerDep) -> Response:
    """The overdue-now chart."""
    return _svg(charts.overdue_chart(_numbers(request, viewer).overdue))


@router.get("/stats/learning.svg")
def learning_svg(request: Request, viewer: ViewerDep, kind: str = "") -> Response:
    """The learning chart: first-pass approvals and drafts per approval, lessons marked."""
    stats = _numbers(request, viewer).stats
    known = {approval.kind for approval in stats.approvals}
    return _svg(charts.learning_chart(stats, kind if kind in known else None))


@router.get("/stats/escalations.svg")
def escalations_svg(request: Request, viewer: ViewerDep, kind: str = "") -> Response:
    """The escalations-per-day chart."""
    stats = _numbers(request, viewer).stats
    return _svg(charts.escalations_chart(stats, kind if kind in stats.kinds() else None))
