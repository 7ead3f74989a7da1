"""Every value Placet shows about a task, proved from its hash chain. Pure.

A task's events are chained (``audit.verify_chain`` checks the links); this
module checks the rows beside them against what the events say: the task row
is replayed from its events, and each draft and decision row is compared with
the event that recorded it, field by field. A row edited directly in the
database is reported with the task, the row and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from placet.domain import audit, jsontext, quorum, supervision
from placet.domain.audit import ChainProblem
from placet.domain.deliveries import DeliveryRecord, DeliveryStatus
from placet.domain.diffs import unified_diff
from placet.domain.holds import RELEASED, TAKEN
from placet.domain.models import Decision, Draft, Event, Task, TaskDetail, TaskStatus
from placet.domain.timers import DEADLINE

S = TaskStatus
DECISION_STATUS = {"approve": S.APPROVED, "edit": S.APPROVED, "reject": S.REJECTED}
MOVES = {
    "claim": S.DRAFTING,
    "reclaim": S.DRAFTING,
    "save_draft": S.AWAITING_REVIEW,
    "release": S.QUEUED,
    "fail": S.FAILED,
    "retry": S.QUEUED,
    "cancel": S.CANCELLED,
}


@dataclass
class Replayed:
    """What a task row must hold, as its events tell it."""

    status: TaskStatus = S.QUEUED
    attempt: int = 0
    max_attempts: int = 0
    current_draft_id: str | None = None
    final_output: str | None = None
    pending_feedback: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # kind, input, requester, key
    edited_text: str | None = None  # a quorum's text, when an edit of the draft set it
    held_by: str | None = None  # who took the item (domain/holds.py), until when
    held_until: float | None = None
    risk: int | None = None  # the supervisor's reading of the current draft
    flags: str | None = None


def record_problems(detail: TaskDetail) -> list[ChainProblem]:
    """Each row of the task (the task, its drafts and decisions) that its events contradict."""
    drafts = {draft.id: draft for draft in detail.drafts}
    decisions = {decision.id: decision for decision in detail.decisions}
    problems: list[ChainProblem] = []
    for event in detail.events:
        if event.type == "save_draft":
            problems += _draft_problems(event, drafts.get(str(event.payload.get("draft_id"))))
        if "decision_id" in event.payload:
            decision = decisions.get(str(event.payload["decision_id"]))
            problems += _decision_problems(event, decision, drafts)
    problems += _unchained(detail)
    problems += _task_problems(detail.task, detail.events, drafts, decisions)
    return problems


# -- drafts and decisions -------------------------------------------------------------


def _draft_problems(event: Event, draft: Draft | None) -> list[ChainProblem]:
    payload = event.payload
    if draft is None:
        return [_at(event, f"draft {payload.get('draft_id')} is missing")]
    shown = {
        "output": audit.text_digest(draft.output) == payload.get("output_sha256"),
        "prompt": _messages_digest(draft) == payload.get("messages_sha256"),
        "model": draft.model == payload.get("model"),
        # Absent from a caller's draft and from events made before seeds were kept: None.
        "seed": draft.seed == payload.get("seed"),
        "attempt": draft.attempt == payload.get("attempt"),
        "feedback": draft.feedback == payload.get("feedback"),
        "task": draft.task_id == event.task_id,
        "time": draft.created_at == event.created_at,
        # Recorded since drafts' events name their provider; older events do not.
        "provider": "provider" not in payload or draft.provider == payload["provider"],
    }
    return [
        _at(event, f"draft {draft.id}: its {name} was altered")
        for name, ok in shown.items()
        if not ok
    ]


def _messages_digest(draft: Draft) -> str:
    return audit.text_digest(audit.canonical_json(draft.messages))


def _decision_problems(
    event: Event, decision: Decision | None, drafts: dict[str, Draft]
) -> list[ChainProblem]:
    payload = event.payload
    if decision is None:
        return [_at(event, f"decision {payload['decision_id']} is missing")]
    text_digest = audit.text_digest(decision.text) if decision.text is not None else None
    shown = {
        "kind": decision.kind.value == payload.get("kind"),
        "text": text_digest == payload.get("text_sha256"),
        "actor": decision.actor == event.actor,
        "role": decision.role == payload.get("role"),
        "feedback": decision.feedback == payload.get("feedback"),
        "reason": decision.reason == payload.get("reason"),
        "time": decision.created_at == event.created_at,
        "draft": decision.draft_id == payload.get("draft_id"),
        "task": decision.task_id == event.task_id,
        "diff": decision.diff == _expected_diff(decision, drafts),
    }
    return [
        _at(event, f"decision {decision.id}: its {name} was altered")
        for name, ok in shown.items()
        if not ok
    ]


def _expected_diff(decision: Decision, drafts: dict[str, Draft]) -> str | None:
    draft = drafts.get(decision.draft_id)
    if decision.text is None or draft is None:
        return None if decision.text is None else decision.diff  # the draft's own problem
    return unified_diff(draft.output, decision.text)


def _unchained(detail: TaskDetail) -> list[ChainProblem]:
    """Rows that no event recorded: something was added beside the chain."""
    drafted = {str(e.payload.get("draft_id")) for e in detail.events if e.type == "save_draft"}
    decided = {str(e.payload["decision_id"]) for e in detail.events if "decision_id" in e.payload}
    task_id = detail.task.id
    return [
        ChainProblem(task_id, None, f"draft {draft.id} is not in the chain")
        for draft in detail.drafts
        if draft.id not in drafted
    ] + [
        ChainProblem(task_id, None, f"decision {decision.id} is not in the chain")
        for decision in detail.decisions
        if decision.id not in decided
    ]


# -- the task row, replayed ------------------------------------------------------------


def replay(
    events: list[Event], drafts: dict[str, Draft], decisions: dict[str, Decision]
) -> Replayed:
    """The task row's shown fields as its events (and the rows they pin) make them."""
    state = Replayed()
    for event in events:
        _apply(state, event, drafts, decisions)
    return state


def _apply(
    state: Replayed, event: Event, drafts: dict[str, Draft], decisions: dict[str, Decision]
) -> None:
    payload, kind = event.payload, event.type
    if kind in MOVES or kind in (DEADLINE, RELEASED) or "decision_id" in payload:
        state.held_by = state.held_until = None  # as domain.changes.change_for ends a hold
    if kind == TAKEN:
        state.held_by, state.held_until = payload.get("holder"), payload.get("until")
    elif kind == "submitted":
        _submitted(state, payload)
    elif kind in MOVES:
        state.status = MOVES[kind]
        if kind in ("claim", "reclaim"):
            state.attempt = int(payload.get("attempt", state.attempt))
        elif kind in ("release", "fail"):
            state.attempt -= 1
        elif kind == "save_draft":
            state.current_draft_id = str(payload.get("draft_id"))
            state.pending_feedback = state.edited_text = None
            state.risk, state.flags = supervision.row_values(payload)
    elif "decision_id" in payload:
        _decided(state, payload, drafts, decisions.get(str(payload["decision_id"])))
    elif kind == DEADLINE:  # nobody decided in time: never approved
        state.status = S.REJECTED if payload.get("outcome") == "rejected" else S.EXPIRED
        state.pending_feedback = None


def _submitted(state: Replayed, payload: dict[str, Any]) -> None:
    state.max_attempts = int(payload.get("max_attempts", 0))
    state.facts = {key: payload.get(key) for key in ("kind", "input", "requester")}
    state.facts["idempotency_key"] = payload.get("idempotency_key")
    claim = payload.get("claim")
    if isinstance(claim, dict):
        state.status, state.attempt = S.DRAFTING, int(claim.get("attempt", 1))


def _decided(
    state: Replayed,
    payload: dict[str, Any],
    drafts: dict[str, Draft],
    decision: Decision | None,
) -> None:
    verdict = str(payload.get("kind"))
    state.pending_feedback = None
    if verdict == "revise":
        if "max_attempts" in payload:  # a supervisor round adds an attempt of its own
            state.max_attempts = int(payload["max_attempts"])
        state.pending_feedback = payload.get("feedback")
        exhausted = state.attempt >= state.max_attempts
        state.status = S.REJECTED if exhausted else S.QUEUED
        return
    if verdict == "edit":
        state.edited_text = decision.text if decision is not None else None
    if verdict in ("edit", "approve") and not quorum.recorded_met(payload):
        return  # counted toward a quorum; the task still awaits the others
    state.status = DECISION_STATUS.get(verdict, state.status)
    if verdict in ("edit", "approve"):
        draft = drafts.get(str(payload.get("draft_id")))
        drafted = draft.output if draft is not None else None
        state.final_output = state.edited_text if state.edited_text is not None else drafted


def _task_problems(
    task: Task, events: list[Event], drafts: dict[str, Draft], decisions: dict[str, Decision]
) -> list[ChainProblem]:
    if not events:
        return []
    state = replay(events, drafts, decisions)
    facts = state.facts
    shown = {
        "kind": task.kind == facts.get("kind"),
        "input": jsontext.canonical(task.input) == jsontext.canonical(facts.get("input")),
        "requester": task.requester == facts.get("requester"),
        "idempotency key": task.idempotency_key == facts.get("idempotency_key"),
        "max attempts": task.max_attempts == state.max_attempts,
        "status": task.status is state.status,
        "attempt": task.attempt == state.attempt,
        "current draft": task.current_draft_id == state.current_draft_id,
        "final output": task.final_output == state.final_output,
        "pending feedback": task.pending_feedback == state.pending_feedback,
        "holder": task.held_by == state.held_by and task.held_until == state.held_until,
        "supervisor's risk": task.risk == state.risk,
        "supervisor's flags": task.flags == state.flags,
        "version": task.version == task.event_count,
        "creation time": task.created_at == events[0].created_at,
        "update time": task.updated_at == events[-1].created_at,
    }
    return [
        ChainProblem(task.id, None, f"task {task.id}: its {name} was altered")
        for name, ok in shown.items()
        if not ok
    ]


def _at(event: Event, text: str) -> ChainProblem:
    return ChainProblem(event.task_id, event.seq, text)


def delivery_problems(events: list[Event], deliveries: list[DeliveryRecord]) -> list[ChainProblem]:
    """Finished handler deliveries of one task that its events do not bear out.

    A handler's run is recorded on the task (``handler_succeeded``, or
    ``handler_failed`` with the error) before its delivery row is marked, so a
    delivered row needs a success event, and one that failed for good the
    failure event of its last attempt, with the same error.
    """
    ran: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        if event.type in ("handler_succeeded", "handler_failed"):
            key = (str(event.payload.get("handler")), str(event.payload.get("decision")))
            ran.setdefault(key, []).append(event)
    problems = []
    for record in deliveries:
        seen = ran.get((record.handler, record.decision_id), [])
        if not _bears_out(record, seen):
            problems.append(
                ChainProblem(
                    record.task_id,
                    None,
                    f"handler {record.handler}: its delivery ({record.status.value}, "
                    f"{record.attempts} attempts) was altered",
                )
            )
    return problems


def _bears_out(record: DeliveryRecord, seen: list[Event]) -> bool:
    if record.status is DeliveryStatus.DELIVERED:
        return any(e.type == "handler_succeeded" for e in seen)
    failures = [e for e in seen if e.type == "handler_failed"]
    last = failures[-1].payload if failures else {}
    return (
        bool(failures)
        and last.get("attempt") == record.attempts
        and last.get("error") == record.last_error
    )
