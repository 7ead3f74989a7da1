"""What every dashboard page shares: who is asking, permission and CSRF checks, rendering."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from placet.domain.controls import Pause
from placet.domain.limits import MAX_NAME, MAX_NOTE, MAX_TEXT
from placet.domain.models import Task
from placet.domain.policy import Permission, Principal
from placet.web import charts, render
from placet.web.auth import CSRF_FIELD, Session, csrf_ok
from placet.web.services import Services, services

WEB_DIR = Path(__file__).resolve().parent.parent  # templates/ and static/ sit in placet/web
STATIC_DIR = WEB_DIR / "static"
SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
NOTICES = {
    "approve": "Approved.",
    "counted": "Your approval is counted; the task waits for the other approvals it needs.",
    "edit": "Approved with your edits; the diff is recorded.",
    "revise": "Sent back for revision with your feedback.",
    "reject": "Rejected.",
    "signed-out": "You are signed out.",
    "submitted": "Submitted; a draft is on its way.",
    "user-added": "User added.",
    "user-disabled": "User disabled.",
    "user-enabled": "User enabled.",
    "sessions-ended": "Signed out everywhere: every session of that user has ended.",
    "token-revoked": "Token revoked.",
    "handlers-retried": "The failed handlers will run again at the worker's next look.",
    "notification-retried": "The notification will be sent again, with the same id.",
    "released": "Let go: it is back in everyone's queue.",
    "handed-over": "Handed over; they now see it as theirs to review.",
    "not-an-example": "Marked not an example: later drafts of its kind are not shown it.",
    "an-example": "An example again: later drafts of its kind may be shown it.",
}


# -- who is asking ----------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page."""

    principal: Principal
    session: Session
    services: Services

    @property
    def name(self) -> str:
        """The user name."""
        return self.principal.name

    @property
    def csrf(self) -> str:
        """The token every form of this session carries."""
        return self.session.csrf

    def can(self, permission: str) -> bool:
        """True when one of the roles grants the permission (by its value)."""
        return self.principal.has(Permission(permission))

    def pauses(self) -> list[Pause]:
        """The pauses in force (the kill switch), for the header on every page."""
        return list(self.services.engine.controls.pauses().values())

    def channel_alerts(self) -> list[str]:
        """Each notification channel failing too long, in words, for the banner on every page."""
        watch = self.services.channel_watch
        if watch is None:
            return []
        return [watch.said(alert) for alert in watch.alerts()]

    def first_kind(self) -> str | None:
        """The kind the Lessons link opens (the first, by name); None with no kinds."""
        return min(self.services.engine.kinds, default=None)

    def roles(self) -> str:
        """The roles, for display."""
        return ", ".join(sorted(role.value for role in self.principal.roles))


class PageError(Exception):
    """An error shown as a page (not JSON): a status, a title and a message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


class SignInRequired(Exception):
    """No valid session: send the browser to the sign-in page, then back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def signed_in(request: Request, found: Annotated[Services, Depends(services)]) -> Viewer:
    """The viewer, or redirect to /login (a FastAPI dependency)."""
    who = found.gate.from_session(request)
    if who is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return Viewer(who[0], who[1], found)


ViewerDep = Annotated[Viewer, Depends(signed_in)]
FormText = Annotated[str, Form()]


def check(
    request: Request, viewer: Viewer, permission: Permission, task: Task | None = None
) -> None:
    try:
        viewer.services.gate.check(request, viewer.principal, permission, task)
    except HTTPException as exc:  # already recorded by the gate
        raise PageError(exc.status_code, "Not allowed", str(exc.detail)) from exc


def check_csrf(request: Request, viewer: Viewer, supplied: str) -> None:
    if csrf_ok(viewer.session, supplied):
        return
    try:
        viewer.services.gate.refuse(
            request, viewer.name, "csrf", 403, "the form's security token is missing or wrong"
        )
    except HTTPException as exc:
        raise PageError(403, "Form expired", CSRF_HELP) from exc


CSRF_HELP = "The form's security token is missing or wrong. Reload the page and try again."


# -- rendering ----------------------------------------------------------------------------


def _static_versions() -> dict[str, str]:
    # A content hash in each asset URL lets browsers cache them until they change.
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in STATIC_DIR.iterdir()
        if path.is_file()
    }


_VERSIONS = _static_versions()
templates = Environment(
    loader=FileSystemLoader(WEB_DIR / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals.update(
    static=lambda name: f"/static/{name}?v={_VERSIONS.get(name, '0')}",
    csrf_field=CSRF_FIELD,
    when=render.when,
    iso=render.iso,
    ago=render.ago,
    duration=render.duration,
    short_id=render.short_id,
    markdown=render.markdown_html,
    input_value=render.input_value,
    summary=render.summary,
    status_label=render.status_label,
    verdict_labels=charts.VERDICT_LABELS,
    # The API's field limits, for the forms' maxlength (the routes check them too).
    limits={"text": MAX_TEXT, "note": MAX_NOTE, "name": MAX_NAME},
)


def page(template: str, viewer: Viewer | None, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with the viewer and the common context."""
    context.setdefault("notice", None)
    context.setdefault("error", None)
    html = templates.get_template(template).render(viewer=viewer, **context)
    response = HTMLResponse(html, status)
    response.headers["Cache-Control"] = "no-store"  # pages carry the CSRF token
    return response


def fragment(template: str, viewer: Viewer, **context: Any) -> HTMLResponse:
    """A piece of a page for the script to swap in; marked so it can tell it from a redirect."""
    response = page(template, viewer, **context)
    response.headers["X-Placet-Fragment"] = "1"
    return response


def notice_for(done: str, task_id: str = "") -> str | None:
    text = NOTICES.get(done)
    if text and task_id and SAFE_ID.match(task_id):
        return f"Task {render.short_id(task_id)}: {text}"
    return text


def mount_static(app: FastAPI) -> None:
    """Serve the dashboard's own script and styles, and show page errors as pages."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return page("error.html", None, exc.status, title=exc.title, message=exc.message)

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", 303)

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(SignInRequired, sign_in_required)
