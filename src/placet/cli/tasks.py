"""Commands that create, drive and inspect tasks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from placet.auditkey import KEY_ENV, key_path, make_key_file
from placet.channels.folder import FolderChannel
from placet.channels.notices import task_notifications
from placet.cli.audit import KEY_ADVICE
from placet.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_REJECTED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    TaskArg,
    actor_name,
    fail,
    handle_errors,
    open_engine,
    parse_inputs,
    warn_of_unused_inputs,
)
from placet.cli.pipelines import follow_chain, show_chain
from placet.cli.render import (
    draft_panel,
    err,
    out,
    plain,
    print_boxed,
    print_table,
    show_deliveries,
    show_detail,
    show_notifications,
    task_table,
)
from placet.config import CONFIG_FILE, load_settings
from placet.domain import routing, typed
from placet.domain.models import JsonObject, Task, TaskStatus
from placet.domain.prompts import template_inputs
from placet.domain.queries import TaskFilter
from placet.domain.starter import STARTER_TOML
from placet.engine import DRAFT_FAILURES, Engine
from placet.engine.worker import worker_name
from placet.handlers.admin import task_deliveries
from placet.providers.base import Chunk
from placet.sdk.runner import RunHooks, WaitTimeout, drive

InputOption = Annotated[
    list[str],
    typer.Option(
        "--input",
        "-i",
        metavar="NAME=VALUE",
        help="A named input, NAME=VALUE; repeat for each input.",
    ),
]
JsonOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--json",
        metavar="JSON|-|@FILE",
        help="The whole input as a JSON object; '-' reads stdin, @FILE a file.",
    ),
]
TimeoutOption = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(help="Give up waiting after this many seconds; the task is kept."),
]


def init(
    force: Annotated[bool, typer.Option(help="Overwrite an existing placet.toml.")] = False,
) -> None:
    """Write a starter placet.toml with example task kinds."""
    path = Path(CONFIG_FILE)
    if path.exists() and not force:
        fail(f"{path} already exists; use --force to overwrite it", EXIT_USAGE)
    path.write_text(STARTER_TOML, encoding="utf-8")
    err.print(f"wrote {path} with kinds: onboarding_email, customer_reply, policy_answer")
    key = key_path(os.environ, Path.cwd())
    if KEY_ENV not in os.environ and make_key_file(key):
        err.print(f"made the audit key {key}: it keys the audit trail. {KEY_ADVICE}")
    err.print("next: placet run onboarding_email --input name=Rahul")


@handle_errors
def kinds() -> None:
    """List the task kinds, their inputs and models."""
    settings = load_settings()
    source = settings.config_path or "built-in starter kinds (run placet init to edit them)"
    err.print(Text(f"kinds from {source}", "dim"))
    for kind in settings.kinds.values():
        inputs = ", ".join(template_inputs(kind.template)) or "none"
        line = plain(kind.name, "bold")
        line.append(f"  inputs: {inputs}  model: {settings.model_for(kind)}")
        line.append(f"  attempts: {kind.max_attempts}")
        if kind.choices:  # a typed kind says what its drafts are
            line.append(
                f"  choices: {', '.join(kind.choices)}{' (several)' if kind.multiple else ''}"
            )
        elif kind.output_schema is not None:
            line.append("  drafts: a JSON object (output_schema)")
        out.print(line)
        if kind.description:
            out.print(plain(f"  {kind.description}", "dim"))


def typed_inputs(engine: Engine, kind: str, values: JsonObject, pairs: list[str]) -> JsonObject:
    """``--input`` values read as the numbers or yes/no the kind's input_schema says they are
    (``--json`` values are typed already)."""
    known = engine.kinds.get(kind)
    if known is None or known.input_schema is None:
        return values
    return typed.inputs_from_text(known, values, {pair.partition("=")[0].strip() for pair in pairs})


@handle_errors
def submit(
    kind: Annotated[str, typer.Argument(help="The task kind, from placet.toml.")],
    inputs: InputOption = [],  # noqa: B006 - typer needs a literal default
    json_input: JsonOption = None,
    key: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--key",
            help="Idempotency key: the same request again returns the same task; "
            "the key used for another request is refused.",
        ),
    ] = None,
    requester: Annotated[Optional[str], typer.Option("--as", help="Who asks.")] = None,  # noqa: UP045
) -> None:
    """Queue a task for drafting without waiting; prints its id."""
    with open_engine() as engine:
        values = typed_inputs(engine, kind, parse_inputs(inputs, json_input), inputs)
        task = engine.submit(kind, values, actor_name(requester), key)
        warn_of_unused_inputs(engine, kind, values)
    out.print(task.id)


@handle_errors
def run(
    kind: Annotated[str, typer.Argument(help="The task kind, from placet.toml.")],
    inputs: InputOption = [],  # noqa: B006
    json_input: JsonOption = None,
    timeout: TimeoutOption = None,
    requester: Annotated[Optional[str], typer.Option("--as", help="Who asks.")] = None,  # noqa: UP045
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="For a kind with then: also draft and wait for each next step of the "
            "pipeline, and print where it ended.",
        ),
    ] = False,
) -> None:
    """Submit a task, draft it here, wait for a person, and print the outcome.

    The draft streams to the terminal. Decide from another terminal (placet
    approve / edit / revise / reject) or by moving its file out of
    human_feedback/pending/. Revisions are drafted here too. The approved text
    goes to stdout; everything else to stderr.
    """
    with open_engine() as engine:
        values = typed_inputs(engine, kind, parse_inputs(inputs, json_input), inputs)
        worker = worker_name("run")
        task = engine.submit(kind, values, actor_name(requester), claim_as=worker)
        err.print(f"task {task.id} submitted ({task.kind}, model {_model(engine, task)})")
        warn_of_unused_inputs(engine, kind, values)
        if not follow:
            _follow(engine, task.id, worker, timeout)
            return
        ended = follow_chain(engine, task.id, lambda step: _await(engine, step, worker, timeout))
        _print_outcome(engine, ended)


@handle_errors
def wait(
    task_id: TaskArg,
    timeout: TimeoutOption = None,
) -> None:
    """Pick a task up again: draft it if it needs a draft, wait, print the outcome."""
    with open_engine() as engine:
        _follow(engine, engine.resolve_task_id(task_id), worker_name("wait"), timeout)


def _model(engine: Engine, task: Task) -> str:
    return engine.settings.model_for(engine.kind(task.kind))


def _follow(engine: Engine, task_id: str, worker: str, timeout: float | None) -> None:
    _print_outcome(engine, _await(engine, task_id, worker, timeout))


def _await(engine: Engine, task_id: str, worker: str, timeout: float | None) -> Task:
    """Draft the task here if it needs it, and wait until it ends (approved or not)."""
    channel = FolderChannel(engine, engine.settings.review_dir, on_message=_folder_message)
    try:
        with channel:
            task = drive(engine, task_id, worker, _hooks(engine, channel), timeout)
    except KeyboardInterrupt:
        current = engine.get(task_id)
        err.print(
            f"\ninterrupted: task {task_id} is kept ({current.status.value}); "
            f"pick it up again with: placet wait {task_id}"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except WaitTimeout as exc:
        err.print(f"timed out: task {task_id} is still {exc.task.status.value}; it is kept")
        raise typer.Exit(EXIT_TIMEOUT) from None
    except DRAFT_FAILURES as exc:
        fail(
            f"{exc.message}. Task {task_id} is kept as failed; after fixing it run: "
            f"placet retry {task_id} && placet wait {task_id}"
        )
    return task


def _hooks(engine: Engine, channel: FolderChannel) -> RunHooks:
    streamed_here: set[int] = set()  # attempts whose text this terminal already showed

    def drafting(task: Task) -> None:
        streamed_here.add(task.attempt)
        err.print(Text(f"\ndrafting {task.attempt}/{task.max_attempts} …", "bold blue"))

    def review(task: Task) -> None:
        err.print()
        draft = engine.detail(task.id).current_draft
        if draft is not None and draft.attempt not in streamed_here:
            print_boxed(err, draft_panel(draft))  # drafted by another process
        channel.publish(task)  # the file exists before we point the reviewer at it
        _review_instructions(engine, task)

    def revision(task: Task) -> None:
        feedback = task.pending_feedback or ""
        err.print(Text("revision requested: ", "bold yellow").append(plain(feedback)))

    def paused(why: str) -> None:
        err.print(
            plain("\n" + why, "bold yellow").append(
                "; waiting here until then (Ctrl-C stops waiting; the task is kept)", "yellow"
            )
        )

    return RunHooks(drafting, _print_chunk, review, revision, paused)


def _print_chunk(chunk: Chunk) -> None:
    if chunk.restart:
        why = chunk.note or "the model's stream broke off; starting the draft again"
        err.print(Text(f"\n[{why}]", "yellow"))
    err.print(plain(chunk.text), end="", soft_wrap=True)


def _review_instructions(engine: Engine, task: Task) -> None:
    pending = engine.settings.review_dir / "pending" / f"{task.id}.json"
    err.print(Text(f"draft {task.attempt} is waiting for review. Decide with:", "bold yellow"))
    feedback, reason = '--feedback "..."', '--reason "..."'
    for verb, extra in (("approve", ""), ("edit", ""), ("revise", feedback), ("reject", reason)):
        err.print(f"  placet {verb} {task.id} {extra}".rstrip())
    err.print(f"  or move {pending} to approved/ or rejected/")
    err.print("(Ctrl-C stops waiting; the task stays pending)")


def _folder_message(message: str) -> None:
    err.print(plain(message, "dim"), soft_wrap=True)  # one log line stays one line


def _print_outcome(engine: Engine, task: Task) -> None:
    if task.status is TaskStatus.APPROVED:
        err.print(Text(f"approved: task {task.id}", "bold green"))
        # soft_wrap: the text exactly as approved, not re-flowed to a terminal's width.
        out.print(plain(task.final_output or ""), soft_wrap=True)
        return
    if task.status is TaskStatus.FAILED:
        fail(f"task {task.id} failed; see placet show {task.id}, then placet retry {task.id}")
    decisions = engine.detail(task.id).decisions
    last = decisions[-1] if decisions else None
    reason = ""
    if last is not None:
        why = last.reason or (f"no attempts left after: {last.feedback}" if last.feedback else "")
        reason = f" by {last.actor}: {why}" if why else f" by {last.actor}"
    err.print(plain(f"{task.status.value}: task {task.id}{reason}", "bold red"), soft_wrap=True)
    raise typer.Exit(EXIT_REJECTED)


@handle_errors
def ls(
    status: Annotated[
        list[TaskStatus], typer.Option("--status", "-s", help="Only this status; repeatable.")
    ] = [],  # noqa: B006
    kind: Annotated[
        list[str], typer.Option("--kind", "-k", help="Only this kind; repeatable.")
    ] = [],  # noqa: B006
    limit: Annotated[int, typer.Option(min=1, max=10000, help="How many to show.")] = 50,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue", help="Only tasks awaiting review that were reminded or escalated."
        ),
    ] = False,
    flag: Annotated[
        list[str],
        typer.Option(
            "--flag",
            help="Only tasks whose current draft the supervisor flagged so (email, phone, "
            "card, iban, national_id, api_key, token, private_key, internal_url, "
            "unavailable); repeatable: any of them.",
        ),
    ] = [],  # noqa: B006
    sort: Annotated[
        str, typer.Option("--sort", help="newest (the default), or risk: the riskiest first.")
    ] = "newest",
) -> None:
    """List tasks, newest first (or the riskiest first with --sort risk)."""
    if sort not in ("newest", "risk"):
        fail(f"--sort must be newest or risk, not {sort!r}", code=EXIT_USAGE)
    if overdue:
        status = [TaskStatus.AWAITING_REVIEW]
    # Overdue, flags and risk are read from each task: look through more than are shown.
    wanted = 10000 if overdue or flag or sort == "risk" else limit
    task_filter = TaskFilter(tuple(status), tuple(kind), limit=wanted, newest_first=True)
    with open_engine() as engine:
        tasks = engine.list_tasks(task_filter)
        if overdue:
            tasks = [task for task in tasks if engine.overdue(task)]
    if flag:
        tasks = [task for task in tasks if set(flag) & set((task.flags or "").split(","))]
    if sort == "risk":
        tasks.sort(key=lambda task: -1 if task.risk is None else task.risk, reverse=True)
    tasks = tasks[:limit]
    if not tasks:
        err.print("no tasks match")
        return
    print_table(task_table(tasks))


@handle_errors
def show(task_id: TaskArg) -> None:
    """Show a task: input, current draft, earlier drafts with diffs, decisions."""
    with open_engine() as engine:
        task_id = engine.resolve_task_id(task_id)
        detail = engine.detail(task_id)
        task = detail.task
        show_detail(detail, engine.approvals(task), engine.timers_of(task), engine.hold_of(task))
        rule = engine.route_of(task)
        if rule is not None:
            out.print(plain(f"routed by the supervisor {routing.described(rule)}", "bold"))
        show_chain(engine, detail)
        show_deliveries(task_deliveries(engine, task_id))
        show_notifications(task_notifications(engine, task_id))


@handle_errors
def cancel(
    task_id: TaskArg,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    actor: Annotated[Optional[str], typer.Option("--as", help="Who cancels.")] = None,  # noqa: UP045
) -> None:
    """Cancel a task that has not ended."""
    with open_engine() as engine:
        task = engine.cancel(engine.resolve_task_id(task_id), actor_name(actor), reason)
    err.print(f"cancelled {task.id}")


@handle_errors
def retry(
    task_id: TaskArg,
    actor: Annotated[Optional[str], typer.Option("--as", help="Who retries.")] = None,  # noqa: UP045
) -> None:
    """Queue a failed task for drafting again."""
    with open_engine() as engine:
        task = engine.retry(engine.resolve_task_id(task_id), actor_name(actor))
    err.print(f"queued {task.id} again; placet wait {task.id} drafts it here")
