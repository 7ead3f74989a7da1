"""The kill switch in the engine: pause and resume, and the check every worker makes.

The state is read from the security log (``domain/controls.py``) and kept for
half a second, so a drafting worker can ask between tokens at no cost and
still stops within a second of a pause made by any process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from placet.domain.controls import EVERYTHING, PAUSE, RESUME, Pause, pause_for, pauses_in_force
from placet.domain.policy import Permission, Principal
from placet.engine.accounts import Accounts
from placet.errors import InvalidInputError, PausedError, PermissionDeniedError

FRESH_SECONDS = 0.5  # how long a read of the state is trusted


class Controls:
    """Pauses in force, read through the accounts' security log and cached briefly."""

    def __init__(self, accounts: Accounts, clock: Callable[[], float] = time.monotonic) -> None:
        self._accounts = accounts
        self._clock = clock
        self._pauses: dict[str, Pause] = {}
        self._read_at: float | None = None

    def pauses(self) -> dict[str, Pause]:
        """Every pause in force, by scope (``*`` for everything)."""
        now = self._clock()
        if self._read_at is None or now - self._read_at > FRESH_SECONDS:
            self._pauses = pauses_in_force(self._accounts.control_events())
            self._read_at = now
        return self._pauses

    def paused(self, kind: str | None = None) -> Pause | None:
        """The pause that stops work of this kind (or everything), if any."""
        return pause_for(self.pauses(), kind)

    def check(self, kind: str | None, what: str) -> None:
        """Raise PausedError when work of this kind is paused; ``what`` names the work."""
        found = self.paused(kind)
        if found is not None:
            raise PausedError(f"{what} waits: {found.shown()} (placet resume lifts it)")

    def pause(self, principal: Principal, reason: str, kind: str | None = None) -> Pause:
        """Pause everything, or one kind; recorded with who and why."""
        scope = kind or EVERYTHING
        self._allow(principal, PAUSE, scope)
        if not reason.strip():
            raise InvalidInputError("a pause needs a reason (--reason), kept in the audit log")
        self._accounts.record(principal.name, PAUSE, "allowed", scope, reason, principal.remote)
        self._read_at = None
        found = self.pauses().get(scope)
        assert found is not None
        return found

    def resume(self, principal: Principal, kind: str | None = None) -> Pause:
        """Lift the pause of everything, or of one kind; the pause lifted is returned."""
        scope = kind or EVERYTHING
        self._allow(principal, RESUME, scope)
        self._read_at = None
        lifted = self.pauses().get(scope)
        if lifted is None:
            what = "nothing" if scope == EVERYTHING else f"kind {scope}"
            raise InvalidInputError(f"{what} is paused; nothing was changed")
        self._accounts.record(principal.name, RESUME, "allowed", scope, None, principal.remote)
        self._read_at = None
        return lifted

    def _allow(self, principal: Principal, action: str, scope: str) -> None:
        if principal.single_user or principal.has(Permission.PAUSE):
            return
        detail = f"{principal.name} may not {action} (admins only; through the {principal.channel})"
        self._accounts.record(principal.name, action, "refused", scope, detail, principal.remote)
        raise PermissionDeniedError(f"only an admin may {action} Placet; nothing was changed")
