"""placet export: datasets of a kind's reviewed work, as JSON Lines."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Annotated, Optional

import typer

from placet.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    fail,
    handle_errors,
    open_engine,
)
from placet.cli.render import err, progress, safe
from placet.domain.datasets import Dataset, DatasetQuery, RowFormat, parse_since
from placet.engine.datasets import export_dataset, task_count

EXPORT_HELP = "\n\n".join(
    [
        "Write a dataset of a kind's reviewed work as JSON Lines.",
        "sft: one row per approved task: the messages its approved draft was made with, "
        "then the approved text (as edited, when it was edited). preferences: one row per "
        "draft people sent back (revised, or edited before approval), paired with the "
        "task's approved text. feedback: one row per decision, with its draft, the "
        "feedback, reason or edit diff, the reviewer, role, time and attempt.",
        "--format openai (the default) writes OpenAI's fine-tuning rows: "
        '{"messages": [...]} for sft, where assistant turns in the prompt have weight 0 '
        'and the approved text weight 1; {"input": {"messages": [...]}, '
        '"preferred_output": [...], "non_preferred_output": [...]} for preferences. '
        "--format trl writes TRL's conversational rows: "
        '{"prompt": [...], "completion": [...]} for sft, which learn the completion alone '
        "(TRL's SFT trainer reads the openai file too, but ignores its weights); "
        '{"prompt": [...], "chosen": [...], "rejected": [...]} for preferences.',
        "The same store and options give the same bytes. What was written, and how many "
        "each filter dropped (not approved, before --since, duplicate, ...), goes to stderr.",
    ]
)


@handle_errors
def export(
    dataset: Annotated[Dataset, typer.Argument(help="Which dataset.", show_default=False)],
    kind: Annotated[str, typer.Option("--kind", "-k", help="The task kind.", show_default=False)],
    out_path: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            help="The file to write (replaced whole, never left half-written); - for stdout.",
            show_default=False,
        ),
    ],
    since: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--since",
            help="Only work approved (feedback: decided) at or after this date (YYYY-MM-DD, "
            "midnight UTC) or ISO 8601 time (UTC unless it says otherwise).",
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Mask every span the supervisor's scanners find (personal data, secrets, "
            "internal links), each by the name of what it is.",
        ),
    ] = False,
    row_format: Annotated[
        Optional[RowFormat],  # noqa: UP045
        typer.Option(
            "--format",
            help="Rows for OpenAI fine-tuning (the default) or for Hugging Face TRL "
            "(sft and preferences only).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a dataset of a kind's reviewed work as JSON Lines (see EXPORT_HELP)."""
    if dataset is Dataset.FEEDBACK and row_format is not None:
        fail("--format is for sft and preferences; feedback has one format", EXIT_USAGE)
    query = DatasetQuery(
        dataset,
        kind,
        since=parse_since(since) if since is not None else None,
        redact=redact,
        row_format=row_format or RowFormat.OPENAI,
    )
    target = None if out_path == "-" else Path(out_path)
    if target is not None and not target.parent.is_dir():
        fail(f"cannot write {target}: {target.parent} is not a folder", EXIT_USAGE)
    with open_engine() as engine, progress("exporting", task_count(engine, kind)) as tick:
        try:
            with _destination(target) as write:
                tally = export_dataset(engine, query, write, tick)
        except OSError as exc:
            fail(f"cannot write {out_path}: {exc.strerror or exc}", EXIT_ERROR)
        except KeyboardInterrupt:
            left = f": {target} was left as it was" if target is not None else ""
            fail(f"interrupted{left}", EXIT_INTERRUPTED)
    where = "stdout" if target is None else str(target)
    masked = ", redacted" if redact else ""
    said = f"{dataset.value} of {kind} to {where}{masked}: {tally.summary()}"
    err.print(safe(said), soft_wrap=True)  # one line, for scripts to read


@contextlib.contextmanager
def _destination(target: Path | None) -> Iterator[Callable[[str], object]]:
    """Where the lines go: stdout as UTF-8, or a file written whole or not at all."""
    if target is None:
        yield lambda text: sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    with write_atomically(target) as handle:
        yield handle.write


@contextlib.contextmanager
def write_atomically(target: Path) -> Iterator[IO[str]]:
    """A file beside ``target``, renamed onto it once all is written and synced; removed
    instead if anything (an error, Ctrl-C) stops the writing, so no half file is left."""
    fd, temp = _new_file_beside(target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _new_file_beside(target: Path) -> tuple[int, Path]:
    """A new, hidden file in ``target``'s folder, made as open() makes one (the umask
    applies, unlike mkstemp's 0600), so the renamed file has the usual mode."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temp
        except FileExistsError:
            continue
