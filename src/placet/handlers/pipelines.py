"""The outcome handlers that advance pipelines: one per kind with ``then``.

Advancing is an outcome handler, so it inherits the handlers' promise: it runs
after the approval commits, at least once, and a worker killed between the
approval and the submit leaves the delivery to the next worker. The submit
itself is keyed by the parent's id (``placet.engine.pipelines``), so a second
run finds the step the first one made: never lost, never made twice. This
was chosen over submitting inside the approval's transaction because the
next step's input check and model check belong to submitting, and a step that
cannot be submitted must not stop a person's approval from landing.

``backfill`` is on: an approval made while no worker ran is still advanced
(tasks made before their kind had ``then`` are skipped by ``advance``).
"""

from __future__ import annotations

from placet.domain.models import TaskStatus
from placet.domain.outcomes import Outcome
from placet.engine import Engine
from placet.engine.pipelines import advance, handler_for
from placet.handlers.base import Handler


def pipeline_handlers(engine: Engine) -> list[Handler]:
    """A handler for every kind of the engine that leads on to another."""

    def advancing(outcome: Outcome, key: str) -> None:
        advance(engine, outcome.task_id)

    return [
        Handler(handler_for(kind.name), kind.name, TaskStatus.APPROVED, advancing, backfill=True)
        for kind in engine.kinds.values()
        if kind.then
    ]
