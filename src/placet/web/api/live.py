"""The REST API's live streams (Server-Sent Events): a task as it is drafted, the queue."""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from placet.domain.policy import Permission
from placet.web.api.common import Caller, Svc, TaskId, errors, visible_task
from placet.web.broker import Feed, queue_feed, task_feed
from placet.web.counts import MIN_AGE_SECONDS

PING_SECONDS = 15.0  # keep-alive comments, so proxies do not close a quiet stream
# At most four queue updates a second per stream; no shorter than the counts'
# minimum age, so a stream woken by a commit reads counts taken after it.
QUEUE_EVENT_SECONDS = MIN_AGE_SECONDS

router = APIRouter()

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
    drop the text so far (its ``text`` says why, when known: "writing candidate 2 of
    3", "keeping candidate 1 of 3"). The stream ends after a final status.
    """
    await run_in_threadpool(visible_task, request, svc, who, task_id)  # else 404, as missing
    closing = anyio.Event()
    return _stream(task_feed(svc.broker, svc.engine, task_id, closing), closing)


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
