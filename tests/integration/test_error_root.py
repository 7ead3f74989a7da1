"""Every error Placet raises derives from the one root, ``placet.errors.PlacetError``."""

from __future__ import annotations

import pytest

import placet
from placet.domain.models import Task, TaskStatus
from placet.errors import ConflictError, PlacetError, UsageError, WorldError
from placet.sdk.runner import WaitTimeout


def test_a_rejection_is_an_outcome_not_a_misuse_or_a_failure() -> None:
    rejected = placet.Rejected("T1", "not to the CEO")
    assert isinstance(rejected, PlacetError)
    assert not isinstance(rejected, (UsageError, WorldError))
    assert rejected.message == "task T1 was rejected: not to the CEO"


def test_a_wait_that_times_out_is_a_placet_error_and_a_timeout() -> None:
    task = Task(
        id="T1",
        kind="onboarding_email",
        input={},
        requester="ada",
        status=TaskStatus.AWAITING_REVIEW,
        version=2,
        attempt=1,
        max_attempts=3,
        created_at=0.0,
        updated_at=0.0,
        head_hash="",
        event_count=2,
    )
    timed_out = WaitTimeout(task)
    assert isinstance(timed_out, PlacetError) and isinstance(timed_out, TimeoutError)
    assert timed_out.message == "task T1 is still awaiting_review" and timed_out.task is task


def test_a_second_resume_is_a_conflict() -> None:
    langgraph = pytest.importorskip("placet.integrations.langgraph")
    assert issubclass(langgraph.AlreadyResumed, ConflictError)
