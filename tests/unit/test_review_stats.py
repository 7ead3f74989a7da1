"""Time to first touch, time to the final decision by group, escalations, overdue: from events."""

from __future__ import annotations

from placet.domain.actors import SYSTEM_ACTOR, is_person
from placet.domain.models import Event, TaskStatus
from placet.domain.stats import (
    NO_GROUP,
    FinalDecision,
    Overdue,
    Stats,
    Timed,
    TimeSummary,
    groups_of,
    task_times,
    time_summaries,
)
from placet.domain.timers import TimerState

S = TaskStatus
DAY = 86400.0
T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC
WORKER = "worker:host:41"
GROUPS = {"legal": ("ana", "li"), "finance": ("li", "omar")}


def events(*steps: tuple[str, str, float]) -> list[Event]:
    """Events of one task: (type, actor, seconds after T0), after its submission by rita."""
    made = [Event("t1", 1, "submit", "rita", T0 - 60)]
    for seq, (kind, actor, after) in enumerate(steps, start=2):
        made.append(Event("t1", seq, kind, actor, T0 + after))
    return made


def test_people_are_told_from_placet_and_its_processes() -> None:
    assert is_person("ana") and is_person("li.w@example.com")
    assert not is_person(SYSTEM_ACTOR) and not is_person(WORKER)
    assert not is_person("supervisor:llama-3.3-70b") and not is_person("sdk:host:7")


def test_a_first_touch_runs_from_the_draft_to_a_persons_first_event_past_timers() -> None:
    found = task_times(
        S.APPROVED,
        events(
            ("claim", WORKER, -10),
            ("save_draft", WORKER, 0),
            ("reminder", SYSTEM_ACTOR, 3600),
            ("escalated", SYSTEM_ACTOR, 4 * 3600),
            ("approve", "omar", 5 * 3600),
        ),
    )
    assert found.first_touch_seconds == 5 * 3600
    assert found.final == FinalDecision("omar", "approve", 5 * 3600)
    assert found.escalation_days == ("2027-01-15",)


def test_taking_an_item_is_a_touch_and_the_submission_is_not() -> None:
    found = task_times(
        S.REJECTED,
        events(("save_draft", WORKER, 0), ("taken", "li", 90), ("reject", "li", 600)),
    )
    assert found.first_touch_seconds == 90
    assert found.final == FinalDecision("li", "reject", 600)


def test_a_worker_named_like_a_person_never_touches_and_nobody_yet_means_no_time() -> None:
    found = task_times(
        S.AWAITING_REVIEW,
        events(("claim", "w", -5), ("save_draft", "w", 0), ("reminder", SYSTEM_ACTOR, 60)),
    )
    assert found.first_touch_seconds is None and found.final is None


def test_the_final_decision_is_timed_from_the_first_draft_across_revisions() -> None:
    found = task_times(
        S.APPROVED,
        events(
            ("save_draft", WORKER, 0),
            ("revise", "ana", 100),
            ("claim", WORKER, 110),
            ("save_draft", WORKER, 120),
            ("edit", "li", 1000),
        ),
    )
    assert found.first_touch_seconds == 100
    assert found.final == FinalDecision("li", "edit", 1000)


def test_a_revision_with_no_attempts_left_is_the_decision_that_ended_it() -> None:
    found = task_times(S.REJECTED, events(("save_draft", WORKER, 0), ("revise", "ana", 50)))
    assert found.final == FinalDecision("ana", "revise", 50)


def test_a_deadline_ends_a_task_without_a_persons_decision() -> None:
    endorsed_then_lapsed = events(
        ("save_draft", WORKER, 0),
        ("approve", "ana", 100),  # one of two approvals
        ("deadline", SYSTEM_ACTOR, DAY),
    )
    found = task_times(S.REJECTED, endorsed_then_lapsed)
    assert found.first_touch_seconds == 100 and found.final is None


def test_a_quorum_is_decided_by_the_approval_that_met_it() -> None:
    found = task_times(
        S.APPROVED,
        events(("save_draft", WORKER, 0), ("approve", "ana", 100), ("approve", "omar", 700)),
    )
    assert found.final == FinalDecision("omar", "approve", 700)


def test_a_cancel_touches_but_decides_nothing() -> None:
    found = task_times(S.CANCELLED, events(("save_draft", WORKER, 0), ("cancel", "rita", 30)))
    assert found.first_touch_seconds == 30 and found.final is None


def test_a_person_counts_in_each_of_their_groups_or_in_none() -> None:
    assert groups_of("li", GROUPS) == ("finance", "legal")
    assert groups_of("ana", GROUPS) == ("legal",)
    assert groups_of("zoe", GROUPS) == (NO_GROUP,)


def test_the_stats_gather_touches_by_kind_and_final_decisions_by_group() -> None:
    stats = Stats()
    stats.add(
        "clause", S.APPROVED, events(("save_draft", WORKER, 0), ("approve", "li", 60)), GROUPS
    )
    stats.add(
        "clause", S.APPROVED, events(("save_draft", WORKER, 0), ("approve", "ana", 120)), GROUPS
    )
    stats.add("offer", S.REJECTED, events(("save_draft", WORKER, 0), ("reject", "zoe", 30)), GROUPS)
    stats.add(
        "clause",
        S.AWAITING_REVIEW,
        events(("save_draft", WORKER, 0), ("escalated", SYSTEM_ACTOR, DAY)),
        GROUPS,
    )
    assert stats.tasks_scanned == 4
    assert stats.touch_summaries() == [
        TimeSummary("clause", 2, 90, 120),
        TimeSummary("offer", 1, 30, 30),
    ]
    assert stats.group_summaries() == [
        TimeSummary(NO_GROUP, 1, 30, 30),
        TimeSummary("finance", 1, 60, 60),  # li, in both groups
        TimeSummary("legal", 2, 90, 120),
    ]
    assert stats.escalations_by_kind() == {"clause": 1}
    assert stats.kinds() == ["clause", "offer"]


def test_time_summaries_take_the_median_and_the_nearest_rank_90th_percentile() -> None:
    times = [Timed("k", float(s)) for s in range(1, 11)]
    assert time_summaries(times) == [TimeSummary("k", 10, 5.5, 9.0)]
    assert time_summaries([]) == []


def test_overdue_counts_reminded_or_escalated_drafts_and_the_escalated_apart() -> None:
    found = Overdue({"clause": 0}, {"clause": 0})
    found.add("clause", TimerState(T0))  # waiting, no timer fired yet
    found.add("clause", TimerState(T0, reminders=2))
    found.add("clause", TimerState(T0, reminders=1, escalated=True))
    assert found.overdue == {"clause": 2} and found.escalated == {"clause": 1}
    assert found.tasks_scanned == 3
