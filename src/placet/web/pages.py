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

import contextlib
import hashlib
import hmac
import itertools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from placet.auditing import verify_store
from placet.domain.models import DecisionKind, Task, TaskDetail, TaskStatus
from placet.domain.policy import Permission, Principal, Role, may
from placet.domain.prompts import template_inputs
from placet.engine import DecisionRequest
from placet.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PlacetError,
    UsageError,
)
from placet.store.base import TaskFilter
from placet.web import charts, render
from placet.web.auth import CSRF_FIELD, Session, csrf_ok, remote_address
from placet.web.services import Services, services

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
LOGIN_COOKIE = "placet_login"
PAGE_SIZE = 50
MAX_SCAN = 1000  # tasks looked at to fill one page of "what awaits me"
AUDIT_TASKS = 500  # newest tasks whose chains /audit verifies unless asked for all
_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
NOTICES = {
    "approve": "Approved.",
    "edit": "Approved with your edits; the diff is recorded.",
    "revise": "Sent back for revision with your feedback.",
    "reject": "Rejected.",
    "signed-out": "You are signed out.",
    "submitted": "Submitted; a draft is on its way.",
    "user-added": "User added.",
    "user-disabled": "User disabled.",
    "user-enabled": "User enabled.",
    "token-revoked": "Token revoked.",
}

router = APIRouter(include_in_schema=False)


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


def _check(
    request: Request, viewer: Viewer, permission: Permission, task: Task | None = None
) -> None:
    try:
        viewer.services.gate.check(request, viewer.principal, permission, task)
    except HTTPException as exc:  # already recorded by the gate
        raise PageError(exc.status_code, "Not allowed", str(exc.detail)) from exc


def _check_csrf(request: Request, viewer: Viewer, supplied: str) -> None:
    if csrf_ok(viewer.session, supplied):
        return
    try:
        viewer.services.gate.refuse(
            request, viewer.name, "csrf", 403, "the form's security token is missing or wrong"
        )
    except HTTPException as exc:
        raise PageError(403, "Form expired", _CSRF_HELP) from exc


_CSRF_HELP = "The form's security token is missing or wrong. Reload the page and try again."


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
    loader=FileSystemLoader(HERE / "templates"),
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


def _notice(done: str, task_id: str = "") -> str | None:
    text = NOTICES.get(done)
    if text and task_id and _ID.match(task_id):
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


# -- sign in and out ---------------------------------------------------------------------


def _safe_next(target: str) -> str:
    # Only a path on this site: "//evil.example" or "/\\evil" would leave it, and
    # browsers drop tabs and newlines, so "/\t/evil.example" would too.
    plain = target.isprintable() and not any(char.isspace() for char in target)
    if plain and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(
    next_url: str,
    status: int = 200,
    error: str | None = None,
    name: str = "",
    notice: str | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        "login.html",
        None,
        status,
        title="Sign in",
        next_url=_safe_next(next_url),
        login_token=token,
        name=name,
        error=error,
        notice=notice,
    )
    # Signing in has no session yet, so its form is guarded by a double-submit cookie.
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/login"
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Form realm="Placet"'
    return response


@router.get("/login")
def login_form(next: str = "/", done: str = "") -> HTMLResponse:
    """The sign-in form."""
    return _login_page(next, notice=_notice(done))


@router.post("/login")
def login(
    request: Request,
    found: Annotated[Services, Depends(services)],
    name: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next: FormText = "/",
) -> Response:
    """Check the name and password (rate-limited) and start a session."""
    address = remote_address(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not (expected and csrf_token and hmac.compare_digest(expected, csrf_token)):
        found.accounts.record(
            name or "?",
            "sign_in",
            "refused",
            "/login",
            "the sign-in form's token is missing or wrong",
            address,
        )
        raise PageError(403, "Form expired", _CSRF_HELP)
    keys = (f"name:{name}", f"address:{address}")
    if found.limiter.blocked(*keys):
        found.accounts.record(
            name, "sign_in", "refused", "/login", "too many failed sign-ins", address
        )
        message = "Too many failed sign-ins. Wait a few minutes, then try again."
        return _login_page(next, 429, message, name)
    principal = found.accounts.authenticate(name, password)
    if principal is None:
        found.limiter.failed(*keys)
        found.accounts.record(
            name, "sign_in", "failed", "/login", "wrong name or password", address
        )
        return _login_page(next, 401, "Wrong name or password.", name)
    found.limiter.succeeded(keys[0])  # the address keeps its count: one account is not a pass
    found.accounts.record(name, "sign_in", "allowed", "/login", None, address)
    response = RedirectResponse(_safe_next(next), 303)
    found.sessions.start(response, principal.name)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, viewer: ViewerDep, csrf_token: FormText = "") -> Response:
    """End the session."""
    _check_csrf(request, viewer, csrf_token)
    response = RedirectResponse("/login?done=signed-out", 303)
    viewer.services.sessions.end(response)
    return response


# -- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueQuery:
    """What the queue page shows: status, kind, order, and where the page starts."""

    status: TaskStatus | None = TaskStatus.AWAITING_REVIEW
    kind: str | None = None
    newest: bool = False
    after: str | None = None

    @classmethod
    def parse(cls, status: str, kind: str, sort: str, after: str, kinds: list[str]) -> QueueQuery:
        """Read the query string; unknown values fall back to the defaults, never an error."""
        chosen: TaskStatus | None = TaskStatus.AWAITING_REVIEW
        if status == "all":
            chosen = None
        elif status in {s.value for s in TaskStatus}:
            chosen = TaskStatus(status)
        return cls(
            chosen,
            kind if kind in kinds else None,
            sort == "newest",
            after if _ID.match(after) else None,
        )

    def params(self, **changes: Any) -> str:
        """The query string for this view, with some values changed."""
        values = {
            "status": self.status.value if self.status else "all",
            "kind": self.kind or "",
            "sort": "newest" if self.newest else "oldest",
            "after": self.after or "",
        }
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value})


@dataclass
class QueuePage:
    """One page of the queue."""

    rows: list[Task] = field(default_factory=list)
    next_after: str | None = None
    skipped: int = 0  # awaiting tasks hidden because this viewer may not decide them


def _keep_rule(viewer: Viewer, query: QueueQuery) -> Callable[[Task], bool] | None:
    principal = viewer.principal
    if not principal.has(Permission.VIEW_QUEUE):
        return lambda task: task.requester == principal.name  # a requester sees their own
    if query.status is TaskStatus.AWAITING_REVIEW and principal.has(Permission.DECIDE):
        return lambda task: may(principal, Permission.DECIDE, task).allowed
    return None


def load_queue(viewer: Viewer, query: QueueQuery) -> QueuePage:
    """Fill one page, skipping tasks this viewer should not see here."""
    keep = _keep_rule(viewer, query)
    result, after, scanned = QueuePage(), query.after, 0
    while scanned < MAX_SCAN:
        batch = viewer.services.engine.list_tasks(
            TaskFilter(
                statuses=(query.status,) if query.status else (),
                after_id=after,
                kinds=(query.kind,) if query.kind else (),
                newest_first=query.newest,
                limit=PAGE_SIZE + 1 if keep is None else 200,
            )
        )
        for task in batch:
            scanned += 1
            if len(result.rows) == PAGE_SIZE:
                result.next_after = result.rows[-1].id
                return result
            if keep is None or keep(task):
                result.rows.append(task)
            else:
                result.skipped += 1
        if len(batch) < (PAGE_SIZE + 1 if keep is None else 200):
            return result
        after = batch[-1].id
    result.next_after = after
    return result


def _counts(viewer: Viewer) -> dict[str, Any]:
    raw = viewer.services.counts()  # shared, may be a second or two old: see web/counts.py
    kinds = sorted({kind for kind, _ in raw} | set(viewer.services.engine.settings.kinds))
    by_status = {
        status.value: sum(n for (_, s), n in raw.items() if s is status) for status in TaskStatus
    }
    return {
        "kinds": kinds,
        "cells": {(k, s.value): n for (k, s), n in raw.items()},
        "by_status": by_status,
        "statuses": [s.value for s in TaskStatus],
    }


def _queue_context(viewer: Viewer, status: str, kind: str, sort: str, after: str) -> dict[str, Any]:
    kinds = sorted(viewer.services.engine.settings.kinds)
    if not status and not viewer.can("view_queue"):
        status = "all"  # a requester follows their own tasks in every state
    query = QueueQuery.parse(status, kind, sort, after, kinds)
    counts = _counts(viewer) if viewer.can("view_queue") else None
    decides = viewer.principal
    return {
        "query": query,
        "queue": load_queue(viewer, query),
        "counts": counts,
        "kinds": kinds,
        "page": "queue",
        "may_decide": lambda task: may(decides, Permission.DECIDE, task).allowed,
    }


@router.get("/")
def queue_page(
    viewer: ViewerDep,
    status: str = "",
    kind: str = "",
    sort: str = "",
    after: str = "",
    done: str = "",
    task: str = "",
) -> HTMLResponse:
    """What awaits me, with filters and counts; live through the script."""
    context = _queue_context(viewer, status, kind, sort, after)
    return page("queue.html", viewer, title="Queue", notice=_notice(done, task), **context)


@router.get("/queue/rows")
def queue_rows(
    viewer: ViewerDep, status: str = "", kind: str = "", sort: str = "", after: str = ""
) -> HTMLResponse:
    """The live part of the queue page, for the script to swap in."""
    return fragment("_queue_live.html", viewer, **_queue_context(viewer, status, kind, sort, after))


# -- submitting -------------------------------------------------------------------------------


def _submit_context(viewer: Viewer) -> dict[str, Any]:
    kinds = viewer.services.engine.settings.kinds.values()
    return {
        "kinds": [(kind, template_inputs(kind.template)) for kind in kinds],
        "idempotency": secrets.token_urlsafe(16),
        "page": "submit",
    }


@router.get("/submit")
def submit_form(request: Request, viewer: ViewerDep) -> HTMLResponse:
    """A form per kind, one field per input the kind's template needs."""
    _check(request, viewer, Permission.SUBMIT)
    return page("submit.html", viewer, title="New task", values={}, **_submit_context(viewer))


@router.post("/submit")
async def submit(request: Request, viewer: ViewerDep) -> Response:
    """Queue a task from the form; a repeated post with the same form key gives the same task."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_submit, request, viewer, fields)


def _submit(request: Request, viewer: Viewer, fields: dict[str, str]) -> Response:
    _check_csrf(request, viewer, fields.get(CSRF_FIELD, ""))
    _check(request, viewer, Permission.SUBMIT)
    values = {key[6:]: value for key, value in fields.items() if key.startswith("input:")}
    key = fields.get("idempotency", "")
    try:
        task = viewer.services.engine.submit(
            fields.get("kind", ""),
            values,
            viewer.name,
            idempotency_key=f"web:{viewer.name}:{key}" if _ID.match(key) else None,
        )
    except UsageError as exc:
        chosen = fields.get("kind", "")
        return page(
            "submit.html",
            viewer,
            422,
            title="New task",
            error=exc.message,
            chosen=chosen,
            values=values,
            **_submit_context(viewer),
        )
    return RedirectResponse(f"/tasks/{task.id}?done=submitted", 303)


# -- one task ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionForm:
    """What a decision form posted, checked before it reaches the engine."""

    verdict: str = ""
    draft_id: str = ""
    version: str = ""
    text: str = ""
    feedback: str = ""
    reason: str = ""

    def problem(self) -> str | None:
        """What is wrong with the form, in words, or None."""
        if self.verdict not in {kind.value for kind in DecisionKind}:
            return "Choose approve, edit, revise or reject."
        if not _ID.match(self.draft_id) or not self.version.isdigit():
            return "The form does not name the draft and version you saw; reload the page."
        needed = {
            "edit": (self.text, "the edited text"),
            "revise": (self.feedback, "feedback"),
            "reject": (self.reason, "a reason"),
        }.get(self.verdict)
        if needed and not needed[0].strip():
            return f"Give {needed[1]} to {self.verdict}."
        return None

    def request(self, task_id: str, principal: Principal) -> DecisionRequest:
        """The engine's decision request."""
        role = Role.REVIEWER if Role.REVIEWER in principal.roles else Role.ADMIN
        return DecisionRequest(
            task_id,
            DecisionKind(self.verdict),
            principal.name,
            self.draft_id,
            int(self.version),
            self.text or None,
            self.feedback or None,
            self.reason or None,
            role.value,
        )


def _detail(request: Request, viewer: Viewer, task_id: str) -> TaskDetail:
    try:
        detail = viewer.services.engine.detail(task_id)
    except NotFoundError as exc:
        raise PageError(404, "No such task", f"There is no task with id {task_id}.") from exc
    _check(request, viewer, Permission.VIEW_TASK, detail.task)
    return detail


def _next_task(viewer: Viewer, after_task: str) -> Task | None:
    waiting = load_queue(viewer, QueueQuery())
    return next((task for task in waiting.rows if task.id != after_task), None)


def _earlier(detail: TaskDetail) -> list[dict[str, Any]]:
    drafts = detail.drafts
    steps = []
    for before, after in itertools.pairwise(drafts):
        rows = render.side_by_side(before.output, after.output)
        steps.append(
            {"before": before, "after": after, "rows": rows, "stats": render.diff_stats(rows)}
        )
    return steps[::-1]  # newest change first


def _task_context(
    viewer: Viewer, detail: TaskDetail, form: DecisionForm | None = None, error: str | None = None
) -> dict[str, Any]:
    task = detail.task
    verdict = may(viewer.principal, Permission.DECIDE, task)
    drafts = {draft.id: draft for draft in detail.drafts}
    edits = {
        d.id: render.side_by_side(drafts[d.draft_id].output, d.text or "")
        for d in detail.decisions
        if d.text is not None and d.draft_id in drafts
    }
    upcoming = _next_task(viewer, task.id) if viewer.can("decide") else None
    return {
        "task": task,
        "detail": detail,
        "draft": detail.current_draft,
        "earlier": _earlier(detail),
        "edits": edits,
        "form": form or DecisionForm(),
        "error": error,
        "page": "task",
        "awaiting": task.status is TaskStatus.AWAITING_REVIEW,
        "live": task.status in (TaskStatus.QUEUED, TaskStatus.DRAFTING),
        "can_decide": verdict.allowed and viewer.can("decide"),
        "refusal": None if verdict.allowed else verdict.reason,
        "next_task": upcoming,
        "failure": _failure(detail),
    }


def _failure(detail: TaskDetail) -> str | None:
    """Why drafting failed, when that is where the task stands."""
    if detail.task.status is not TaskStatus.FAILED:
        return None
    failed = [event for event in detail.events if event.type == "fail"]
    return str(failed[-1].payload.get("error", "")) if failed else ""


@router.get("/tasks/{task_id}")
def task_page(
    request: Request, task_id: str, viewer: ViewerDep, done: str = "", task: str = ""
) -> HTMLResponse:
    """The input, the current draft, earlier drafts with diffs, the history and the actions."""
    detail = _detail(request, viewer, task_id)
    return page(
        "task.html",
        viewer,
        title=f"Task {render.short_id(task_id)}",
        notice=_notice(done, task),
        **_task_context(viewer, detail),
    )


@router.get("/tasks/{task_id}/main")
def task_main(request: Request, task_id: str, viewer: ViewerDep) -> HTMLResponse:
    """The task page's main part, for the script to swap in when the task changes."""
    detail = _detail(request, viewer, task_id)
    return fragment("_task_main.html", viewer, **_task_context(viewer, detail))


@router.post("/tasks/{task_id}/decide")
def decide(
    request: Request,
    task_id: str,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    verdict: FormText = "",
    draft_id: FormText = "",
    version: FormText = "",
    text: FormText = "",
    feedback: FormText = "",
    reason: FormText = "",
) -> Response:
    """Approve, edit, revise or reject the draft the form was showing, then go to the next task."""
    _check_csrf(request, viewer, csrf_token)
    detail = _detail(request, viewer, task_id)
    _check(request, viewer, Permission.DECIDE, detail.task)
    form = DecisionForm(verdict, draft_id, version, text, feedback, reason)
    problem = form.problem()
    status = 422
    if problem is None:
        try:
            viewer.services.engine.decide(form.request(task_id, viewer.principal))
            _count_decision(viewer.services, task_id, form.draft_id)
            return RedirectResponse(_after_decision(viewer, task_id, verdict), 303)
        except ConflictError as exc:
            problem, status = exc.message, 409
        except InvalidInputError as exc:
            problem = exc.message
    detail = viewer.services.engine.detail(task_id)
    return page(
        "task.html",
        viewer,
        status,
        title=f"Task {render.short_id(task_id)}",
        **_task_context(viewer, detail, form, problem),
    )


def _count_decision(svc: Services, task_id: str, draft_id: str) -> None:
    # As the API does: the decision is committed, so a failed metrics read is not an error.
    with contextlib.suppress(PlacetError):
        svc.metrics.decided(svc.engine.detail(task_id), draft_id)


def _after_decision(viewer: Viewer, task_id: str, verdict: str) -> str:
    upcoming = _next_task(viewer, task_id)
    done = urlencode({"done": verdict, "task": task_id})
    return f"/tasks/{upcoming.id}?{done}" if upcoming else f"/?{done}"


# -- audit and stats ------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request, viewer: ViewerDep, person: str = "", scope: str = ""
) -> HTMLResponse:
    """Verify the hash chains and list who did what, filterable by person."""
    _check(request, viewer, Permission.VIEW_QUEUE)
    store = viewer.services.engine.store
    newest = store.list_tasks(TaskFilter(limit=AUDIT_TASKS, newest_first=True))
    report = verify_store(store, None if scope == "all" else [t.id for t in newest])
    person = person.strip()[:200]
    events = [
        (task, event)
        for task in newest[:200]
        for event in store.events(task.id)
        if not person or event.actor == person
    ]
    events.sort(key=lambda pair: (pair[1].created_at, pair[1].seq), reverse=True)
    return page(
        "audit.html",
        viewer,
        title="Audit",
        page="audit",
        report=report,
        person=person,
        scope=scope,
        events=events[:200],
        people=viewer.services.accounts.users(),
        security=viewer.services.accounts.security_events(person or None),
    )


@router.get("/stats")
def stats_page(request: Request, viewer: ViewerDep, kind: str = "") -> HTMLResponse:
    """Decisions per kind over time and time to decision, as charts and a table."""
    _check(request, viewer, Permission.VIEW_QUEUE)
    stats = charts.collect_stats(viewer.services.engine.store)
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
    _check(request, viewer, Permission.VIEW_QUEUE)
    stats = charts.collect_stats(viewer.services.engine.store)
    return _svg(charts.decisions_chart(stats, kind if kind in stats.kinds() else None))


@router.get("/stats/waits.svg")
def waits_svg(request: Request, viewer: ViewerDep) -> Response:
    """The time-to-decision chart."""
    _check(request, viewer, Permission.VIEW_QUEUE)
    return _svg(charts.waits_chart(charts.collect_stats(viewer.services.engine.store)))


# -- users and tokens -------------------------------------------------------------------------


def _users_page(viewer: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    accounts = viewer.services.accounts
    return page(
        "users.html",
        viewer,
        status,
        title="Users",
        page="users",
        users=accounts.users(),
        tokens=accounts.tokens(),
        roles=[r.value for r in Role],
        **context,
    )


@router.get("/admin/users")
def users_page(request: Request, viewer: ViewerDep, done: str = "") -> HTMLResponse:
    """Every account and every token."""
    _check(request, viewer, Permission.MANAGE_USERS)
    return _users_page(viewer, notice=_notice(done))


@router.post("/admin/users")
def add_user(
    request: Request,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    name: FormText = "",
    password: FormText = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create an account."""
    _check_csrf(request, viewer, csrf_token)
    _check(request, viewer, Permission.MANAGE_USERS)
    try:
        viewer.services.accounts.add_user(name.strip(), password, roles or [])
    except UsageError as exc:
        status = 409 if isinstance(exc, ConflictError) else 422
        return _users_page(viewer, status, error=exc.message, new_name=name)
    _record(request, viewer, "add_user", name, ",".join(sorted(roles or [])))
    return RedirectResponse("/admin/users?done=user-added", 303)


@router.post("/admin/users/{name}/disable")
def disable_user(
    request: Request,
    name: str,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    disabled: FormText = "1",
) -> Response:
    """Disable (or, with disabled=0, enable) an account."""
    _check_csrf(request, viewer, csrf_token)
    _check(request, viewer, Permission.MANAGE_USERS)
    off = disabled != "0"
    if off and name == viewer.name:
        return _users_page(viewer, 422, error="You cannot disable your own account.")
    try:
        viewer.services.accounts.set_disabled(name, off)
    except NotFoundError as exc:
        raise PageError(404, "No such user", exc.message) from exc
    _record(request, viewer, "disable_user" if off else "enable_user", name)
    return RedirectResponse(f"/admin/users?done=user-{'disabled' if off else 'enabled'}", 303)


def _record(request: Request, viewer: Viewer, action: str, target: str, detail: str = "") -> None:
    viewer.services.accounts.record(
        viewer.name, action, "allowed", target, detail or None, remote_address(request)
    )


def _tokens_page(viewer: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    tokens = viewer.services.accounts.tokens(viewer.name)
    return page(
        "tokens.html", viewer, status, title="API tokens", page="tokens", tokens=tokens, **context
    )


@router.get("/tokens")
def tokens_page(request: Request, viewer: ViewerDep, done: str = "") -> HTMLResponse:
    """My API tokens."""
    _check(request, viewer, Permission.MANAGE_OWN_TOKENS)
    return _tokens_page(viewer, notice=_notice(done))


@router.post("/tokens")
def create_token(
    request: Request,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    label: FormText = "",
    user: FormText = "",
) -> Response:
    """Create a token (an admin may create one for anyone); the secret is shown once."""
    _check_csrf(request, viewer, csrf_token)
    owner = user.strip() or viewer.name
    permission = Permission.MANAGE_OWN_TOKENS if owner == viewer.name else Permission.MANAGE_USERS
    _check(request, viewer, permission)
    try:
        secret, token = viewer.services.accounts.create_token(owner, label[:200])
    except NotFoundError as exc:
        raise PageError(404, "No such user", exc.message) from exc
    _record(request, viewer, "create_token", owner, token.id)
    if owner != viewer.name:
        return _users_page(viewer, secret=secret, secret_token=token)
    return _tokens_page(viewer, secret=secret, secret_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    token_id: str,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    back: FormText = "",
) -> Response:
    """Revoke a token: your own, or anyone's if you manage users."""
    _check_csrf(request, viewer, csrf_token)
    _check(request, viewer, Permission.MANAGE_OWN_TOKENS)
    admin = viewer.can("manage_users")
    try:
        viewer.services.accounts.revoke_token(token_id, None if admin else viewer.name)
    except NotFoundError as exc:
        raise PageError(404, "No such token", "You have no token with that id.") from exc
    _record(request, viewer, "revoke_token", token_id)
    target = "/admin/users" if back == "users" and admin else "/tokens"
    return RedirectResponse(f"{target}?done=token-revoked", 303)
