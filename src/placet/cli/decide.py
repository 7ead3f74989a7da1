"""Commands that decide: approve, edit, revise, reject (the review loop is in ``review``)."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from placet.cli.common import (
    TaskArg,
    cli_principal,
    fail,
    handle_errors,
    open_engine,
    warn,
)
from placet.cli.editor import edit_object, edit_text
from placet.cli.render import err
from placet.domain import holds, typed
from placet.domain.diffs import changed_lines
from placet.domain.fastinit import evolve
from placet.domain.models import DecisionKind, JsonObject, Task, TaskStatus
from placet.engine import DecisionRequest, Engine

ActorOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--as",
        help="Decide in another person's name (admins only once accounts exist; recorded "
        "with your name). You are PLACET_USER, or your OS user name.",
    ),
]
VersionOption = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--version", help="Refuse unless the task is still at this version."),
]


def decide_and_say(engine: Engine, request: DecisionRequest) -> Task:
    """Decide, and say in one line what came of it (and whose hold it ended, if another's)."""
    held = engine.hold_of(engine.get(request.task_id))
    task = engine.decide(request)
    if held is not None and held.holder != request.principal.name:
        warn(holds.warning(held, time.time()))
    count = engine.approvals(task)
    if count is not None:  # counted toward the kind's quorum; the task still waits
        left = count.needed - len(count.approvers)
        err.print(f"counted for {task.id}: {count.shown()}; it waits for {left} more")
    elif task.status is TaskStatus.QUEUED:
        err.print(f"revision requested for {task.id}; a new draft will be made")
    elif request.kind is DecisionKind.REVISE:
        err.print(
            f"revision requested for {task.id}; no drafts are left here, so the task "
            "ends and the feedback goes back to whoever asked"
        )
    elif request.kind is DecisionKind.EDIT and task.status is TaskStatus.APPROVED:
        err.print(f"approved with your edit ({_lines_changed(engine, task)}): {task.id}")
    else:
        err.print(f"{task.status.value} {task.id}")
    return task


def edited_draft(engine: Engine, task: Task, shown: str) -> str | None:
    """The draft as edited in the person's editor; a typed kind's object is checked against
    its schema each time it is saved (the engine checks it again as it decides)."""
    kind = engine.kinds.get(task.kind)
    schema = typed.draft_schema(kind) if kind is not None else None
    return edit_text(shown) if schema is None else edit_object(shown, schema)


def _lines_changed(engine: Engine, task: Task) -> str:
    """``3 lines changed``, from the diff the edit decision recorded."""
    decision = engine.detail(task.id).decisions[-1]
    count = changed_lines(decision.diff or "")
    return f"{count} line{'' if count == 1 else 's'} changed"


ChoiceOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--choice",
        "-c",
        help="For a kind with choices: the one you pick (repeat it to pick several where "
        "the kind allows); another than the model proposed is recorded as an edit.",
    ),
]


FieldOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--field",
        metavar="NAME=VALUE",
        help="For a kind with decision_fields: a value it asks for when approving; repeat "
        "for each (numbers and yes/no are read as the kind's fields type them).",
    ),
]


def decision_fields(engine: Engine, task_id: str, pairs: list[str] | None) -> JsonObject | None:
    """``--field NAME=VALUE`` pairs as the kind's decision_fields type them (None: none)."""
    if not pairs:
        return None
    values: JsonObject = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--field needs NAME=VALUE, got {pair!r}")
        values[name.strip()] = value
    kind = engine.kinds.get(engine.get(task_id).kind)
    schema = kind.decision_fields if kind is not None else None
    return typed.values_from_text(schema, values, set(values))


@handle_errors
def approve(
    task_id: TaskArg,
    actor: ActorOption = None,
    version: VersionOption = None,
    choice: ChoiceOption = None,
    field: FieldOption = None,
    reason: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--reason", "-r", help="Why you picked another choice (kept with it)."),
    ] = None,
) -> None:
    """Approve the draft a task is waiting on, as it is (or with the choice you pick)."""
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        task_id = engine.resolve_task_id(task_id)
        picked = tuple(choice) if choice else None
        if reason and picked is None:
            fail("--reason goes with --choice (why you picked it); to reject, use placet reject")
        request = DecisionRequest(
            task_id, DecisionKind.APPROVE, who, expected_version=version, reason=reason
        )
        fields = decision_fields(engine, task_id, field)
        decide_and_say(engine, evolve(request, choice=picked, fields=fields))


@handle_errors
def edit(
    task_id: TaskArg,
    text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="The edited text; without it the draft opens in $VISUAL or $EDITOR "
            "(else nano or vi)."
        ),
    ] = None,
    actor: ActorOption = None,
    version: VersionOption = None,
    field: FieldOption = None,
) -> None:
    """Approve the draft with your changes; the diff is recorded."""
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        task = engine.get(engine.resolve_task_id(task_id))
        draft = engine.detail(task.id).current_draft
        if task.status is not TaskStatus.AWAITING_REVIEW or draft is None:
            fail(f"task {task.id} is {task.status.value}, not awaiting review")
        edited = text if text is not None else edited_draft(engine, task, draft.output)
        if edited is None:
            fail("the edit was not saved; nothing was recorded")
        request = DecisionRequest(
            task.id, DecisionKind.EDIT, who, draft.id, version or task.version, text=edited
        )
        request = evolve(request, fields=decision_fields(engine, task.id, field))
        decide_and_say(engine, request)


@handle_errors
def revise(
    task_id: TaskArg,
    feedback: Annotated[str, typer.Option("--feedback", "-f", help="What to change.")],
    actor: ActorOption = None,
    version: VersionOption = None,
) -> None:
    """Ask for a new draft; your feedback goes into the next prompt."""
    _decide_now(task_id, DecisionKind.REVISE, actor, version, feedback=feedback)


@handle_errors
def reject(
    task_id: TaskArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why; the requester sees it.")],
    actor: ActorOption = None,
    version: VersionOption = None,
) -> None:
    """Reject the task for good, with a reason."""
    _decide_now(task_id, DecisionKind.REJECT, actor, version, reason=reason)


def _decide_now(
    task_id: str, kind: DecisionKind, actor: str | None, version: int | None, **fields: str
) -> None:
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        task_id = engine.resolve_task_id(task_id)
        decide_and_say(
            engine,
            DecisionRequest(
                task_id,
                kind,
                who,
                expected_version=version,
                feedback=fields.get("feedback"),
                reason=fields.get("reason"),
            ),
        )
