"""``POST /slack/interactions``: where Slack sends button clicks and modal submissions.

Thin: the raw body and headers go to ``channels.slack_interactions``, which
checks Slack's signature and timestamp, maps the person and decides through the
engine. Without ``[channels.slack]`` the route answers 404.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from placet.channels.slack_interactions import SlackInteractions
from placet.web.api.common import Svc

log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/slack/interactions", include_in_schema=False)
async def interactions(request: Request, svc: Svc) -> Response:
    """Answer one Slack interactivity request (Slack waits three seconds at most)."""
    slack = svc.engine.settings.channels.slack
    if slack is None:
        raise HTTPException(404, "Slack is not configured here: add [channels.slack]")
    body = await request.body()
    handler = SlackInteractions(svc.engine, slack)
    answer = await run_in_threadpool(handler.handle, body, dict(request.headers))
    if answer.error is not None:
        log.warning("Slack interaction refused: %s", answer.error)
        return JSONResponse({"detail": answer.error}, status_code=answer.status)
    if answer.body is not None:
        return JSONResponse(answer.body, status_code=answer.status)
    return Response(status_code=answer.status)
