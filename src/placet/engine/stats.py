"""The stats page's and the metrics' reads: bounded scans of tasks and their events.

Two scans, each of at most ``SCAN_LIMIT`` tasks through the task-list index,
then each task's events by primary key: the history (the newest tasks, for
decisions, first touches, final decisions by group and escalations) and now
(the tasks awaiting review of the kinds that have timers, oldest first: the
ones most likely overdue).
"""

from __future__ import annotations

from dataclasses import dataclass

from placet.domain import timers
from placet.domain.models import TaskStatus
from placet.domain.queries import TaskFilter
from placet.domain.stats import Overdue, Stats, TimeSummary
from placet.engine.core import Engine

SCAN_LIMIT = 1000  # the tasks each scan looks at; keeps the page and a scrape fast on big stores


def collect_stats(engine: Engine, limit: int = SCAN_LIMIT) -> Stats:
    """Decisions, first touches, final decisions by group and escalations on the newest tasks."""
    stats = Stats()
    groups = engine.settings.groups
    for task in engine.list_tasks(TaskFilter(limit=limit, newest_first=True)):
        stats.add(task.kind, task.status, engine.task_events(task.id), groups)
    return stats


def overdue_now(engine: Engine, limit: int = SCAN_LIMIT) -> Overdue:
    """The overdue and the escalated tasks awaiting review now, per kind with timers."""
    timed = sorted(name for name, kind in engine.settings.kinds.items() if timers.has_timers(kind))
    found = Overdue({kind: 0 for kind in timed}, {kind: 0 for kind in timed})
    if not timed:
        return found
    waiting = TaskFilter((TaskStatus.AWAITING_REVIEW,), tuple(timed), limit=limit)
    for task in engine.list_tasks(waiting):
        found.add(task.kind, timers.timer_state(engine.task_events(task.id)))
    return found


@dataclass(frozen=True)
class KindReview:
    """One kind's row: its first touches, what is overdue now, its escalations."""

    kind: str
    touch: TimeSummary | None
    overdue: int | None  # None: the kind has no timers
    escalated_awaiting: int | None
    escalations: int


@dataclass(frozen=True)
class ReviewNumbers:
    """Both scans, as one reading: what the stats page and the metrics show."""

    stats: Stats
    overdue: Overdue
    limit: int = SCAN_LIMIT

    def by_kind(self) -> list[KindReview]:
        """One row per kind that has first touches, timers or escalations, by name."""
        touches = {row.label: row for row in self.stats.touch_summaries()}
        escalations = self.stats.escalations_by_kind()
        kinds = sorted(touches.keys() | self.overdue.overdue.keys() | escalations.keys())
        return [
            KindReview(
                kind,
                touches.get(kind),
                self.overdue.overdue.get(kind),
                self.overdue.escalated.get(kind),
                escalations.get(kind, 0),
            )
            for kind in kinds
        ]


def review_numbers(engine: Engine, limit: int = SCAN_LIMIT) -> ReviewNumbers:
    """The history scan and the scan of what awaits review now."""
    return ReviewNumbers(collect_stats(engine, limit), overdue_now(engine, limit), limit)
