"""``placet example``: whether an approved task is an example for its kind; marking it not."""

from __future__ import annotations

from typing import Annotated

import typer

from placet.cli.common import EXIT_USAGE, TaskArg, cli_principal, fail, handle_errors, open_engine
from placet.cli.decide import ActorOption
from placet.cli.render import err, out, plain, when
from placet.domain.models import TaskStatus
from placet.engine import Engine


@handle_errors
def example(
    task_id: TaskArg,
    not_: Annotated[
        bool,
        typer.Option(
            "--not",
            help='Mark it "not an example": later drafts of its kind are not shown it.',
        ),
    ] = False,
    again: Annotated[
        bool, typer.Option("--again", help='Undo "not an example": it may be one again.')
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Say whether an approved task is an example for its kind's later drafts, or mark it.

    A kind with learn = { examples = N } in placet.toml puts the N approved tasks most like
    each new one into its prompt: the request and the text people approved. With --not, this
    one is left out from now on; --again undoes that. Its reviewers and admins may mark; the
    mark is recorded on the task's audit trail, with who made it.
    """
    if not_ and again:
        fail("--not and --again say opposite things: give one", code=EXIT_USAGE)
    with open_engine() as engine:
        task_id = engine.resolve_task_id(task_id)
        if not_ or again:
            changed = engine.examples.mark(cli_principal(engine, actor), task_id, example=again)
            if not changed:
                err.print("nothing to change:")
        _say(engine, task_id)


def _say(engine: Engine, task_id: str) -> None:
    task = engine.get(task_id)
    if task.status is not TaskStatus.APPROVED:
        out.print(plain(f"{task_id} is {task.status.value}: only approved work is an example"))
        return
    mark = engine.examples.mark_of(task_id)
    if mark is not None and mark.excluded:
        line = f"{task_id} is not an example (marked by {mark.by}, {when(mark.at)})"
    else:
        line = f"{task_id} is an example for later drafts of {task.kind}"
        if mark is not None:
            line += f" (marked so again by {mark.by}, {when(mark.at)})"
        kind = engine.kinds.get(task.kind)
        if kind is None or kind.learn.examples <= 0:
            line += f", when the kind uses examples (learn.examples is 0 for {task.kind})"
    out.print(plain(line))
