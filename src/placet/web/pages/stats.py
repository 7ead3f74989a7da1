"""Decision statistics, as charts and a table."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from placet.domain.policy import Permission
from placet.web import charts
from placet.web.pages.common import ViewerDep, check, page

router = APIRouter()


@router.get("/stats")
def stats_page(request: Request, viewer: ViewerDep, kind: str = "") -> HTMLResponse:
    """Decisions per kind over time and time to decision, as charts and a table."""
    check(request, viewer, Permission.VIEW_QUEUE)
    stats = charts.collect_stats(viewer.services.engine)
    kinds = stats.kinds()
    chosen = kind if kind in kinds else ""
    return page(
        "stats.html",
        viewer,
        title="Stats",
        page="stats",
        stats=stats,
        kinds=kinds,
        chosen=chosen,
        chart_query=urlencode({"kind": chosen}) if chosen else "",
        scan_limit=charts.SCAN_LIMIT,
    )


def _svg(body: bytes) -> Response:
    headers = {
        "Content-Security-Policy": charts.SVG_CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-store",
    }
    return Response(body, media_type="image/svg+xml", headers=headers)


@router.get("/stats/decisions.svg")
def decisions_svg(request: Request, viewer: ViewerDep, kind: str = "") -> Response:
    """The decisions-per-day chart."""
    check(request, viewer, Permission.VIEW_QUEUE)
    stats = charts.collect_stats(viewer.services.engine)
    return _svg(charts.decisions_chart(stats, kind if kind in stats.kinds() else None))


@router.get("/stats/waits.svg")
def waits_svg(request: Request, viewer: ViewerDep) -> Response:
    """The time-to-decision chart."""
    check(request, viewer, Permission.VIEW_QUEUE)
    return _svg(charts.waits_chart(charts.collect_stats(viewer.services.engine)))
