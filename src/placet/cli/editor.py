"""Editing a draft in the terminal: the person's editor, a plain one, or typed in place.

Without ``$VISUAL`` or ``$EDITOR`` click would try ``sensible-editor``, which on
Debian and Ubuntu first asks which editor to use from now on (``select-editor``),
a question in the middle of a review. A plain editor found on the PATH opens
instead, and with none the text is typed in the terminal.
"""

from __future__ import annotations

import os
import shutil
import sys

import click

from placet.cli.common import EXIT_USAGE, fail
from placet.cli.render import err, plain
from placet.domain import typed
from placet.domain.models import JsonObject

PLAIN_EDITORS = ("nano", "vi")  # the first found opens when no editor is chosen
END_OF_TEXT = "."
OBJECT_TRIES = 5  # times the editor opens again on an object that does not fit


def editor_command() -> str | None:
    """The editor to open: ``$VISUAL``, ``$EDITOR``, else nano or vi; None when none is found."""
    for variable in ("VISUAL", "EDITOR"):
        chosen = os.environ.get(variable, "").strip()
        if chosen:
            return chosen
    return next((name for name in PLAIN_EDITORS if shutil.which(name)), None)


def edit_text(text: str, extension: str = ".md") -> str | None:
    """The text as the person edited it; None when they left without saving."""
    if not sys.stdin.isatty():
        fail("no terminal for an editor; pass the edited text with --text", EXIT_USAGE)
    editor = editor_command()
    if editor is None:
        return type_text()
    result: str | None = click.edit(text, editor=editor, extension=extension, require_save=True)
    return result


def edit_object(text: str, schema: JsonObject, tries: int = OBJECT_TRIES) -> str | None:
    """A typed kind's object as the person edited it in their editor, checked against the
    kind's schema each time it is saved: what does not fit is said, and the editor opens
    again on their text (None when they leave without saving, or give up)."""
    for _ in range(tries):
        edited = edit_text(text, extension=".json")
        if edited is None:
            return None
        try:
            typed.read_object(edited, schema)
        except typed.InvalidObjectError as exc:
            err.print(plain(f"the object does not fit the kind's schema: {exc.message}", "red"))
            if not click.confirm("edit it again?", default=True, err=True):
                return None
            text = edited
            continue
        return edited
    return None


def type_text() -> str | None:
    """Text typed in the terminal, up to a line holding only a dot (or the end of input)."""
    names = " or ".join(PLAIN_EDITORS)
    err.print(
        f"no editor found ($VISUAL and $EDITOR are unset, and no {names}): type the new "
        f"text, then a line with only {END_OF_TEXT!r}"
    )
    lines: list[str] = []
    for line in sys.stdin:
        if line.rstrip("\r\n") == END_OF_TEXT:
            break
        lines.append(line)
    typed = "".join(lines).rstrip("\n")
    return typed or None
