"""Database commands: ``placet db upgrade``, ``placet db status``, ``placet migrate-store``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated, Optional

import sqlalchemy as sa
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from placet.cli.common import handle_errors, open_engine
from placet.cli.render import err, out
from placet.config import load_settings
from placet.errors import StoreError
from placet.store import migrate
from placet.store.copy import TABLES, copy_store
from placet.store.engines import make_engine

db_app = typer.Typer(
    help="The database: schema migrations and where they stand.", no_args_is_help=True
)

DatabaseOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option("--database", help="A database URL; default: the configured one."),
]


def shown(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


@contextmanager
def _engine(database: str | None) -> Iterator[tuple[str, sa.engine.Engine]]:
    url = database or load_settings().database_url
    engine = make_engine(url)
    try:
        yield url, engine
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"{shown(url)}: {exc}") from exc
    finally:
        engine.dispose()


@db_app.command()
@handle_errors
def upgrade(database: DatabaseOption = None) -> None:
    """Run the schema migrations up to the newest revision."""
    with _engine(database) as (url, engine):
        before = migrate.status(engine)
        if before.up_to_date:
            out.print(f"{shown(url)}: already at revision {before.head}", soft_wrap=True)
            return
        migrate.upgrade(engine)
    ran = ", ".join(before.pending)
    done = f"{shown(url)}: upgraded from {before.current or 'empty'} to {before.head} ({ran})"
    out.print(Text(done), soft_wrap=True)
    if before.current is not None and "0008" in before.pending:
        _seal_what_was_there(url)


def _seal_what_was_there(url: str) -> None:
    """Migration 0008 queued the events already there: log them now, and say so."""
    settings = replace(load_settings(), database_url=url)
    with open_engine(settings) as placet:
        logged = placet.seal_audit_log()
        keyed = "under the audit key" if placet.audit_chain.keyed else "without an audit key"
    out.print(
        f"sealed the {logged} events and security events already recorded into the global "
        f"audit log ({keyed}); they verify as the plain SHA-256 chains they were made as",
        soft_wrap=True,
    )


@db_app.command()
@handle_errors
def status(database: DatabaseOption = None) -> None:
    """Say which revision the schema is at, the newest one, and what is pending."""
    with _engine(database) as (url, engine):
        found = migrate.status(engine)
    out.print(f"database: {shown(url)}", soft_wrap=True)
    out.print(f"current:  {found.current or 'none (empty database)'}")
    out.print(f"head:     {found.head}")
    if found.up_to_date:
        out.print(Text("up to date", "green"))
    else:
        out.print(Text(f"pending:  {', '.join(found.pending)} (run: placet db upgrade)", "yellow"))


@handle_errors
def migrate_store(
    target: Annotated[str, typer.Option("--to", help="The database to copy to.")],
    source: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--from", help="The database to copy from. [default: the configured database]"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace whatever the target already holds.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per insert batch.")] = 1000,
) -> None:
    """Copy every task, draft, decision, event and account to another database."""
    source = source or load_settings().database_url
    columns = (
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    # On a terminal only, and gone once done: the summary line below says what was copied.
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        bars = {table.name: bar.add_task(table.name, total=None) for table in TABLES}

        def report(table: str, copied: int, total: int) -> None:
            bar.update(bars[table], completed=copied, total=total)

        counts = copy_store(source, target, force, batch_size, report)
    summary = ", ".join(f"{counts[table.name]} {table.name}" for table in TABLES)
    out.print(f"copied {summary} from {shown(source)} to {shown(target)}", soft_wrap=True)
    out.print("check the copy with: PLACET_DATABASE_URL=... placet audit verify")
