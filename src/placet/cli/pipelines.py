"""Pipelines in the terminal: the chain in ``placet show``, and ``placet run --follow``."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from placet.cli.common import fail
from placet.cli.render import err, out, plain
from placet.domain.models import Task, TaskDetail, TaskStatus
from placet.engine import Engine
from placet.engine.pipelines import advance, chain_in
from placet.errors import PlacetError

_STYLES = {"approved": "green", "rejected": "bold red", "failed": "bold red"}


def show_chain(engine: Engine, detail: TaskDetail) -> None:
    """The task's pipeline in ``placet show``: the step before, the steps after, where it is."""
    chain = chain_in(engine, detail)
    if chain.parent is None and not chain.steps and chain.stands is None:
        return
    out.print(Text("pipeline", "bold"))
    if chain.parent is not None:
        out.print(_step_line("after", chain.parent))
    for step in chain.steps:
        out.print(_step_line("next", step))
    if chain.stands is not None:
        out.print(plain(f"  {chain.stands}", "yellow"), soft_wrap=True)


def _step_line(label: str, task: Task) -> Text:
    status = task.status.value
    line = Text(f"  {label}  ").append(task.id).append(f"  {task.kind}  ")
    return line.append(status, _STYLES.get(status, "yellow"))


def follow_chain(engine: Engine, first: str, follow_one: Callable[[str], Task]) -> Task:
    """Wait for each step of the pipeline ``first`` starts (``follow_one`` drafts it here and
    waits for its decision), submit the next one, and say where the chain ended."""
    current, number = first, 1
    while True:
        task = follow_one(current)
        if task.status is not TaskStatus.APPROVED:
            err.print(
                plain(
                    f"the pipeline stopped at step {number} ({task.kind}, task {task.id}): "
                    f"{task.status.value}",
                    "bold red",
                ),
                soft_wrap=True,
            )
            return task
        try:
            step = advance(engine, task.id)
        except PlacetError as exc:
            fail(
                f"the pipeline stopped after step {number} ({task.kind}, task {task.id}, "
                f"approved): the next step could not be submitted: {exc.message}"
            )
        if step is None:
            err.print(
                plain(
                    f"the pipeline ended at step {number} ({task.kind}, task {task.id})",
                    "bold green",
                ),
                soft_wrap=True,
            )
            return task
        err.print(
            plain(f"approved step {number} ({task.kind}): {task.final_output or ''}", "green")
        )
        number += 1
        err.print(plain(f"\nstep {number}: task {step.id} ({step.kind})", "bold"))
        current = step.id
