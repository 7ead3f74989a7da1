"""What became of an approved call's one run, read off its task's events.

A guarded call (``placet.sdk.gates``) marks its run ``execution_started`` before it
runs and records ``executed`` after, with the outcome; a LangGraph thread
resumed with an approval (``placet.integrations.langgraph``) records
``langgraph_resumed``. A start with no outcome is a run still going, or one
whose process ended midway: it never runs again by itself, so a person has to
look at what it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from placet.domain.models import Event

STARTED = "execution_started"  # the compare-and-set that lets a call run once
EXECUTED = "executed"  # a guarded call's outcome
RESUMED = "langgraph_resumed"  # a LangGraph thread's, once resumed with the approval
FINISHED = frozenset({EXECUTED, RESUMED})
# What a person should make of a start with no outcome (the CLI and the task page say it).
UNFINISHED_ADVICE = (
    "It is still running, or the process that ran it ended midway; it never runs again "
    "by itself, so check what it did."
)


@dataclass(frozen=True)
class Execution:
    """The run of an approved call: who started it and when, and how it ended, if it did."""

    started_at: float
    started_by: str
    finished_at: float | None  # None: no outcome recorded
    ok: bool | None
    error: str | None

    @property
    def unfinished(self) -> bool:
        """Started and no outcome recorded: still running, or its process ended midway."""
        return self.finished_at is None


def execution_of(events: Sequence[Event]) -> Execution | None:
    """The task's run, from its events in order; None when nothing was run."""
    started = next((event for event in events if event.type == STARTED), None)
    if started is None:
        return None
    after = (event for event in events if event.type in FINISHED and event.seq > started.seq)
    finished = next(after, None)
    if finished is None:
        return Execution(started.created_at, started.actor, None, None, None)
    ok = finished.payload.get("ok") is True
    error = None if ok else str(finished.payload.get("error") or "failed")
    return Execution(started.created_at, started.actor, finished.created_at, ok, error)
