"""Commands that decide: approve, edit, revise, reject, and the review loop."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import click
import typer
from rich.text import Text

from placet.cli.common import (
    EXIT_USAGE,
    TaskArg,
    cli_principal,
    fail,
    handle_errors,
    open_engine,
)
from placet.cli.render import draft_panel, err, input_summary, plain, print_boxed
from placet.domain.diffs import changed_lines
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.policy import Principal
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest, Engine
from placet.errors import ConflictError, InvalidInputError, PermissionDeniedError

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


def _decide(engine: Engine, request: DecisionRequest) -> Task:
    task = engine.decide(request)
    if task.status is TaskStatus.QUEUED:
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


def _lines_changed(engine: Engine, task: Task) -> str:
    """``3 lines changed``, from the diff the edit decision recorded."""
    decision = engine.detail(task.id).decisions[-1]
    count = changed_lines(decision.diff or "")
    return f"{count} line{'' if count == 1 else 's'} changed"


@handle_errors
def approve(task_id: TaskArg, actor: ActorOption = None, version: VersionOption = None) -> None:
    """Approve the draft a task is waiting on, as it is."""
    _decide_now(task_id, DecisionKind.APPROVE, actor, version)


@handle_errors
def edit(
    task_id: TaskArg,
    text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The edited text; without it, $EDITOR opens the draft."),
    ] = None,
    actor: ActorOption = None,
    version: VersionOption = None,
) -> None:
    """Approve the draft with your changes; the diff is recorded."""
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        task = engine.get(engine.resolve_task_id(task_id))
        draft = engine.detail(task.id).current_draft
        if task.status is not TaskStatus.AWAITING_REVIEW or draft is None:
            fail(f"task {task.id} is {task.status.value}, not awaiting review")
        edited = text if text is not None else _edit_in_editor(draft.output)
        if edited is None:
            fail("the editor was closed without saving; nothing was recorded")
        request = DecisionRequest(
            task.id, DecisionKind.EDIT, who, draft.id, version or task.version, text=edited
        )
        _decide(engine, request)


def _edit_in_editor(text: str) -> str | None:
    if not sys.stdin.isatty():
        fail("no terminal for an editor; pass the edited text with --text", EXIT_USAGE)
    result: str | None = click.edit(text, extension=".md", require_save=True)
    return result


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
        _decide(engine, DecisionRequest(task_id, kind, who, expected_version=version, **fields))


REVIEW_KEYS = "[a]pprove  [e]dit  [r]evise  [x] reject  [s]kip  [q]uit"


@handle_errors
def review(
    kind: Annotated[list[str], typer.Option("--kind", "-k", help="Only this kind.")] = [],  # noqa: B006
    actor: ActorOption = None,
) -> None:
    """Work through the queue, one key per action."""
    skipped: set[str] = set()
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        while True:
            task = _next_in_queue(engine, who, tuple(kind), skipped)
            if task is None:
                err.print("the queue is empty (of tasks you may decide)")
                return
            if not _review_one(engine, task, who, skipped):
                return


def _next_in_queue(
    engine: Engine, who: Principal, kinds: tuple[str, ...], skipped: set[str]
) -> Task | None:
    """The oldest task awaiting review that this person may decide and has not skipped."""
    after: str | None = None
    while True:
        page = engine.list_tasks(TaskFilter((TaskStatus.AWAITING_REVIEW,), kinds, after, 100))
        for task in page:
            if task.id not in skipped and engine.may_decide(who, task).allowed:
                return task
        if len(page) < 100:
            return None
        after = page[-1].id


def _review_one(engine: Engine, task: Task, who: Principal, skipped: set[str]) -> bool:
    draft = engine.detail(task.id).current_draft
    assert draft is not None
    err.print(Text(f"\n{task.id}  {task.kind}  draft {task.attempt}/{task.max_attempts}", "bold"))
    err.print(plain(f"input: {input_summary(task, 200)}", "dim"))
    print_boxed(err, draft_panel(draft))
    err.print(Text(REVIEW_KEYS, "bold"))
    key = _read_key()
    base = DecisionRequest(task.id, DecisionKind.APPROVE, who, draft.id, task.version)
    try:
        return _act(engine, key, base, draft.output, skipped)
    except (ConflictError, InvalidInputError, PermissionDeniedError) as exc:
        err.print(plain(f"skipped: {exc.message}", "yellow"))
        skipped.add(task.id)
        return True


def _act(engine: Engine, key: str, base: DecisionRequest, text: str, skipped: set[str]) -> bool:
    from dataclasses import replace

    if key == "a":
        _decide(engine, base)
    elif key == "e":
        edited = _edit_in_editor(text) if sys.stdin.isatty() else _prompt("edited text")
        _decide(engine, replace(base, kind=DecisionKind.EDIT, text=edited))
    elif key == "r":
        _decide(engine, replace(base, kind=DecisionKind.REVISE, feedback=_prompt("feedback")))
    elif key == "x":
        _decide(engine, replace(base, kind=DecisionKind.REJECT, reason=_prompt("reason")))
    elif key == "q" or key == "":
        return False
    else:
        skipped.add(base.task_id)
    return True


def _read_key() -> str:
    if sys.stdin.isatty():
        return click.getchar().lower()
    line = sys.stdin.readline()  # scripted input: one line per key
    return line.strip()[:1].lower()


def _prompt(label: str) -> str:
    if sys.stdin.isatty():
        return str(click.prompt(label))
    err.print(f"{label}: ", end="")
    return sys.stdin.readline().strip()
