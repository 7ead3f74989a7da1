"""The review dashboard: server-rendered pages over the engine.

Routes are thin: they find out who is asking, check the CSRF token and the
permission (refusals are recorded by the gate), call the engine or the
accounts, and render a Jinja2 template with autoescape on. The small script
``static/placet.js`` adds keyboard control and live updates; every page also
works without it. Live updates come from the REST API's event streams
(``/api/v1/queue/events``, ``/api/v1/tasks/{id}/events``), which accept the
session cookie; on each event the script re-fetches a server-rendered
fragment (``/queue/rows``, ``/tasks/{id}/main``) or appends draft text.
"""

from __future__ import annotations

from fastapi import APIRouter

from placet.web.pages import (
    admin,
    audit,
    controls,
    examples,
    handlers,
    holds,
    lessons,
    links,
    queue,
    signin,
    stats,
    submit,
    task,
)
from placet.web.pages.common import mount_static, templates

__all__ = ["mount_static", "router", "templates"]

router = APIRouter(include_in_schema=False)
# The order the routes were declared in as one module, so matching is unchanged.
for part in (
    signin,
    queue,
    submit,
    task,
    holds,
    examples,
    audit,
    stats,
    lessons,
    admin,
    handlers,
    controls,
    links,
):
    router.include_router(part.router)
