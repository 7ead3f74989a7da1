"""Long-running and maintenance commands: worker, watch, audit."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from placet.auditing import export_jsonl, verify_store
from placet.channels.folder import FolderChannel
from placet.cli.common import EXIT_ERROR, handle_errors, open_engine
from placet.cli.render import err, out, plain
from placet.worker import Worker

audit_app = typer.Typer(
    help="Verify or export the tamper-evident audit trail.", no_args_is_help=True
)


def _say(message: str) -> None:
    err.print(plain(message))


@handle_errors
def worker(
    max_tasks: Annotated[
        Optional[int],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(help="Stop after drafting this many tasks."),
    ] = None,
    folder: Annotated[bool, typer.Option(help="Also watch the review folder.")] = True,
) -> None:
    """Draft queued tasks until stopped (Ctrl-C, or SIGTERM to finish the current draft)."""
    with open_engine() as engine:
        drafter = Worker(engine, report=_say)
        signal.signal(signal.SIGTERM, lambda *_: drafter.stop())
        err.print(f"{drafter.name} drafting; Ctrl-C to stop")
        channel = FolderChannel(engine, engine.settings.review_dir, on_message=_say)
        try:
            if folder:
                channel.start()
            drafter.run(max_tasks)
        except KeyboardInterrupt:
            err.print("stopped")
        finally:
            channel.stop()


@handle_errors
def watch() -> None:
    """Watch the review folder and turn file moves into decisions, until Ctrl-C."""
    with open_engine() as engine:
        root = engine.settings.review_dir
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with FolderChannel(engine, root, on_message=_say):
            err.print(f"watching {root}/ (pending, approved, rejected); Ctrl-C to stop")
            try:
                stop.wait()
            except KeyboardInterrupt:
                err.print("stopped")


@audit_app.command()
@handle_errors
def verify(
    task: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--task", help="Only this task; repeatable."),
    ] = None,
) -> None:
    """Check every task's hash chain and the drafts and decisions it pins."""
    with open_engine() as engine:
        report = verify_store(engine.store, task)
    for problem in report.problems:
        where = f"event {problem.seq}" if problem.seq is not None else "chain"
        err.print(plain(f"task {problem.task_id} {where}: {problem.problem}", "red"))
    summary = f"{report.tasks} tasks, {report.events} events"
    if not report.ok:
        err.print(Text(f"{summary}: {len(report.problems)} problems", "bold red"))
        raise typer.Exit(EXIT_ERROR)
    out.print(Text(f"{summary}: every chain verifies", "green"))


@audit_app.command()
@handle_errors
def export(
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--output", "-o", help="Write here instead of stdout."),
    ] = None,
) -> None:
    """Write the whole trail as JSON Lines, task by task, in chain order."""
    with open_engine() as engine:
        if output is None:
            count = export_jsonl(engine.store, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as handle:
                count = export_jsonl(engine.store, handle)
    err.print(f"exported {count} events")
