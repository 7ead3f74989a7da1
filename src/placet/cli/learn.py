"""``placet learn`` and ``placet lessons``: what a kind learns from its reviewers."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from placet.cli.common import EXIT_USAGE, cli_principal, fail, handle_errors, open_engine
from placet.cli.render import err, out, plain, when
from placet.domain import lessons as lesson_rules
from placet.domain.models import Task, TaskStatus
from placet.engine import Engine
from placet.engine.worker import worker_name

KindArg = Annotated[str, typer.Argument(help="The task kind, from placet.toml.")]
ActorOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--as",
        help="Act in another person's name (admins only once accounts exist; recorded with "
        "your name). You are PLACET_USER, or your OS user name.",
    ),
]


@handle_errors
def learn(
    kind: KindArg,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft/--no-draft",
            help="Draft the proposal here and now (default), or leave it to a worker.",
        ),
    ] = True,
    actor: ActorOption = None,
) -> None:
    """Propose lessons for a kind from its reviewers' feedback, edits and rejection reasons.

    The proposal is a task of the kind lessons:KIND: a person reviews it like any
    draft (approve, edit, revise, reject) and only its approved lines go into the
    kind's prompt. Lessons already in use are not proposed again; a proposed one
    that may contradict one in use is pointed out.
    """
    with open_engine() as engine:
        who = cli_principal(engine, actor)
        proposal = engine.learning.propose_as(who, kind)
        err.print(f"proposed lessons for {kind}: task {proposal.id} ({proposal.kind})")
        if draft and proposal.status is TaskStatus.QUEUED:
            claimed = engine.claim(worker_name("learn"), proposal.id)
            if claimed is not None:
                proposal = engine.draft(claimed, claimed.lease_owner or "learn")
        _show_proposal(engine, proposal)


def _show_proposal(engine: Engine, proposal: Task) -> None:
    draft = engine.detail(proposal.id).current_draft
    if draft is None:
        err.print("a worker drafts it (placet worker, or placet serve); then review it")
        return
    out.print(plain(draft.output))
    base = lesson_rules.learner_of(proposal.kind) or ""
    active = engine.learning.active_lessons(base)
    for new, old in lesson_rules.contradictions(draft.output.splitlines(), active):
        err.print(plain(f'may contradict a lesson in use: "{new}" / "{old}"', "yellow"))
    err.print(
        f"decide it like any draft: placet approve {proposal.id} | placet edit {proposal.id} "
        f"| placet reject {proposal.id} --reason ... | placet review | the dashboard"
    )


@handle_errors
def lessons(
    kind: KindArg,
    retire: Annotated[
        Optional[int],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option("--retire", metavar="N", help="Stop using lesson N (it can be restored)."),
    ] = None,
    restore: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--restore", metavar="N", help="Use retired lesson N again."),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """List a kind's lessons (in use and retired), or retire or restore one.

    Lessons come from approved lesson proposals (placet learn KIND). Those in use
    go into every prompt of the kind, after its system prompt; each draft records
    the lesson set it was made with.
    """
    if retire is not None and restore is not None:
        fail("retire or restore one lesson at a time", code=EXIT_USAGE)
    with open_engine() as engine:
        engine.kind(kind)
        if retire is not None or restore is not None:
            who = cli_principal(engine, actor)
            if retire is not None:
                lesson = engine.learning.retire(who, kind, retire)
            else:
                assert restore is not None
                lesson = engine.learning.restore(who, kind, restore)
            state = "in use" if lesson.active else "retired"
            err.print(plain(f'lesson {lesson.number} of {kind} is {state}: "{lesson.text}"'))
            return
        _list_lessons(engine, kind)


def _list_lessons(engine: Engine, kind: str) -> None:
    taught = engine.learning.lessons(kind)
    if not taught:
        err.print(f"{kind} has no lessons yet: placet learn {kind} proposes some")
        return
    table = Table("n", "state", "lesson", "approved", "proposal", box=None, pad_edge=False)
    for lesson in taught:
        state = Text("in use", "green") if lesson.active else Text("retired", "dim")
        approved = plain(f"{when(lesson.approved_at)} by {lesson.approved_by}")
        table.add_row(str(lesson.number), state, plain(lesson.text), approved, lesson.task_id)
    out.print(table)
