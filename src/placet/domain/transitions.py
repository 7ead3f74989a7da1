"""The one table of allowed task state transitions."""

from __future__ import annotations

import enum

from placet.domain.models import Task, TaskStatus
from placet.errors import InvalidTransitionError


class Action(str, enum.Enum):
    """Everything that can move a task from one state to another."""

    CLAIM = "claim"
    RECLAIM = "reclaim"  # a lease ran out; another worker takes the task
    SAVE_DRAFT = "save_draft"
    RELEASE = "release"  # a worker hands the task back without a draft
    FAIL = "fail"
    RETRY = "retry"
    APPROVE = "approve"
    EDIT = "edit"
    REVISE = "revise"
    REJECT = "reject"
    ENDORSE = "endorse"  # an approval (or edit) that counts toward a quorum not yet met
    HOLD = "hold"  # a reviewer took the item, let it go, or an admin handed it on
    TIMER = "timer"  # a reminder or an escalation fired; the task still waits
    LAPSE = "lapse"  # the deadline passed: rejected (on_deadline = "reject")
    EXPIRE = "expire"  # the deadline passed: expired (on_deadline = "expire")
    CANCEL = "cancel"
    RECORD = "record"  # a fact about an approved task, such as its execution


S = TaskStatus
_NON_FINAL = (S.QUEUED, S.DRAFTING, S.AWAITING_REVIEW, S.FAILED)

TRANSITIONS: dict[tuple[TaskStatus, Action], TaskStatus] = {
    (S.QUEUED, Action.CLAIM): S.DRAFTING,
    (S.DRAFTING, Action.RECLAIM): S.DRAFTING,
    (S.DRAFTING, Action.SAVE_DRAFT): S.AWAITING_REVIEW,
    (S.DRAFTING, Action.RELEASE): S.QUEUED,
    (S.DRAFTING, Action.FAIL): S.FAILED,
    (S.FAILED, Action.RETRY): S.QUEUED,
    (S.AWAITING_REVIEW, Action.APPROVE): S.APPROVED,
    (S.AWAITING_REVIEW, Action.EDIT): S.APPROVED,
    (S.AWAITING_REVIEW, Action.REVISE): S.QUEUED,
    (S.AWAITING_REVIEW, Action.REJECT): S.REJECTED,
    (S.AWAITING_REVIEW, Action.ENDORSE): S.AWAITING_REVIEW,
    (S.AWAITING_REVIEW, Action.HOLD): S.AWAITING_REVIEW,
    (S.AWAITING_REVIEW, Action.TIMER): S.AWAITING_REVIEW,
    (S.AWAITING_REVIEW, Action.LAPSE): S.REJECTED,
    (S.AWAITING_REVIEW, Action.EXPIRE): S.EXPIRED,
    # Facts about an ended task (an execution, a resumed graph) change nothing.
    **{
        (status, Action.RECORD): status
        for status in (S.APPROVED, S.REJECTED, S.CANCELLED, S.EXPIRED)
    },
    **{(status, Action.CANCEL): S.CANCELLED for status in _NON_FINAL},
}


def next_status(task: Task, action: Action) -> TaskStatus:
    """The status ``action`` leads to from the task's status, or raise."""
    target = TRANSITIONS.get((task.status, action))
    if target is None:
        raise InvalidTransitionError(
            f"cannot {action.value} task {task.id}: it is {task.status.value}"
        )
    if action is Action.REVISE and task.attempt >= task.max_attempts:
        # No attempts left: a request for another revision ends the task.
        return S.REJECTED
    return target
