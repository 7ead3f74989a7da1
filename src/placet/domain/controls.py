"""The kill switch: pauses and resumes, and what is paused now. Pure.

An operator pauses everything (``placet pause --reason ...``) or one kind
(``--kind K``). While paused nothing of that scope is drafted, no approved
call runs and no outcome handler fires; decisions are still recorded. Each
pause and resume is a security event (who, when, why), so the state is the
latest event of each scope, read back from the audited log itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from placet.domain.accounts import SecurityEvent

EVERYTHING = "*"  # the scope of a pause that names no kind
PAUSE, RESUME = "pause", "resume"


@dataclass(frozen=True)
class Pause:
    """A pause in force: its scope (a kind, or everything), who paused, why and when."""

    scope: str
    by: str
    reason: str
    at: float

    def shown(self) -> str:
        """``paused by ana: the model leaks names`` (naming the kind when only one is)."""
        what = "paused" if self.scope == EVERYTHING else f"{self.scope} paused"
        return f"{what} by {self.by}: {self.reason}"


Pauses = Mapping[str, Pause]  # in force, by scope


def pauses_in_force(events: Iterable[SecurityEvent]) -> dict[str, Pause]:
    """The pauses in force after these events (oldest first): each scope's latest decides."""
    state: dict[str, Pause] = {}
    for event in events:
        if event.outcome != "allowed" or event.target is None:
            continue
        if event.action == PAUSE:
            state[event.target] = Pause(event.target, event.actor, event.detail or "", event.at)
        elif event.action == RESUME:
            state.pop(event.target, None)
    return state


def pause_for(pauses: Pauses, kind: str | None = None) -> Pause | None:
    """The pause that stops work of this kind (or of every kind), if any."""
    return pauses.get(EVERYTHING) or (pauses.get(kind) if kind is not None else None)
