"""The REST API, ``/api/v1``: tasks, decisions, live streams, tokens, users and handlers.

The rooms: ``tasks`` (submit, list, read, decide, cancel), ``examples``
(is an approved task an example; marking it "not an example"), ``live``
(Server-Sent Events), ``accounts`` (tokens and users), ``handlers`` (how
outcome handlers fared, and retrying them), ``notifications`` (what the
channels were told, and sending again), ``controls`` (the kill switch),
``common`` (who is asking, the documented errors), ``schemas`` (the request and response bodies) and
``docs`` (the interactive docs at /docs, served from this machine).
"""

from fastapi import APIRouter

from placet.web.api import (
    accounts,
    callbacks,
    controls,
    docs,
    examples,
    handlers,
    lessons,
    live,
    notifications,
    tasks,
)

router = APIRouter(prefix="/api/v1")
# In this order in the OpenAPI document.
for part in (tasks, examples, live, accounts, handlers, notifications, controls, lessons):
    router.include_router(part.router)
router.include_router(callbacks.router)  # inbound callback URLs (issue 19)

__all__ = ["docs", "router"]
