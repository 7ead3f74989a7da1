"""What an agent is told about a request: an explicit status, never an approval by omission.

Every view has ``status`` and a sentence, ``message``, saying what to do now. A
call's view has ``approved`` (true only for ``approved``) and, only then,
``arguments``: the arguments to run, as a person edited them when they did. A
question's view has ``answer`` only when ``answered``. Anything else (pending,
paused, rejected, cancelled, expired, failed) carries no arguments and says not
to run the call.
"""

from __future__ import annotations

from collections.abc import Sequence

from placet.domain.controls import Pause
from placet.domain.models import Decision, Event, JsonObject, Task, TaskDetail, TaskStatus
from placet.domain.outcomes import outcome_of
from placet.domain.toolcalls import parse_edited_arguments
from placet.sdk.client import ANSWER_PLACEHOLDER, QUESTION_KIND

PENDING = "pending"
PAUSED = "paused"  # approved, but the kill switch stops its kind: not to be run now
_ENDED = {
    TaskStatus.APPROVED: "approved",
    TaskStatus.REJECTED: "rejected",
    TaskStatus.CANCELLED: "cancelled",
    TaskStatus.EXPIRED: "expired",
    TaskStatus.FAILED: "failed",
}


def status_of(task: Task) -> str:
    """The status an agent sees: how the task ended, or ``pending``."""
    return _ENDED.get(task.status, PENDING)


def view_of(detail: TaskDetail, pause: Pause | None = None) -> JsonObject:
    """The view of a call (``pause``: the kill switch stopping its kind), a question, or any
    other task."""
    task = detail.task
    if isinstance(task.input.get("call"), dict):
        return call_view(detail, pause)
    if task.kind == QUESTION_KIND:
        return question_view(detail)
    view = _base(detail, status_of(task))
    view["message"] = _other_message(detail)
    return view


def call_view(detail: TaskDetail, pause: Pause | None = None) -> JsonObject:
    """A call's view: approved with the arguments to run, or why not.

    An approved call whose kind is paused (``placet pause``) is ``paused``: not to be
    run until ``placet resume``, as the SDK's guarded calls wait.
    """
    task = detail.task
    call = task.input["call"]
    tool = str(call.get("function", "the tool"))
    status = status_of(task)
    if status == "approved" and pause is not None:
        view = _base(detail, PAUSED, approved=False, tool=tool)
        view["message"] = (
            f"Approved by {view.get('decided_by') or 'a person'}, but Placet is {pause.shown()}: "
            f"do not run {tool} now; call wait_for_decision with this task_id to wait until "
            "placet resume lifts the pause."
        )
        return view
    view = _base(detail, status, approved=status == "approved", tool=tool)
    if status != "approved":
        view["message"] = _not_approved(detail, status, f"do not run {tool}")
        return view
    arguments = _approved_arguments(call, task.final_output)
    edited = arguments != call.get("arguments")
    view.update(arguments=arguments, edited=edited)
    who = view.get("decided_by") or "a person"
    view["message"] = (
        f"Approved by {who} with the arguments edited: run {tool} once, with exactly these "
        "arguments, not the ones you asked with."
        if edited
        else f"Approved by {who}: run {tool} once, with exactly these arguments."
    )
    return view


def question_view(detail: TaskDetail) -> JsonObject:
    """A question's view: the answer, or why there is none."""
    task = detail.task
    status = "answered" if task.status is TaskStatus.APPROVED else status_of(task)
    view = _base(detail, status, question=task.input.get("question"))
    if status != "answered":
        view["message"] = _not_approved(detail, status, "there is no answer")
        return view
    answer = "" if task.final_output == ANSWER_PLACEHOLDER else (task.final_output or "")
    view["answer"] = answer
    who = view.get("decided_by") or "a person"
    view["message"] = (
        f"Answered by {who}." if answer else f"{who} approved the question without an answer."
    )
    return view


def summary_of(task: Task) -> JsonObject:
    """One line of the pending list: what waits, and for whom."""
    summary: JsonObject = {
        "task_id": task.id,
        "kind": task.kind,
        "status": status_of(task),
        "requester": task.requester,
        "created_at": task.created_at,
    }
    call = task.input.get("call")
    if isinstance(call, dict):
        summary["tool"] = call.get("function")
    if "question" in task.input:
        summary["question"] = task.input["question"]
    if "title" in task.input:
        summary["summary"] = task.input["title"]
    return summary


def _base(detail: TaskDetail, status: str, **first: object) -> JsonObject:
    """What every view says: the status first, then the task, who decided and why."""
    task = detail.task
    outcome = outcome_of(task, detail.decisions, detail.events)
    view: JsonObject = {"status": status, **first, "task_id": task.id, "kind": task.kind}
    request_id = (task.input.get("mcp") or {}).get("request_id")
    if request_id is not None:
        view["request_id"] = request_id
    if status == PENDING:
        view["waiting_since"] = task.created_at
    elif outcome.decided_by is not None:
        view["decided_by"] = outcome.decided_by
    for name, value in (
        ("reason", _reason(task, outcome.reason, detail.events)),
        ("feedback", outcome.feedback if status != PENDING else None),
    ):
        if value:
            view[name] = value
    return view


def _reason(task: Task, reason: str | None, events: Sequence[Event]) -> str | None:
    if task.status is TaskStatus.CANCELLED:
        return _cancel_reason(events)
    if task.status is TaskStatus.FAILED:
        return "the request failed before a person decided it"
    return reason if task.status.is_final else None


def _cancel_reason(events: Sequence[Event]) -> str:
    for event in reversed(events):
        if event.type == "cancel":
            why = event.payload.get("reason") or "no reason given"
            return f"cancelled by {event.actor}: {why}"
    return "cancelled"


def _not_approved(detail: TaskDetail, status: str, consequence: str) -> str:
    task = detail.task
    if status == PENDING:
        return (
            f"No decision yet: task {task.id} waits for a person. Until it is decided, "
            f"{consequence}; call wait_for_decision with this task_id to wait again."
        )
    last = _last(detail.decisions)
    who = last.actor if last is not None else "Placet"
    reason = _reason(task, outcome_of(task, detail.decisions, detail.events).reason, detail.events)
    said = {
        "rejected": f"Rejected by {who}" + (f" ({reason})" if reason else ""),
        "cancelled": "Cancelled",
        "expired": "Nobody decided in time, so it was never approved",
        "failed": "The request failed",
    }[status]
    return f"{said}: {consequence}. Tell the user why, or ask again in another way."


def _other_message(detail: TaskDetail) -> str:
    status = status_of(detail.task)
    if status == PENDING:
        return f"Task {detail.task.id} waits for a person."
    return f"Task {detail.task.id} is {status}."


def _last(decisions: Sequence[Decision]) -> Decision | None:
    return decisions[-1] if decisions else None


def _approved_arguments(call: JsonObject, text: str | None) -> JsonObject:
    """The arguments as approved, checked against the call as every door checks an edit."""
    return parse_edited_arguments(call, text or "{}")
