"""One task: its drafts, diffs and history, and the decision form."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from placet.channels.notices import retry_notification, task_notifications
from placet.domain import examples, lessons, routing, supervision
from placet.domain.deliveries import DeliveryStatus
from placet.domain.executions import UNFINISHED_ADVICE, execution_of
from placet.domain.limits import MAX_NAME, MAX_NOTE, MAX_TEXT, MAX_VERSION, too_long
from placet.domain.models import DecisionKind, JsonObject, Task, TaskDetail, TaskStatus
from placet.domain.policy import Permission, Principal, WayForward, may
from placet.domain.typed import MAX_CHOICES
from placet.domain.typed import is_typed as typed_kind
from placet.engine import DecisionRequest
from placet.engine.pipelines import chain_in
from placet.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PlacetError,
)
from placet.handlers.admin import (
    handlers_to_run,
    nothing_to_retry,
    retry_failed,
    task_deliveries,
)
from placet.web import render
from placet.web.pages.common import (
    SAFE_ID,
    FormText,
    PageError,
    Viewer,
    ViewerDep,
    check,
    check_csrf,
    fragment,
    notice_for,
    page,
)
from placet.web.pages.queue import QueueQuery, load_queue
from placet.web.pages.typed_form import (
    asked_form,
    choice_context,
    field_changes,
    object_form,
    object_from_form,
    object_from_schema,
)
from placet.web.services import Services

router = APIRouter()
FAILED_HANDLERS_PAGE = "/admin/handlers"


@dataclass(frozen=True)
class DecisionForm:
    """What a decision form posted; the engine checks who decides and what a verdict needs."""

    verdict: str = ""
    draft_id: str = ""
    version: str = ""
    text: str = ""
    feedback: str = ""
    reason: str = ""
    choice: tuple[str, ...] = ()  # for a kind with choices (web/pages/typed_form.py)
    fields: tuple[tuple[str, str], ...] = ()  # an object's form, by field (typed_form.py)
    asked: tuple[tuple[str, str], ...] = ()  # the kind's decision_fields, as typed

    def problem(self) -> str | None:
        """What keeps the form from being read as a request at all, in words, or None.

        The fields are held to the REST API's limits (``placet.domain.limits``).
        """
        if self.verdict not in {kind.value for kind in DecisionKind}:
            return "Choose approve, edit, revise or reject."
        if not SAFE_ID.match(self.draft_id) or not _version_in_range(self.version):
            return "The form does not name the draft and version you saw; reload the page."
        return (
            too_long("edited text", self.text, MAX_TEXT)
            or too_long("feedback", self.feedback, MAX_NOTE)
            or too_long("reason", self.reason, MAX_NOTE)
            or next((too_long("choice", c, MAX_NAME) for c in self.choice[:MAX_CHOICES]), None)
        )

    def request(self, task_id: str, principal: Principal) -> DecisionRequest:
        """The engine's decision request."""
        return DecisionRequest(
            task_id,
            DecisionKind(self.verdict),
            principal,
            self.draft_id,
            int(self.version),
            self.text or None,
            self.feedback or None,
            self.reason or None,
            self.choice[:MAX_CHOICES] or None,
        )


def _with_object(
    viewer: Viewer, detail: TaskDetail, form: DecisionForm, names: list[str], values: list[str]
) -> DecisionForm:
    """The form with the object its fields make as the edited text (the engine checks it
    against the kind's schema, as it does an edit from any channel)."""
    kind = viewer.services.engine.kind(detail.task.kind)
    value = object_from_form(kind, names, values)
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_TEXT:
        raise InvalidInputError(f"the edited object is longer than {MAX_TEXT} characters")
    return dataclasses.replace(form, text=text)


def _read_typed(
    viewer: Viewer,
    detail: TaskDetail,
    form: DecisionForm,
    field_names: list[str] | None,
    field_values: list[str],
    asked_names: list[str] | None,
    asked_values: list[str],
) -> tuple[DecisionForm, JsonObject | None]:
    """The form with its object's fields made into the edited text, and the values of the
    kind's decision_fields, each read by type (InvalidInputError names one that is not)."""
    if field_names is not None:  # an object's form
        form = _with_object(viewer, detail, form, field_names, field_values)
    given = None
    if asked_names is not None:
        given = _asked_values(viewer, detail, asked_names, asked_values)
    return form, given


def _asked_values(
    viewer: Viewer, detail: TaskDetail, names: list[str], values: list[str]
) -> JsonObject | None:
    """The values a form gave for the kind's decision_fields, read by type (the engine checks
    them against the kind's schema); None when the kind asks for none."""
    kind = viewer.services.engine.kind(detail.task.kind)
    if kind.decision_fields is None:
        return None
    return object_from_schema(kind.decision_fields, kind.name, names, values)


def as_typed(value: str) -> str:
    """A textarea's text with the line breaks it was shown with.

    A browser sends every line break of a textarea as CR LF (the HTML standard), so
    an edit of a draft with ``\n`` lines would otherwise approve other bytes than the
    reviewer saw, and record every line as changed.
    """
    return value.replace("\r\n", "\n")


def _version_in_range(version: str) -> bool:
    return version.isascii() and version.isdigit() and 1 <= int(version) <= MAX_VERSION


def visible_detail(request: Request, viewer: Viewer, task_id: str) -> TaskDetail:
    """The task's detail; someone else's task you may not see is missing to you (404)."""
    missing = PageError(404, "No such task", f"There is no task with id {task_id}.")
    try:
        detail = viewer.services.engine.detail(task_id)
    except NotFoundError as exc:
        raise missing from exc
    if not viewer.services.gate.may_see(request, viewer.principal, detail.task):
        raise missing  # recorded by the gate
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
    verdict = viewer.services.engine.may_decide(viewer.principal, task)
    instead = None if verdict.allowed else _way_forward(viewer, task)
    drafts = {draft.id: draft for draft in detail.drafts}
    edits = {
        d.id: render.side_by_side(drafts[d.draft_id].output, d.text or "")
        for d in detail.decisions
        if d.text is not None and d.draft_id in drafts
    }
    upcoming = _next_task(viewer, task.id) if viewer.can("decide") else None
    deliveries = task_deliveries(viewer.services.engine, task.id)
    notifications = task_notifications(viewer.services.engine, task.id)
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
        "approvals": viewer.services.engine.approvals(task),
        "timers": viewer.services.engine.timers_of(task),
        **_hold_context(viewer, task),
        **_examples_context(viewer, detail),
        "reading": supervision.reading_for(detail.events, task.current_draft_id),
        "route": _route_text(viewer, task),
        "segments": supervision.segments,
        "high_risk": supervision.HIGH_RISK,
        "live": task.status in (TaskStatus.QUEUED, TaskStatus.DRAFTING),
        "can_decide": verdict.allowed and viewer.can("decide"),
        "refusal": None if instead is None else f"{verdict.reason}; {instead.text}",
        "add_reviewer": instead is not None and instead.add_reviewer,
        "next_task": upcoming,
        "failure": _failure(detail),
        "execution": execution_of(detail.events),
        "unfinished_advice": UNFINISHED_ADVICE,
        "deliveries": deliveries,
        # The page looks again while a handler is still to run (its stream has ended), or a
        # notification has yet to be tried for the first time.
        "handlers_running": handlers_to_run(viewer.services.engine, detail, deliveries)
        or any(n.status is DeliveryStatus.PENDING and not n.attempts for n in notifications),
        "notifications": notifications,
        "chain": chain_in(viewer.services.engine, detail, viewer.principal),
        "can_retry_handlers": may(viewer.principal, Permission.RETRY_HANDLERS, task).allowed,
        **_learning_context(viewer, detail),
        **_typed_context(viewer, detail, form),
    }


def _typed_context(viewer: Viewer, detail: TaskDetail, form: DecisionForm | None) -> dict[str, Any]:
    """A typed kind's part of the page: its choices, or its object's form and the fields
    each edit changed."""
    kind = viewer.services.engine.kinds.get(detail.task.kind)
    draft = detail.current_draft
    approvals = viewer.services.engine.approvals(detail.task)
    shown = approvals.text if approvals is not None else (draft.output if draft else None)
    posted = form.fields if form is not None and form.verdict == "edit" else ()
    drafts = {d.id: d.output for d in detail.drafts}
    return {
        **choice_context(kind, draft),
        "object_fields": object_form(kind, shown, posted),
        "asked_fields": asked_form(kind, form.asked if form is not None else ()),
        "field_changes": {
            d.id: field_changes(drafts[d.draft_id], d.text)
            for d in detail.decisions
            if d.text is not None and d.draft_id in drafts and kind and typed_kind(kind)
        },
    }


def _learning_context(viewer: Viewer, detail: TaskDetail) -> dict[str, Any]:
    """The lesson set the current draft was made with; for a lesson proposal, the kind it
    teaches and which proposed lessons may contradict those in use."""
    task, draft = detail.task, detail.current_draft
    saved = [
        event.payload
        for event in detail.events
        if event.type == "save_draft" and draft and event.payload.get("draft_id") == draft.id
    ]
    learner = lessons.learner_of(task.kind)
    clashes: list[tuple[str, str]] = []
    if learner is not None and draft is not None:
        active = viewer.services.engine.learning.active_lessons(learner)
        clashes = lessons.contradictions(lessons.proposed(draft.output, ()), active)
    return {
        "lessons_used": saved[-1].get("lessons") if saved else None,
        "lessons_kind": learner or task.kind,
        "teaches": learner,
        "clashes": clashes,
    }


def _examples_context(viewer: Viewer, detail: TaskDetail) -> dict[str, Any]:
    """What the task page shows of examples: those the current draft was made with, and
    for an approved task its mark and whether this viewer may change it."""
    task, draft = detail.task, detail.current_draft
    approved = task.status is TaskStatus.APPROVED
    engine = viewer.services.engine
    kind = engine.kinds.get(task.kind)
    return {
        "made_with": examples.used_examples(detail.events, draft.id) if draft else (),
        "copies": examples.copied_example(detail.events, draft.id) if draft else None,
        "example_shown": approved,
        "example_mark": examples.mark_of(detail.events) if approved else None,
        "kind_uses_examples": kind is not None and kind.learn.examples > 0,
        "can_mark_example": approved and engine.examples.may_mark(viewer.principal, task.kind),
    }


def _hold_context(viewer: Viewer, task: Task) -> dict[str, Any]:
    """Who is reviewing the task (``placet take``), and whether this viewer may hand it on."""
    hold = viewer.services.engine.hold_of(task)
    return {
        "hold": hold,
        "hold_shown": hold.shown(time.time()) if hold else "",
        "can_hand_over": task.status is TaskStatus.AWAITING_REVIEW
        and viewer.can("manage_users")
        and viewer.services.engine.accounts.exist(),
    }


def _route_text(viewer: Viewer, task: Task) -> str | None:
    rule = viewer.services.engine.route_of(task)
    return routing.described(rule) if rule is not None else None


def _way_forward(viewer: Viewer, task: Task) -> WayForward | None:
    """What to do instead, for an awaiting task this viewer may not decide."""
    if task.status is not TaskStatus.AWAITING_REVIEW:
        return None  # nothing to decide: no advice, and no look at the accounts
    return viewer.services.engine.way_forward(viewer.principal, task)


def _failure(detail: TaskDetail) -> str | None:
    """Why drafting failed, when that is where the task stands."""
    if detail.task.status is not TaskStatus.FAILED:
        return None
    failed = [event for event in detail.events if event.type == "fail"]
    return str(failed[-1].payload.get("error", "")) if failed else ""


def _task_page(
    viewer: Viewer,
    detail: TaskDetail,
    status: int = 200,
    notice: str | None = None,
    form: DecisionForm | None = None,
    error: str | None = None,
) -> HTMLResponse:
    """The whole task page; with a form and an error when a post could not be used."""
    return page(
        "task.html",
        viewer,
        status,
        title=f"Task {render.short_id(detail.task.id)}",
        notice=notice,
        **_task_context(viewer, detail, form, error),
    )


@router.get("/tasks/{task_id}")
def task_page(
    request: Request, task_id: str, viewer: ViewerDep, done: str = "", task: str = ""
) -> HTMLResponse:
    """The input, the current draft, earlier drafts with diffs, the history and the actions."""
    detail = visible_detail(request, viewer, task_id)
    return _task_page(viewer, detail, notice=notice_for(done, task))


@router.get("/tasks/{task_id}/main")
def task_main(request: Request, task_id: str, viewer: ViewerDep) -> HTMLResponse:
    """The task page's main part, for the script to swap in when the task changes."""
    detail = visible_detail(request, viewer, task_id)
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
    choice: Annotated[list[str] | None, Form()] = None,
    field_name: Annotated[list[str] | None, Form()] = None,
    field_value: Annotated[list[str] | None, Form()] = None,
    decision_name: Annotated[list[str] | None, Form()] = None,
    decision_value: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Approve, edit, revise or reject the draft the form was showing, then go to the next task."""
    check_csrf(request, viewer, csrf_token)
    detail = visible_detail(request, viewer, task_id)
    typed = (as_typed(text), as_typed(feedback), as_typed(reason))
    fields = tuple(zip(field_name or (), field_value or (), strict=False))
    asked = tuple(zip(decision_name or (), decision_value or (), strict=False))
    form = DecisionForm(verdict, draft_id, version, *typed, tuple(choice or ()), fields, asked)
    problem = form.problem()
    given: JsonObject | None = None
    if problem is None:
        try:
            named = (field_name, field_value or [], decision_name, decision_value or [])
            form, given = _read_typed(viewer, detail, form, *named)
        except InvalidInputError as exc:
            problem = exc.message
    status = 422
    if problem is None:
        try:
            asked_request = dataclasses.replace(
                form.request(task_id, viewer.principal), fields=given
            )
            decided = viewer.services.engine.decide(asked_request)
            _count_decision(viewer.services, task_id, form.draft_id)
            counted = decided.status is TaskStatus.AWAITING_REVIEW  # toward a quorum
            return RedirectResponse(
                _after_decision(viewer, task_id, "counted" if counted else verdict), 303
            )
        except ConflictError as exc:
            problem, status = exc.message, 409
        except PermissionDeniedError as exc:
            problem, status = exc.message, 403
        except InvalidInputError as exc:
            problem = exc.message
    detail = viewer.services.engine.detail(task_id)
    return _task_page(viewer, detail, status, form=form, error=problem)


@router.post("/tasks/{task_id}/handlers/retry")
def retry_handlers(
    request: Request,
    task_id: str,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    handler: FormText = "",
    back: FormText = "",
) -> Response:
    """Give the task's failed handler deliveries (or the named one's) another set of attempts."""
    check_csrf(request, viewer, csrf_token)
    detail = visible_detail(request, viewer, task_id)
    check(request, viewer, Permission.RETRY_HANDLERS, detail.task)
    if problem := too_long("handler name", handler, MAX_NAME):
        return _task_page(viewer, detail, 422, error=problem)
    if retry_failed(viewer.services.engine, task_id, viewer.name, handler or None):
        done = urlencode({"done": "handlers-retried", "task": task_id})
        # Back to the list of failures when the retry came from there; no other target.
        where = FAILED_HANDLERS_PAGE if back == FAILED_HANDLERS_PAGE else f"/tasks/{task_id}"
        return RedirectResponse(f"{where}?{done}", 303)
    return _task_page(viewer, detail, 409, error=nothing_to_retry(task_id, handler or None))


@router.post("/tasks/{task_id}/notifications/retry")
def retry_notification_page(
    request: Request,
    task_id: str,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    notification: FormText = "",
) -> Response:
    """Send a notification of the task that gave up again, with the same id (admins)."""
    check_csrf(request, viewer, csrf_token)
    detail = visible_detail(request, viewer, task_id)
    check(request, viewer, Permission.RETRY_HANDLERS, detail.task)
    if not SAFE_ID.match(notification) or not any(
        n.id == notification for n in task_notifications(viewer.services.engine, task_id)
    ):
        return _task_page(viewer, detail, 404, error="No such notification of this task.")
    try:
        retry_notification(viewer.services.engine, notification, viewer.name)
    except ConflictError as exc:
        return _task_page(viewer, detail, 409, error=exc.message)
    done = urlencode({"done": "notification-retried", "task": task_id})
    return RedirectResponse(f"/tasks/{task_id}?{done}", 303)


def _count_decision(svc: Services, task_id: str, draft_id: str) -> None:
    # As the API does: the decision is committed, so a failed metrics read is not an error.
    with contextlib.suppress(PlacetError):
        svc.metrics.decided(svc.engine.detail(task_id), draft_id)


def _after_decision(viewer: Viewer, task_id: str, verdict: str) -> str:
    """The next task to review, taken for this reviewer as the queue's Open button would."""
    upcoming = _next_task(viewer, task_id)
    done = urlencode({"done": verdict, "task": task_id})
    if upcoming is None:
        return f"/?{done}"
    with contextlib.suppress(ConflictError):  # taken by someone else meanwhile: still shown
        viewer.services.engine.take(upcoming.id, viewer.principal)
    return f"/tasks/{upcoming.id}?{done}"
