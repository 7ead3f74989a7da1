"""Who an event's actor is: a person, or Placet's own automation. Pure.

A person acts under their account's name (``ana``; account names hold no
colon) or, with no accounts, the operating-system user's. Automation acts as
``placet`` (the timers) or under a process's name, which always holds a colon:
``worker:HOST:PID``, ``handlers:HOST:PID``, ``supervisor:MODEL``.
"""

from __future__ import annotations

SYSTEM_ACTOR = "placet"  # who fires timers: no person


def is_person(actor: str) -> bool:
    """True when ``actor`` is a person, not Placet itself or one of its processes."""
    return actor != SYSTEM_ACTOR and ":" not in actor
