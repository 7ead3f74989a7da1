"""Deadlines, reminders and escalation: when each of a waiting task's timers is due. Pure.

A kind may set ``remind_after = "1h"`` (then every hour after), ``escalate_after =
"4h"`` with ``escalate_to = ["group:managers"]`` (who then may decide it too),
and ``deadline = "1d"`` with ``on_deadline = "reject"`` or ``"expire"``. There
is no setting that approves when nobody answered: nothing is ever approved
silently. The clock starts when the draft under review was saved; a revision
(a new draft) starts it again.

What has fired is read from the task's own events (``reminder``,
``escalated``, ``deadline``), so a timer fires once however many sweepers
run: each firing is a compare-and-set on the task's version.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from placet.domain.models import Event, TaskKind

REMINDER, ESCALATED, DEADLINE = "reminder", "escalated", "deadline"
RESCHEDULED = "timers_rescheduled"  # the kind's timers changed under a waiting task
ON_DEADLINE = ("reject", "expire")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: object) -> float:
    """Seconds from ``"90s"``, ``"15m"``, ``"4h"``, ``"1d"`` or ``"1h30m"``; ValueError if not."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f'must be a duration such as "30m", "4h" or "1d", not {text!r}')
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise ValueError(f'must be a duration such as "30m", "4h" or "1d", not {text!r}')
    seconds = sum(float(number) * _UNIT[unit] for number, unit in parts)
    if not 1 <= seconds <= 366 * 86400:
        raise ValueError(f"must be from 1 second to 366 days, not {text!r}")
    return seconds


def shown_duration(seconds: float) -> str:
    """``4h``, ``1d``, ``1h30m``: a duration as a person writes it."""
    left, out = round(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            out.append(f"{left // size}{unit}")
            left %= size
    return "".join(out) or "0s"


def has_timers(kind: TaskKind) -> bool:
    """True when the kind sets any of its timers."""
    return any(t is not None for t in (kind.remind_after, kind.escalate_after, kind.deadline))


@dataclass(frozen=True)
class TimerState:
    """Where a waiting task's timers stand: since when it waits, and what has fired."""

    since: float  # when the draft under review was saved
    reminders: int = 0  # the number of the last reminder fired (0: none)
    escalated: bool = False


def timer_state(events: Iterable[Event]) -> TimerState:
    """The timers of the draft now under review, from the task's events."""
    state = TimerState(0.0)
    for event in events:
        if event.type == "save_draft":
            state = TimerState(event.created_at)
        elif event.type == REMINDER:
            number = event.payload.get("number")
            fired = number if isinstance(number, int) else state.reminders + 1
            state = TimerState(state.since, fired, state.escalated)
        elif event.type == ESCALATED:
            state = TimerState(state.since, state.reminders, True)
    return state


def is_overdue(state: TimerState) -> bool:
    """True when the draft under review was reminded or escalated: nobody decided in time.

    What ``placet ls --overdue`` lists and the stats count as overdue.
    """
    return state.reminders > 0 or state.escalated


@dataclass(frozen=True)
class Due:
    """A timer that is due: what fires, when it was due, and a reminder's number."""

    what: str  # REMINDER, ESCALATED or DEADLINE
    at: float
    number: int = 0


def due_timers(kind: TaskKind, state: TimerState) -> list[Due]:
    """Each timer still to fire for this draft, soonest first (a deadline wins a tie)."""
    found = []
    if kind.deadline is not None:
        found.append(Due(DEADLINE, state.since + kind.deadline))
    if kind.escalate_after is not None and not state.escalated:
        found.append(Due(ESCALATED, state.since + kind.escalate_after))
    if kind.remind_after is not None:
        number = state.reminders + 1
        found.append(Due(REMINDER, state.since + kind.remind_after * number, number))
    order = {DEADLINE: 0, ESCALATED: 1, REMINDER: 2}
    return sorted(found, key=lambda due: (due.at, order[due.what]))


def next_due_at(kind: TaskKind, state: TimerState) -> float | None:
    """When the next timer of this draft is due, or None when none is left."""
    found = due_timers(kind, state)
    return found[0].at if found else None


def to_fire(kind: TaskKind, state: TimerState, now: float) -> Due | None:
    """The one timer to fire now, if any: a passed deadline first, then escalation, then a
    reminder (one, however many were missed while nothing swept: numbered as the latest)."""
    due = [d for d in due_timers(kind, state) if d.at <= now]
    for what in (DEADLINE, ESCALATED):
        for found in due:
            if found.what == what:
                return found
    for found in due:
        assert kind.remind_after is not None
        latest = max(found.number, math.floor((now - state.since) / kind.remind_after))
        return Due(REMINDER, found.at, latest)
    return None


def describe(kind: TaskKind, state: TimerState, now: float) -> str:
    """``reminded 2 times · escalated to group:managers · deadline in 5h (then rejected)``."""
    said = []
    if state.reminders:
        said.append(f"reminded {state.reminders} time{'s' if state.reminders != 1 else ''}")
    if state.escalated:
        said.append(f"escalated to {', '.join(kind.escalate_to)}")
    elif kind.escalate_after is not None:
        left = state.since + kind.escalate_after - now
        said.append(f"escalates to {', '.join(kind.escalate_to)} in {shown_duration(max(left, 0))}")
    if kind.deadline is not None:
        left = state.since + kind.deadline - now
        then = "rejected" if kind.on_deadline == "reject" else "expired"
        said.append(f"deadline in {shown_duration(max(left, 0))} (then {then})")
    return " · ".join(said) or "waiting"


def after_firing(state: TimerState, fired: Due) -> TimerState:
    """The state once ``fired`` is recorded."""
    if fired.what == REMINDER:
        return TimerState(state.since, fired.number, state.escalated)
    if fired.what == ESCALATED:
        return TimerState(state.since, state.reminders, True)
    return state
