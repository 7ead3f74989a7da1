"""A decision request, and the rules that turn one into a Decision. Pure.

Every channel (API, dashboard, CLI, review folder, SDK, integrations) builds
a ``DecisionRequest`` carrying the deciding principal and hands it to the
engine; the checks below run there, once, for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from placet.domain import audit, holds, supervision, timers
from placet.domain.diffs import unified_diff
from placet.domain.fastinit import one_step_init
from placet.domain.models import Decision, DecisionKind, Draft, JsonObject, Task
from placet.domain.policy import Principal
from placet.errors import ConflictError, InvalidInputError

# Events that change nothing a reviewer decides on (who is reviewing it, a reminder, an
# escalation, another person's approval of the same text toward a quorum): a decision made
# on the version before them still answers the task. An edit changes the text: not these.
UNCHANGING_EVENTS = frozenset(
    {
        holds.TAKEN,
        holds.RELEASED,
        timers.REMINDER,
        timers.ESCALATED,
        timers.RESCHEDULED,
        DecisionKind.APPROVE.value,  # on a waiting task, only ever a quorum's endorsement
    }
)


@one_step_init
@dataclass(frozen=True)
class DecisionRequest:
    """A person's verdict on a task's draft, with who they are and the draft and version seen."""

    task_id: str
    kind: DecisionKind
    principal: Principal
    draft_id: str | None = None
    expected_version: int | None = None
    text: str | None = None
    feedback: str | None = None
    reason: str | None = None
    # The choice (or choices) picked, for a kind with choices (domain/typed.py).
    choice: tuple[str, ...] | None = None
    # Values the kind's decision_fields ask for when approving (domain/typed.py).
    fields: JsonObject | None = None


def check_answers_current(task: Task, request: DecisionRequest) -> None:
    """Refuse a request made on another version or draft than the task waits on now."""
    if request.expected_version is not None and request.expected_version != task.version:
        raise ConflictError(
            f"task {task.id} changed since you looked at it (version {task.version}, "
            f"you saw {request.expected_version}); nothing was changed"
        )
    if request.draft_id is not None and request.draft_id != task.current_draft_id:
        raise ConflictError(
            f"task {task.id} no longer waits on draft {request.draft_id} "
            f"(it waits on {task.current_draft_id}); nothing was changed"
        )


def make_decision(request: DecisionRequest, draft: Draft, decision_id: str, now: float) -> Decision:
    """The immutable Decision a valid request makes, or InvalidInputError saying what is missing."""
    kind, text, diff = request.kind, None, None
    if kind is DecisionKind.EDIT:
        if request.text is None or not request.text.strip():
            raise InvalidInputError("an edit needs the edited text")
        if request.text.strip() == draft.output.strip():
            raise InvalidInputError(
                "the edited text is the same as the draft; nothing was recorded "
                "(approve it as it is instead)"
            )
        text, diff = request.text, unified_diff(draft.output, request.text)
    if kind is DecisionKind.REVISE and not (request.feedback or "").strip():
        raise InvalidInputError("a revision needs feedback that says what to change")
    if kind is DecisionKind.REJECT and not (request.reason or "").strip():
        raise InvalidInputError("a rejection needs a reason")
    return Decision(
        id=decision_id,
        task_id=request.task_id,
        draft_id=draft.id,
        kind=kind,
        actor=request.principal.name,
        created_at=now,
        role=request.principal.decision_role,
        text=text,
        diff=diff,
        feedback=request.feedback if kind is DecisionKind.REVISE else None,
        reason=request.reason if kind is DecisionKind.REJECT else None,
    )


def decision_payload(decision: Decision, principal: Principal) -> JsonObject:
    """What the decision's event records: the verdict, and how the decider was known."""
    payload: JsonObject = {
        "decision_id": decision.id,
        "draft_id": decision.draft_id,
        "kind": decision.kind.value,
        "role": decision.role,
        "text_sha256": audit.text_digest(decision.text) if decision.text is not None else None,
        "feedback": decision.feedback,
        "reason": decision.reason,
        "channel": principal.channel,
    }
    if principal.single_user:
        payload["mode"] = "single_user"
    if principal.entered_by is not None:
        payload["entered_by"] = principal.entered_by
    return payload


def round_decision(
    task_id: str, draft_id: str, model: supervision.ModelReading, decision_id: str, now: float
) -> Decision:
    """The supervisor's revision of a draft that failed checks: always ``revise``, never a
    verdict (domain/supervision.py: only people approve or reject)."""
    return Decision(
        id=decision_id,
        task_id=task_id,
        draft_id=draft_id,
        kind=DecisionKind.REVISE,
        actor=supervision.supervisor_actor(model.model),
        created_at=now,
        role=supervision.SUPERVISOR_ROLE,
        feedback=supervision.revision_feedback(model),
    )
