"""``placet review``: the queue in the terminal, one task at a time, one key per action."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from typing import Annotated

import click
import typer
from rich.panel import Panel
from rich.text import Text

from placet.cli.common import cli_principal, handle_errors, open_engine
from placet.cli.decide import ActorOption, decide_and_say, edited_draft
from placet.cli.render import draft_panel, err, input_summary, plain, print_boxed
from placet.domain import holds
from placet.domain.models import DecisionKind, Draft, Task, TaskStatus
from placet.domain.policy import Principal
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest, Engine
from placet.errors import ConflictError, InvalidInputError, PermissionDeniedError

REVIEW_KEYS = "[a]pprove  [e]dit  [r]evise  [x] reject  [s]kip  [q]uit"
CHOICE_KEYS = "123456789"  # a kind's choices, in order; further ones are picked by editing
PAGE = 100
# Lines under a task's card: a blank one and the keys. A card taller than the
# terminal less these is paged, or its header would scroll out of sight.
LINES_BELOW_CARD = 2


@handle_errors
def review(
    kind: Annotated[list[str], typer.Option("--kind", "-k", help="Only this kind.")] = [],  # noqa: B006
    actor: ActorOption = None,
) -> None:
    """Work through the queue, one key per action.

    A draft taller than the terminal opens in a pager ($PAGER, else less) with
    the task's header; quit it to choose. The queue holds drafted tasks: queued
    ones are drafted by `placet worker`.
    """
    skipped: set[str] = set()
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        while True:
            found = _next_in_queue(engine, who, tuple(kind), skipped)
            if found.task is None:
                err.print("the queue is empty (of tasks you may decide)")
                _say_held_by_others(found.held)
                _say_what_waits_for_a_draft(engine, tuple(kind))
                return
            if not _review_taken(engine, found.task, who, skipped):
                return


@dataclass
class _Found:
    """The next task to review, and how many were passed over because others hold them."""

    task: Task | None = None
    held: int = 0


def _review_taken(engine: Engine, task: Task, who: Principal, skipped: set[str]) -> bool:
    """Take the task while it is shown, so others' queues skip it; let it go if undecided."""
    try:
        task = engine.take(task.id, who)
    except ConflictError as exc:  # taken by someone else since it was listed
        err.print(plain(f"skipped: {exc.message}", "yellow"))
        skipped.add(task.id)
        return True
    try:
        return _review_one(engine, task, who, skipped)
    finally:
        if engine.hold_of(engine.get(task.id)) is not None:  # skipped or quit: undecided
            engine.let_go(task.id, who)


def _say_held_by_others(held: int) -> None:
    if held:
        were = "task is" if held == 1 else "tasks are"
        err.print(f"{held} {were} being reviewed by someone else (placet ls shows who)")


def _next_in_queue(
    engine: Engine, who: Principal, kinds: tuple[str, ...], skipped: set[str]
) -> _Found:
    """The oldest task awaiting review that this person may decide, has not skipped,
    and nobody else is reviewing."""
    after: str | None = None
    found = _Found()
    while True:
        page = engine.list_tasks(TaskFilter((TaskStatus.AWAITING_REVIEW,), kinds, after, PAGE))
        for task in page:
            if task.id in skipped or not engine.may_decide(who, task).allowed:
                continue
            if holds.held_by_other(task, who.name, time.time()) is not None:
                found.held += 1
                continue
            found.task = task
            return found
        if len(page) < PAGE:
            return found
        after = page[-1].id


def _say_what_waits_for_a_draft(engine: Engine, kinds: tuple[str, ...]) -> None:
    """Tasks still to be drafted are not in the queue yet: say so, and what drafts them."""
    counts = engine.count_by_status()
    queued, drafting = (
        sum(n for (kind, s), n in counts.items() if s is status and (not kinds or kind in kinds))
        for status in (TaskStatus.QUEUED, TaskStatus.DRAFTING)
    )
    if queued and not drafting:
        err.print(
            f"{_tasks(queued)} waiting to be drafted, and none is being drafted: is a worker "
            "running? Start one in another terminal with: placet worker"
        )
    elif queued or drafting:
        err.print(
            f"{_tasks(queued)} waiting to be drafted, {drafting} being drafted now; "
            "run placet review again once they are drafted"
        )


def _tasks(count: int) -> str:
    return f"{count} task is" if count == 1 else f"{count} tasks are"


def _review_one(engine: Engine, task: Task, who: Principal, skipped: set[str]) -> bool:
    draft = engine.detail(task.id).current_draft
    assert draft is not None
    _show_card(task, draft)
    choices = _choices_of(engine, task)
    if choices:  # a kind with choices: one key each, before the usual ones
        err.print(Text(choice_keys(choices), "bold"))
    err.print(Text(REVIEW_KEYS, "bold"))
    key = _read_key()
    base = DecisionRequest(task.id, DecisionKind.APPROVE, who, draft.id, task.version)
    try:
        if key in CHOICE_KEYS[: len(choices)]:
            return _pick(engine, base, choices, key)
        return _act(engine, key, base, draft.output, skipped)
    except (ConflictError, InvalidInputError, PermissionDeniedError) as exc:
        err.print(plain(f"skipped: {exc.message}", "yellow"))
        skipped.add(task.id)
        return True


def _choices_of(engine: Engine, task: Task) -> tuple[str, ...]:
    kind = engine.kinds.get(task.kind)
    return kind.choices[: len(CHOICE_KEYS)] if kind is not None else ()


def choice_keys(choices: tuple[str, ...]) -> str:
    """The keys that pick: ``[1] allow  [2] remove  [3] escalate``."""
    return "  ".join(f"[{key}] {choice}" for key, choice in zip(CHOICE_KEYS, choices, strict=False))


def _pick(engine: Engine, base: DecisionRequest, choices: tuple[str, ...], key: str) -> bool:
    """Approve with the choice the key names; another than the draft's asks why (optional)."""
    picked = choices[CHOICE_KEYS.index(key)]
    reason = _prompt(f"why {picked} (Enter to keep the model's reason if it proposed it)")
    decide_and_say(engine, replace(base, choice=(picked,), reason=reason or None))
    return True


def _heading(task: Task) -> list[Text]:
    """The lines that say which task this is: its id, kind and draft, and its input."""
    return [
        Text(f"{task.id}  {task.kind}  draft {task.attempt}/{task.max_attempts}", "bold"),
        plain(f"input: {input_summary(task, 200)}", "dim"),
    ]


def _show_card(task: Task, draft: Draft) -> None:
    """The card; one taller than the terminal goes through the pager, then its header again.

    Printed whole, a long draft would push the task's header off the top of the
    screen; paged, the person reads it from its first line, and the header
    stays in sight above the keys once the pager is closed.
    """
    heading, panel = _heading(task), draft_panel(draft)
    if _can_page():
        with err.capture() as captured:
            _print(heading, panel)
        shown = captured.get()
        if shown.count("\n") + LINES_BELOW_CARD > err.height:
            click.echo_via_pager(shown)
            err.print()
            _print(heading)  # in sight again, above the keys
            return
    err.print()
    _print(heading, panel)


def _print(heading: list[Text], panel: Panel | None = None) -> None:
    for line in heading:
        err.print(line)
    if panel is not None:
        print_boxed(err, panel)


def _can_page() -> bool:
    """A person at a terminal: keys come from it and the pager can take it over."""
    return err.is_terminal and sys.stdin.isatty() and sys.stdout.isatty()


def _act(engine: Engine, key: str, base: DecisionRequest, text: str, skipped: set[str]) -> bool:
    if key == "a":
        decide_and_say(engine, base)
    elif key == "e":
        task = engine.get(base.task_id)
        edited = edited_draft(engine, task, text) if sys.stdin.isatty() else _prompt("edited text")
        if edited is None:
            err.print("the edit was not saved; nothing was recorded")
            return True
        decide_and_say(engine, replace(base, kind=DecisionKind.EDIT, text=edited))
    elif key == "r":
        decide_and_say(
            engine, replace(base, kind=DecisionKind.REVISE, feedback=_prompt("feedback"))
        )
    elif key == "x":
        decide_and_say(engine, replace(base, kind=DecisionKind.REJECT, reason=_prompt("reason")))
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
