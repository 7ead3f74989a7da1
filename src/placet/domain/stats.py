"""What the stats page and the metrics count, from each task's events. Pure.

The numbers come from the audit events (a decision event follows the
``save_draft`` event of the draft it answers), so the stats agree with the
trail.

- **Time to decision** (per kind): from a draft being saved to each decision on it.
- **Time to first touch** (per kind): from the task's first draft awaiting review
  (its first ``save_draft`` event) to the first event on it by a person
  (``actors.is_person``: not Placet's timers, workers or supervisors): a
  decision, a cancel, or taking the item (``taken``). A task nobody has
  touched yet has no time.
- **Time to final decision by group**: from the first draft awaiting review to
  the decision that ended the task (approved, or rejected by a person: not by
  a deadline), counted under each reviewer group the deciding person belongs
  to (``[groups]`` as configured now): a person in two groups counts in both,
  a person in none under ``NO_GROUP``.
- **Escalations**: each ``escalated`` event, on the day it fired.
- **Learning** (per kind): each approved task on the day it was approved, with how
  many drafts it took and whether the first one was approved (first pass); and each
  approved lesson proposal (``lessons:KIND``), on the day its lessons came into use.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from placet.domain.actors import is_person
from placet.domain.lessons import learner_of
from placet.domain.models import Event, TaskStatus
from placet.domain.policy import Groups
from placet.domain.timers import DEADLINE, ESCALATED, TimerState, is_overdue

VERDICTS = ("approve", "edit", "revise", "reject")
NO_GROUP = "(no group)"  # where a deciding person in no reviewer group is counted
# A drafting worker's own steps: never a person's touch, whatever the worker is called.
_DRAFTING = frozenset({"claim", "reclaim", "save_draft", "release", "fail"})
_DECIDED = (TaskStatus.APPROVED, TaskStatus.REJECTED)
LEARNING_DAYS = 30


@dataclass(frozen=True)
class DecisionPoint:
    """One decision: when, on which kind, what, and how long the draft waited for it."""

    day: str
    kind: str
    verdict: str
    wait_seconds: float | None


@dataclass(frozen=True)
class KindSummary:
    """Counts per verdict and time to decision for one kind."""

    kind: str
    counts: dict[str, int]
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def total(self) -> int:
        """Every decision on this kind."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class Timed:
    """One measured time, under a label (a kind or a reviewer group)."""

    label: str
    seconds: float


@dataclass(frozen=True)
class TimeSummary:
    """How many times were measured under a label, their median and 90th percentile."""

    label: str
    count: int
    median_seconds: float
    p90_seconds: float


@dataclass(frozen=True)
class Escalation:
    """One escalation: the day it fired and the task's kind."""

    day: str
    kind: str


@dataclass(frozen=True)
class Approval:
    """One approved task: the day, the kind, the drafts it took, and whether the first
    one was approved (with or without an edit)."""

    day: str
    kind: str
    attempts: int

    @property
    def first_pass(self) -> bool:
        """Approved on its first draft."""
        return self.attempts == 1


@dataclass(frozen=True)
class LearningDay:
    """One day of a kind's learning: first-pass approvals, drafts per approval, lessons."""

    day: str
    approved: int
    first_pass_rate: float | None  # 0-1, None without approvals that day
    mean_attempts: float | None
    lessons_approved: int


@dataclass
class Stats:
    """Decisions, first touches, final decisions by group and escalations in the newest tasks."""

    points: list[DecisionPoint] = field(default_factory=list)
    tasks_scanned: int = 0
    touches: list[Timed] = field(default_factory=list)  # labelled by kind
    group_decisions: list[Timed] = field(default_factory=list)  # labelled by group
    escalations: list[Escalation] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    lessons_days: list[Escalation] = field(default_factory=list)  # (day, kind) taught

    def add(self, kind: str, status: TaskStatus, events: list[Event], groups: Groups) -> None:
        """Count one task, from its events."""
        self.tasks_scanned += 1
        self.points.extend(decision_points(kind, events))
        times = task_times(status, events)
        if times.first_touch_seconds is not None:
            self.touches.append(Timed(kind, times.first_touch_seconds))
        if times.final is not None:
            for group in groups_of(times.final.actor, groups):
                self.group_decisions.append(Timed(group, times.final.seconds))
        self.escalations.extend(Escalation(day, kind) for day in times.escalation_days)
        approved = approval_of(kind, status, events)
        learner = learner_of(kind)
        if approved is not None and learner is not None:
            self.lessons_days.append(Escalation(approved.day, learner))
        elif approved is not None:
            self.approvals.append(approved)

    def learning(self, kind: str | None = None) -> list[LearningDay]:
        """Per day (the last MAX_DAYS with any): the first-pass approval rate, the mean
        drafts per approval, and the lesson proposals approved (for one kind, or all)."""
        found = [a for a in self.approvals if kind is None or a.kind == kind]
        taught = Counter(d.day for d in self.lessons_days if kind is None or d.kind == kind)
        days = sorted({a.day for a in found} | set(taught))[-LEARNING_DAYS:]
        by_day: dict[str, list[Approval]] = {day: [] for day in days}
        for approval in found:
            if approval.day in by_day:
                by_day[approval.day].append(approval)
        return [_learning_day(day, by_day[day], taught.get(day, 0)) for day in days]

    def kinds(self) -> list[str]:
        """The kinds that have decisions or escalations, by name."""
        return sorted({p.kind for p in self.points} | {e.kind for e in self.escalations})

    def touch_summaries(self) -> list[TimeSummary]:
        """Time to first touch, per kind."""
        return time_summaries(self.touches)

    def touch_total(self) -> TimeSummary | None:
        """Time to first touch over every kind; None before any touch."""
        found = time_summaries(Timed("all kinds", t.seconds) for t in self.touches)
        return found[0] if found else None

    def group_summaries(self) -> list[TimeSummary]:
        """Time to the final decision, per reviewer group of the deciding person."""
        return time_summaries(self.group_decisions)

    def escalations_by_kind(self) -> dict[str, int]:
        """How many escalations each kind had."""
        return dict(sorted(Counter(e.kind for e in self.escalations).items()))

    def summaries(self) -> list[KindSummary]:
        """One summary per kind, by name."""
        return [_summary(kind, [p for p in self.points if p.kind == kind]) for kind in self.kinds()]

    def total(self) -> KindSummary:
        """The summary over every kind."""
        return _summary("all kinds", self.points)


def _learning_day(day: str, approvals: list[Approval], taught: int) -> LearningDay:
    if not approvals:
        return LearningDay(day, 0, None, None, taught)
    first = sum(1 for approval in approvals if approval.first_pass)
    attempts = statistics.fmean(approval.attempts for approval in approvals)
    return LearningDay(day, len(approvals), first / len(approvals), attempts, taught)


def approval_of(kind: str, status: TaskStatus, events: Iterable[Event]) -> Approval | None:
    """The approval of an approved task: its day, and the drafts it took."""
    if status is not TaskStatus.APPROVED:
        return None
    drafts, approved_at = 0, None
    for event in events:
        if event.type == "save_draft":
            drafts += 1
        elif event.type in ("approve", "edit"):
            approved_at = event.created_at
    if approved_at is None or drafts == 0:
        return None
    return Approval(day_of(approved_at), kind, drafts)


def _summary(kind: str, points: list[DecisionPoint]) -> KindSummary:
    counts = Counter(point.verdict for point in points)
    waits = [p.wait_seconds for p in points if p.wait_seconds is not None]
    return KindSummary(
        kind,
        {verdict: counts.get(verdict, 0) for verdict in VERDICTS},
        statistics.median(waits) if waits else None,
        percentile(waits, 90) if waits else None,
    )


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile by the nearest-rank method (an actual observed value)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Overdue:
    """Tasks awaiting review now, per kind with timers: how many are overdue, how many escalated.

    Overdue is what ``placet ls --overdue`` lists (``timers.is_overdue``): the
    draft under review was reminded or escalated. Escalated: its escalation
    fired and nobody has decided it since.
    """

    overdue: dict[str, int] = field(default_factory=dict)
    escalated: dict[str, int] = field(default_factory=dict)
    tasks_scanned: int = 0

    def add(self, kind: str, state: TimerState) -> None:
        """Count one task awaiting review, from where its timers stand."""
        self.tasks_scanned += 1
        self.overdue[kind] = self.overdue.get(kind, 0) + is_overdue(state)
        self.escalated[kind] = self.escalated.get(kind, 0) + state.escalated


def time_summaries(times: Iterable[Timed]) -> list[TimeSummary]:
    """One summary per label, by label."""
    by_label: dict[str, list[float]] = {}
    for timed in times:
        by_label.setdefault(timed.label, []).append(timed.seconds)
    return [
        TimeSummary(label, len(values), statistics.median(values), percentile(values, 90))
        for label, values in sorted(by_label.items())
    ]


def decision_points(kind: str, events: Iterable[Event]) -> list[DecisionPoint]:
    """The decisions in one task's events, each timed from its draft being saved."""
    points: list[DecisionPoint] = []
    drafted_at: float | None = None
    for event in events:
        if event.type == "save_draft":
            drafted_at = event.created_at
        elif event.type in VERDICTS:
            wait = event.created_at - drafted_at if drafted_at is not None else None
            points.append(DecisionPoint(day_of(event.created_at), kind, event.type, wait))
    return points


def day_of(timestamp: float) -> str:
    """The UTC day of a timestamp, ``2025-01-31``."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


# -- one task's review times ---------------------------------------------------------------


@dataclass(frozen=True)
class FinalDecision:
    """The decision that ended a task: who, what, and how long after it first awaited review."""

    actor: str
    verdict: str
    seconds: float


@dataclass(frozen=True)
class TaskTimes:
    """One task's first touch, final decision and escalations, as its events tell."""

    first_touch_seconds: float | None = None
    final: FinalDecision | None = None
    escalation_days: tuple[str, ...] = ()


def task_times(status: TaskStatus, events: Iterable[Event]) -> TaskTimes:
    """When a person first touched the task, who ended it and when, and its escalations."""
    awaiting_since: float | None = None
    touched: float | None = None
    last_verdict: Event | None = None  # the latest person's verdict no later step undid
    escalated: list[str] = []
    for event in events:
        if event.type == "save_draft":
            awaiting_since = event.created_at if awaiting_since is None else awaiting_since
            last_verdict = None
            continue
        if awaiting_since is None or event.type in _DRAFTING:
            continue  # before review, or a worker's step
        person = is_person(event.actor)
        if touched is None and person:
            touched = event.created_at - awaiting_since
        if event.type in VERDICTS and person:
            last_verdict = event
        elif event.type == DEADLINE:
            last_verdict = None  # the deadline ended it, not the approvals before it
        elif event.type == ESCALATED:
            escalated.append(day_of(event.created_at))
    final = None
    if status in _DECIDED and last_verdict is not None and awaiting_since is not None:
        waited = last_verdict.created_at - awaiting_since
        final = FinalDecision(last_verdict.actor, last_verdict.type, waited)
    return TaskTimes(touched, final, tuple(escalated))


def groups_of(person: str, groups: Groups) -> tuple[str, ...]:
    """The reviewer groups ``person`` is in, by name; ``(NO_GROUP,)`` when none."""
    found = tuple(sorted(name for name, people in groups.items() if person in people))
    return found or (NO_GROUP,)
