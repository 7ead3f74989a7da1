from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placet.domain.fastinit import evolve, restore
from placet.domain.models import FINAL_STATUSES, Task, TaskStatus
from placet.domain.transitions import TRANSITIONS, Action, next_status
from placet.errors import InvalidTransitionError

S = TaskStatus


def task(status: TaskStatus, attempt: int = 1, max_attempts: int = 3) -> Task:
    return Task(
        id="t1",
        kind="k",
        input={},
        requester="r",
        status=status,
        version=1,
        attempt=attempt,
        max_attempts=max_attempts,
        created_at=0.0,
        updated_at=0.0,
        head_hash="0" * 64,
        event_count=1,
    )


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (S.QUEUED, Action.CLAIM, S.DRAFTING),
        (S.DRAFTING, Action.SAVE_DRAFT, S.AWAITING_REVIEW),
        (S.DRAFTING, Action.RELEASE, S.QUEUED),
        (S.DRAFTING, Action.FAIL, S.FAILED),
        (S.DRAFTING, Action.RECLAIM, S.DRAFTING),
        (S.FAILED, Action.RETRY, S.QUEUED),
        (S.AWAITING_REVIEW, Action.APPROVE, S.APPROVED),
        (S.AWAITING_REVIEW, Action.EDIT, S.APPROVED),
        (S.AWAITING_REVIEW, Action.REVISE, S.QUEUED),
        (S.AWAITING_REVIEW, Action.REJECT, S.REJECTED),
        (S.AWAITING_REVIEW, Action.CANCEL, S.CANCELLED),
        (S.QUEUED, Action.CANCEL, S.CANCELLED),
    ],
)
def test_allowed_transitions(status: TaskStatus, action: Action, expected: TaskStatus) -> None:
    assert next_status(task(status), action) is expected


def test_revise_with_no_attempts_left_rejects() -> None:
    assert next_status(task(S.AWAITING_REVIEW, attempt=3), Action.REVISE) is S.REJECTED
    assert next_status(task(S.AWAITING_REVIEW, attempt=2), Action.REVISE) is S.QUEUED


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES, key=lambda s: s.value))
@pytest.mark.parametrize("action", list(Action))
def test_nothing_leaves_a_final_state(status: TaskStatus, action: Action) -> None:
    if action is Action.RECORD:
        assert next_status(task(status), action) is status  # a fact, not a move
        return
    with pytest.raises(InvalidTransitionError, match=status.value):
        next_status(task(status), action)


def test_a_decision_needs_a_draft_awaiting_review() -> None:
    for status in (S.QUEUED, S.DRAFTING, S.FAILED):
        for action in (Action.APPROVE, Action.EDIT, Action.REVISE, Action.REJECT):
            with pytest.raises(InvalidTransitionError):
                next_status(task(status), action)


@given(st.lists(st.sampled_from(list(Action)), max_size=30))
def test_any_sequence_of_actions_stays_in_the_table(actions: list[Action]) -> None:
    current = task(S.QUEUED, attempt=0)
    for action in actions:
        try:
            status = next_status(current, action)
        except InvalidTransitionError:
            assert (current.status, action) not in TRANSITIONS
            continue
        assert not current.status.is_final or status is current.status
        attempt = current.attempt + (1 if action is Action.CLAIM else 0)
        current = replace(current, status=status, attempt=attempt)


def test_evolve_copies_a_record_with_some_fields_changed() -> None:
    queued = task(S.QUEUED)
    moved = evolve(queued, status=S.DRAFTING, version=queued.version + 1)
    assert moved == replace(queued, status=S.DRAFTING, version=queued.version + 1)
    assert queued.status is S.QUEUED  # the original is untouched
    with pytest.raises(TypeError, match="no field colour"):
        evolve(queued, colour="red")


def test_restore_gives_the_record_its_init_would_have_made() -> None:
    import dataclasses

    made = task(S.AWAITING_REVIEW)
    restored = restore(Task, {f.name: getattr(made, f.name) for f in dataclasses.fields(Task)})
    assert restored == made
    with pytest.raises(dataclasses.FrozenInstanceError):
        restored.status = S.APPROVED  # type: ignore[misc]
