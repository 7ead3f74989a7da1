"""Taking an item: one reviewer holds a waiting task for a while so others skip it. Pure.

A reviewer takes an item (``placet take ID``, the dashboard's Open button, the
API); others then see "ana is reviewing" and their queues skip it. A hold is an
event in the task's chain (``taken``, ``released``) and two fields on the task
row (who, until when) that those events prove. It lapses by itself when its
time passes (nothing has to fire), ends when its holder lets go, and ends with
any decision or move of the task. An admin may hand it to someone else.

A hold is a courtesy, not a lock: another eligible reviewer may still decide
(the usual compare-and-set settles a race), and is warned that someone else
was reviewing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from placet.domain.models import Task, TaskKind, TaskStatus

TAKEN, RELEASED = "taken", "released"
DEFAULT_HOLD = 30 * 60.0  # seconds a hold lasts when the kind does not say (hold = "30m")
LONGEST_HOLD = 24 * 3600.0


@dataclass(frozen=True)
class Hold:
    """Who holds a waiting task, and until when."""

    holder: str
    until: float

    def shown(self, now: float) -> str:
        """``ana is reviewing (for 25 more minutes)``."""
        minutes = max(1, math.ceil((self.until - now) / 60))
        left = f"{minutes} more minute{'s' if minutes != 1 else ''}"
        if minutes >= 120:
            left = f"{minutes // 60} more hours"
        return f"{self.holder} is reviewing it (for {left})"


def hold_of(task: Task, now: float) -> Hold | None:
    """The hold in force on a task, or None (none taken, lapsed, or the task moved on)."""
    if task.held_by is None or task.held_until is None or task.held_until <= now:
        return None
    if task.status is not TaskStatus.AWAITING_REVIEW:
        return None
    return Hold(task.held_by, task.held_until)


def held_by_other(task: Task, name: str, now: float) -> Hold | None:
    """The hold someone other than ``name`` has on the task, or None."""
    hold = hold_of(task, now)
    return hold if hold is not None and hold.holder != name else None


def hold_seconds(kind: TaskKind | None, asked: float | None = None) -> float:
    """How long a new hold lasts: what was asked, else the kind's ``hold``, else 30 minutes."""
    if asked is not None:
        if not 1 <= asked <= LONGEST_HOLD:
            raise ValueError("a hold lasts from 1 second to 1 day")
        return asked
    if kind is not None and kind.hold is not None:
        return kind.hold
    return DEFAULT_HOLD


def warning(hold: Hold, now: float) -> str:
    """What someone deciding over another's hold is told."""
    return f"{hold.shown(now)}; your decision was recorded and ends their hold"
