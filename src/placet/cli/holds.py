"""``placet take``: take an item to review, let it go, or (admins) hand it to someone."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from placet.cli.common import (
    EXIT_USAGE,
    TaskArg,
    cli_principal,
    fail,
    handle_errors,
    open_engine,
)
from placet.cli.decide import ActorOption
from placet.cli.render import err, when
from placet.domain.timers import parse_duration
from placet.engine import Engine


@handle_errors
def take(
    task_id: TaskArg,
    hold_for: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--for",
            help='How long to hold it, such as "15m" or "2h" (at most a day); '
            "default: the kind's hold setting, else 30 minutes.",
        ),
    ] = None,
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--to", help="Hand it to this person instead (admins only)."),
    ] = None,
    release: Annotated[
        bool, typer.Option("--release", help="Let it go: it is back in everyone's queue.")
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Take a waiting task to review: others see that you are reviewing it and skip it.

    The hold lapses by itself after a while (--for), ends when you decide, and
    ends with --release. Someone else may still decide it (they are warned); an
    admin may hand it to another reviewer with --to.
    """
    seconds = _seconds(hold_for)
    if release and (to is not None or hold_for is not None):
        fail("--release lets an item go: it takes neither --to nor --for", code=EXIT_USAGE)
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        task_id = engine.resolve_task_id(task_id)
        if release:
            engine.let_go(task_id, who)
            err.print(f"let go of {task_id}: it is back in the queue")
            return
        if to is not None:
            task = engine.hand_over(task_id, who, to, seconds)
        else:
            task = engine.take(task_id, who, seconds)
        _say_held(engine, task_id, task.held_until)


def _seconds(hold_for: str | None) -> float | None:
    if hold_for is None:
        return None
    try:
        return parse_duration(hold_for)
    except ValueError as exc:
        fail(f"--for {exc}", code=EXIT_USAGE)


def _say_held(engine: Engine, task_id: str, until: float | None) -> None:
    hold = engine.hold_of(engine.get(task_id))
    assert hold is not None and until is not None
    err.print(
        f"{hold.holder} is reviewing {task_id} until {when(until)}; others' queues skip it "
        f"(placet take {task_id} --release lets it go)"
    )
