"""The ``placet`` command line: thin commands over the engine."""

from __future__ import annotations

import typer

from placet.cli import decide, ops, tasks

app = typer.Typer(
    name="placet",
    help="Placet: AI proposes, humans decide. Draft with an LLM, review, approve.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for command in (tasks.init, tasks.kinds, tasks.run, tasks.submit, tasks.wait, tasks.ls,
                tasks.show, decide.approve, decide.edit, decide.revise, decide.reject,
                decide.review, tasks.cancel, tasks.retry, ops.worker, ops.watch):  # fmt: skip
    app.command()(command)
app.add_typer(ops.audit_app, name="audit")


def main() -> None:
    """Run the command line."""
    app()
