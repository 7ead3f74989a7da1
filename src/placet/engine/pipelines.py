"""Pipelines of kinds: submitting the next step of an approved task, and reading the chain.

``advance`` is what runs after an approval (from the outcome handler
``placet.handlers.pipelines`` makes for every kind with ``then``, at least once,
and from ``placet run --follow``): it submits the next kind with the
idempotency key ``pipeline:<parent id>``, so however often it runs, whatever
process dies between the approval and the submit, the step is made exactly
once. The step's ``submitted`` event names the parent and the hash of the
event that approved it; the parent gets a ``pipeline_next`` event naming the
step, so each chain is readable both ways and proved by ``placet audit verify``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from placet.domain import pipelines
from placet.domain.models import DecisionKind, Event, JsonObject, Task, TaskDetail, TaskStatus
from placet.domain.outcomes import outcome_of
from placet.domain.policy import Permission, Principal, may
from placet.errors import ConfigError, ConflictError

if TYPE_CHECKING:
    from placet.engine.core import Engine

ACTOR = "pipeline"
HANDLER_PREFIX = "placet.pipeline."  # the outcome handler advancing a kind's approved tasks
RECORD_TRIES = 5
ENDED = (TaskStatus.REJECTED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.EXPIRED)


def handler_for(kind: str) -> str:
    """The name of the outcome handler that advances a kind's approved tasks."""
    return f"{HANDLER_PREFIX}{kind}"


def advance(engine: Engine, task_id: str) -> Task | None:
    """Submit the step after an approved task (once: a second call returns the same task);
    None when the task leads nowhere (not approved, no ``then``, a choice without a step)."""
    detail = engine.detail(task_id)
    task = detail.task
    approval = approving_event(detail.events)
    if task.status is not TaskStatus.APPROVED or approval is None:
        return None
    if not detail.events or not pipelines.leads_on(detail.events[0].payload):
        return None  # made before its kind had ``then``: a chain starts with new tasks only
    kind = engine.kind(task.kind)
    outcome = outcome_of(task, detail.decisions, detail.events)
    name = pipelines.next_kind(kind, outcome.choice)
    if name is None:
        return None
    templates = pipelines.input_templates(kind, engine.kind(name))
    if templates is None:
        raise ConfigError(f"kind {kind.name!r} needs then_input to make the input of {name!r}")
    value = outcome.value if isinstance(outcome.value, dict) else None
    values = pipelines.next_input(
        templates, outcome.text or "", value, outcome.fields, dict(task.input)
    )
    link: JsonObject = {
        "parent": task.id,
        "parent_kind": task.kind,
        "parent_event": approval.hash,
        "parent_event_seq": approval.seq,
    }
    step = engine.submit(name, values, task.requester, pipelines.step_key(task.id), parent=link)
    _note_step(engine, detail, step)
    return step


def _note_step(engine: Engine, detail: TaskDetail, step: Task) -> None:
    """Record on the parent which step it led to, once (a retry finds it recorded)."""
    payload: JsonObject = {"step": step.id, "kind": step.kind}
    events = detail.events
    for _ in range(RECORD_TRIES):
        if any(e.type == pipelines.NEXT_EVENT and e.payload.get("step") == step.id for e in events):
            return
        try:
            engine.record(detail.task.id, ACTOR, pipelines.NEXT_EVENT, payload)
            return
        except ConflictError:
            events = engine.task_events(detail.task.id)  # another event landed first
    raise ConflictError(f"task {detail.task.id} kept changing; its next step is {step.id}")


def approving_event(events: Sequence[Event]) -> Event | None:
    """The event that approved the task (its last approve or edit), if any."""
    for event in reversed(events):
        if event.type in (DecisionKind.APPROVE.value, DecisionKind.EDIT.value):
            return event
    return None


# -- reading a chain -------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """Where a task stands in its pipeline: the step before, the steps after, and a word on
    what happens next (None for a task in no pipeline)."""

    parent: Task | None
    steps: list[Task]
    stands: str | None


def chain_of(engine: Engine, task_id: str) -> Chain:
    """The task's place in its pipeline, read from its events."""
    detail = engine.detail(task_id)
    return chain_in(engine, detail)


def chain_in(engine: Engine, detail: TaskDetail, viewer: Principal | None = None) -> Chain:
    """``chain_of`` for a task already read; with a ``viewer``, only the steps before and
    after that they may see (a step is asked for in the first requester's name, so a
    requester sees their whole chain; the rule is kept here all the same)."""
    parent_id = parent_of(detail.events)
    parent = engine.get(parent_id) if parent_id else None
    step_ids = list(
        dict.fromkeys(
            str(e.payload["step"]) for e in detail.events if e.type == pipelines.NEXT_EVENT
        )
    )
    steps = [engine.get(step_id) for step_id in step_ids]
    stands = _stands(engine, detail, parent, steps)
    if viewer is not None:
        parent = parent if parent is not None and _sees(viewer, parent) else None
        steps = [step for step in steps if _sees(viewer, step)]
    return Chain(parent, steps, stands)


def _sees(viewer: Principal, task: Task) -> bool:
    return may(viewer, Permission.VIEW_TASK, task).allowed


def parent_of(events: Sequence[Event]) -> str | None:
    """The id of the step a task follows, from its ``submitted`` event."""
    if not events:
        return None
    step = events[0].payload.get(pipelines.SUBMITTED_KEY)
    parent = step.get("parent") if isinstance(step, dict) else None
    return parent if isinstance(parent, str) else None


def _stands(
    engine: Engine, detail: TaskDetail, parent: Task | None, steps: list[Task]
) -> str | None:
    task = detail.task
    leads = bool(detail.events) and pipelines.leads_on(detail.events[0].payload)
    if steps or not (leads or parent):
        return None
    if task.status in ENDED:
        return f"the pipeline stops here: this step was {task.status.value}"
    if task.status is not TaskStatus.APPROVED:
        return None
    kind = engine.kinds.get(task.kind)
    outcome = outcome_of(task, detail.decisions, detail.events)
    following = pipelines.next_kind(kind, outcome.choice) if kind is not None else None
    if not leads or following is None:
        return "the pipeline ends here"
    failure = _gave_up(detail.events, handler_for(task.kind))
    if failure is not None:
        why = f"the next step ({following}) could not be submitted: {failure}"
        return f"the pipeline stops here: {why}"
    return f"the next step ({following}) is being submitted (placet worker does it)"


def _gave_up(events: Sequence[Event], handler: str) -> str | None:
    """The error of the advancing handler's last attempt, when it will not try again."""
    for event in reversed(events):
        if event.payload.get("handler") != handler:
            continue
        if event.type == "handler_failed" and event.payload.get("next_try_at") is None:
            return str(event.payload.get("error", "unknown error"))
        return None
    return None


def steps_from(engine: Engine, task_id: str) -> list[Task]:
    """The chain a task starts, in order, following the first step after each."""
    found: list[Task] = []
    current: str | None = task_id
    while current is not None and len(found) < 1000:
        chain = chain_of(engine, current)
        found.append(engine.get(current))
        current = chain.steps[0].id if chain.steps else None
    return found
