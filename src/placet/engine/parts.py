"""What the parts mixed into ``Engine`` (``drafting``, ``waiting``) use of the engine itself.

Each part is a class of the engine's methods kept in its own module; this base
declares, for the type checker, what the engine provides them, and the engine's
own definitions must match. Nothing here runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from placet.config import Settings
from placet.domain.models import Decision, Draft, JsonObject, Task, TaskKind
from placet.domain.policy import Principal, Verdict
from placet.domain.transitions import Action
from placet.store.base import Store

if TYPE_CHECKING:
    from placet.domain.changes import Change
    from placet.engine.accounts import Accounts
    from placet.engine.controls import Controls
    from placet.engine.drafting import MadeDraft
    from placet.engine.learning import Learner
    from placet.providers.base import Provider


class EngineParts:
    """The engine's state and methods its mixed-in parts use; ``Engine`` sets and defines them."""

    store: Store
    settings: Settings
    accounts: Accounts
    controls: Controls
    learning: Learner
    _clock: Callable[[], float]
    _kinds: dict[str, TaskKind]

    if TYPE_CHECKING:

        def kind(self, name: str) -> TaskKind: ...

        def provider(self, model: str) -> Provider: ...

        def may_decide(self, principal: Principal, task: Task) -> Verdict: ...

        def _check_allowed(self, task: Task, principal: Principal) -> None: ...

        def _save_draft(self, task: Task, worker: str, made: MadeDraft) -> Task: ...

        def _change(
            self,
            task: Task,
            action: Action,
            actor: str,
            payload: JsonObject,
            now: float,
            event_type: str | None = None,
            draft: Draft | None = None,
            decision: Decision | None = None,
            **updates: Any,
        ) -> Change: ...

        def _apply(self, change: Change) -> Task: ...

        def _apply_quietly(self, change: Change) -> None: ...
