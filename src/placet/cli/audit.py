"""placet audit: verify, export, checkpoint, and the audit key."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from placet.auditkey import KEY_ENV, key_path, make_key_file
from placet.cli.common import (
    EXIT_ERROR,
    EXIT_USAGE,
    TaskOptions,
    fail,
    handle_errors,
    open_engine,
    resolve_ids,
)
from placet.cli.render import err, out, plain, progress
from placet.domain.auditlog import Checkpoint
from placet.engine import Engine
from placet.engine.auditing import AuditReport, export_jsonl, task_count, verify_store

audit_app = typer.Typer(
    help="Verify, export and checkpoint the tamper-evident audit trail.", no_args_is_help=True
)
KEY_ADVICE = (
    "Keep a copy of it apart from the database and its backups: whoever holds both can "
    "rewrite the trail unnoticed, and a database without it verifies only structurally."
)


@audit_app.command()
@handle_errors
def verify(
    task: TaskOptions = None,
    against: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--against",
            help="A checkpoint file (placet audit checkpoint): prove nothing up to it changed.",
        ),
    ] = None,
) -> None:
    """Check the global log and every task's chain, and the rows they prove."""
    checkpoint = _read_checkpoint(against) if against is not None else None
    with open_engine() as engine:
        task = resolve_ids(engine, task)
        with progress("verifying", task_count(engine, task)) as tick:
            engine.seal_audit_log()
            report = verify_store(engine, task, tick, checkpoint)
    for problem in report.problems:
        where = f"event {problem.seq}" if problem.seq is not None else "chain"
        err.print(plain(f"task {problem.task_id} {where}: {problem.problem}", "red"))
    _say_what_was_not_checked(report)
    summary = f"{report.tasks} tasks, {report.events} events"
    if report.log is not None:
        summary += f", {report.log.size} log entries"
    if not report.ok:
        err.print(Text(f"{summary}: {len(report.problems)} problems", "bold red"))
        raise typer.Exit(EXIT_ERROR)
    proved = f" up to the checkpoint of {checkpoint.size} entries" if checkpoint else ""
    out.print(Text(f"{summary}: every chain verifies{proved}", "green"))


def _say_what_was_not_checked(report: AuditReport) -> None:
    if report.unchecked:
        err.print(
            plain(
                f"note: {report.unchecked} hashes were made with an audit key this check does not "
                f"have ({KEY_ENV} or its key file): their links were checked, not their hashes",
                "yellow",
            )
        )


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return Checkpoint.from_json(json.loads(lines[-1]))
    except (OSError, IndexError, ValueError) as exc:
        fail(
            f"{path} is not a checkpoint file (placet audit checkpoint writes one): {exc}",
            EXIT_USAGE,
        )


@audit_app.command()
@handle_errors
def checkpoint(
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--output", "-o", help="Append the checkpoint to this file (JSON lines)."),
    ] = None,
    every: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(help="Keep making one every this many seconds, until Ctrl-C."),
    ] = None,
) -> None:
    """Sign the head of the global log; keep the output outside the database."""
    with open_engine() as engine:
        while True:
            made = engine.audit_log.checkpoint(time.time())
            line = json.dumps(made.as_json(), sort_keys=True)
            if output is None:
                out.print(line, soft_wrap=True, markup=False, highlight=False)
            else:
                with output.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
                err.print(f"checkpoint of {made.size} log entries appended to {output}")
            if every is None:
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:
                return


@audit_app.command()
@handle_errors
def keygen() -> None:
    """Make the audit key file, if there is none (``placet init`` makes one too)."""
    path = key_path(os.environ, Path.cwd())
    if not make_key_file(path):
        err.print(f"{path} already exists; it was left as it is")
        return
    err.print(f"made the audit key {path} (mode 600). {KEY_ADVICE}")


@audit_app.command()
@handle_errors
def export(
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--output", "-o", help="Write here instead of stdout."),
    ] = None,
    task: TaskOptions = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Mask every span the supervisor's scanners find (personal data, secrets, "
            "internal links) in the events' texts; a redacted trail no longer matches its hashes.",
        ),
    ] = False,
) -> None:
    """Write the trail (or some tasks') as JSON Lines, task by task, in chain order."""
    with open_engine() as engine:
        task = resolve_ids(engine, task)
        count = _export(engine, output, task, redact)
    err.print(f"exported {count} events" + (", redacted" if redact else ""))


def _export(engine: Engine, output: Path | None, task: list[str] | None, redact: bool) -> int:
    with progress("exporting", task_count(engine, task)) as tick:
        if output is None:
            count = export_jsonl(engine, sys.stdout, task, tick, redact)
        else:
            with output.open("w", encoding="utf-8") as handle:
                count = export_jsonl(engine, handle, task, tick, redact)
    return count
