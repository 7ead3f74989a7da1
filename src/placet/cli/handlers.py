"""``placet handlers``: outcome-handler deliveries that failed for good, and retrying them."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from placet.cli.common import TaskArg, actor_name, handle_errors, open_engine
from placet.cli.render import attempts, err, plain, print_table, when
from placet.handlers.admin import failed_deliveries, nothing_to_retry, retry_failed

handlers_app = typer.Typer(
    help="Outcome handlers (on_approved / on_rejected): deliveries that failed, and retries.",
    no_args_is_help=True,
)


@handlers_app.command()
@handle_errors
def failed(
    limit: Annotated[int, typer.Option(min=1, help="How many to show at most.")] = 50,
) -> None:
    """List the deliveries whose handler gave up, most recent first."""
    with open_engine() as engine:
        records = failed_deliveries(engine, limit)
    if not records:
        err.print("no handler delivery has failed for good")
        return
    table = Table(box=None)
    # The id is what `placet handlers retry` needs: never shortened or wrapped.
    table.add_column("task", no_wrap=True, min_width=26)
    table.add_column("handler", no_wrap=True)
    for header in ("attempts", "gave up", "last error"):
        table.add_column(header)
    for record in records:
        gave_up = when(record.finished_at) if record.finished_at is not None else ""
        table.add_row(
            record.task_id,
            plain(record.handler),
            str(record.attempts),
            gave_up,
            plain(record.last_error or "", "red"),
        )
    print_table(table)
    err.print("retry one with: placet handlers retry TASK_ID [--handler NAME]")


@handlers_app.command()
@handle_errors
def retry(
    task_id: TaskArg,
    handler: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(help="Only this handler's delivery (default: every failed one)."),
    ] = None,
    actor: Annotated[Optional[str], typer.Option("--as", help="Who retries.")] = None,  # noqa: UP045
) -> None:
    """Give failed deliveries a fresh set of attempts; a running `placet worker --app` runs them."""
    with open_engine() as engine:
        task_id = engine.resolve_task_id(task_id)
        retried = retry_failed(engine, task_id, actor_name(actor), handler)
    if not retried:
        err.print(plain(nothing_to_retry(task_id, handler)))
        raise typer.Exit(1)
    for record in retried:
        tried = attempts(record.attempts)
        err.print(plain(f"retrying {record.handler} on {task_id} (it had {tried})"))
