"""The ``placet`` command line: thin commands over the engine."""

from __future__ import annotations

import typer

from placet.cli import (
    audit,
    channels,
    config,
    controls,
    datasets,
    db,
    decide,
    examples,
    groups,
    handlers,
    holds,
    learn,
    mcp_server,
    ops,
    review,
    tasks,
    web,
)

app = typer.Typer(
    name="placet",
    help="Placet: AI proposes, humans decide. Draft with an LLM, review, approve.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for command in (
    tasks.init,
    tasks.kinds,
    tasks.run,
    tasks.submit,
    tasks.wait,
    tasks.ls,
    tasks.show,
    decide.approve,
    decide.edit,
    decide.revise,
    decide.reject,
    review.review,
    holds.take,
    learn.learn,
    learn.lessons,
    examples.example,
    tasks.cancel,
    tasks.retry,
    ops.worker,
    ops.watch,
    controls.pause,
    controls.resume,
    controls.status,
):
    app.command()(command)
app.command()(web.serve)
app.command()(mcp_server.mcp)
app.command(help=datasets.EXPORT_HELP)(datasets.export)
app.add_typer(audit.audit_app, name="audit")
app.add_typer(handlers.handlers_app, name="handlers")
app.add_typer(channels.channels_app, name="channels")
app.add_typer(web.users_app, name="users")
app.add_typer(web.tokens_app, name="tokens")
app.add_typer(db.db_app, name="db")
app.add_typer(config.config_app, name="config")
app.add_typer(groups.groups_app, name="groups")
app.command("migrate-store")(db.migrate_store)


def main() -> None:
    """Run the command line."""
    app()
