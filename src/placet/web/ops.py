"""Operations: liveness, readiness, Prometheus metrics and JSON request logs.

These routes need no credentials (probes and scrapers do not sign in) and
reveal nothing about tasks beyond the counts the metrics carry.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Annotated, Any, TextIO

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from placet.domain.queries import TaskFilter
from placet.domain.supervision import PII, SECRETS
from placet.engine.supervising import masked
from placet.errors import PlacetError
from placet.web.api.schemas import HealthOut
from placet.web.services import Services, services

router = APIRouter(tags=["operations"])
Svc = Annotated[Services, Depends(services)]


@router.get("/healthz", response_model=HealthOut, summary="Is the process alive?")
async def healthz() -> HealthOut:
    """Always ok while the process serves requests (it does not touch the database)."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=HealthOut,
    summary="Can the process serve? (the database answers; are notifications getting out?)",
    responses={503: {"model": HealthOut, "description": "The database did not answer."}},
)
def readyz(svc: Svc) -> Any:
    """Ok when the database answers a one-row query; 503 otherwise. ``degraded`` (still
    200: the process serves) while a notification channel has failed for longer than
    ``[channels] alert_after``, naming each such channel."""
    try:
        svc.engine.list_tasks(TaskFilter(limit=1))
    except PlacetError as exc:
        body = HealthOut(status="unavailable", detail=exc.message)
        return JSONResponse(body.model_dump(), status_code=503)
    alerts = svc.channel_alerts()
    if alerts:
        assert svc.channel_watch is not None
        said = "; ".join(svc.channel_watch.said(alert) for alert in alerts)
        return HealthOut(status="degraded", detail=f"notifications are not getting out: {said}")
    return HealthOut(status="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "The Prometheus text format."}},
)
def metrics(svc: Svc) -> Response:
    """Queue depth, decisions, time to decision, drafting latency, tokens, provider errors."""
    return Response(svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)


# -- request logs ---------------------------------------------------------------------

REQUEST_FIELDS = ("method", "path", "status", "ms", "user")
# What the log masks: secrets and personal data. Not links: the server's own loopback
# address is an "internal URL" the log must keep saying.
LOGGED_SCANS = (SECRETS, PII)


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, message, and the request's fields if any.

    JSON escapes control characters, so untrusted text (paths, model output in
    a message) cannot smuggle terminal escape codes or fake lines into the log.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            # Never a secret or personal datum the scanners would flag (issue 17).
            "message": masked(record.getMessage(), LOGGED_SCANS),
        }
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = masked(self.formatException(record.exc_info), LOGGED_SCANS)
        return json.dumps(entry, ensure_ascii=True, default=str)


def configure_request_logs(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send the ``placet.web`` logger's records to ``stream`` (stderr) as JSON lines."""
    logger = logging.getLogger("placet.web")
    for handler in list(logger.handlers):
        if isinstance(handler.formatter, JsonLines):  # configured before: replace it
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
