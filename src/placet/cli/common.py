"""What every command shares: opening the engine, who is acting, inputs, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional, ParamSpec, TypeVar

import typer
from rich.text import Text

from placet.cli.render import err, safe
from placet.config import Settings, default_actor, load_settings
from placet.domain.ids import normal_id
from placet.domain.models import JsonObject
from placet.domain.policy import Principal
from placet.domain.prompts import template_inputs, unused_inputs
from placet.engine import Engine
from placet.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    PlacetError,
    UsageError,
)
from placet.store import open_store

P = ParamSpec("P")

R = TypeVar("R")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_TIMEOUT = 124
EXIT_INTERRUPTED = 130


def actor_name(explicit: str | None = None) -> str:
    """Who is acting: --as, PLACET_USER, or the OS user."""
    return default_actor(explicit)


def cli_principal(engine: Engine, acting_as: str | None = None) -> Principal:
    """Who decides from this terminal: PLACET_USER or the OS user, or (admins) ``--as``."""
    return engine.local_principal("cli", default_actor(), acting_as)


@contextmanager
def open_engine(settings: Settings | None = None) -> Iterator[Engine]:
    """An engine on the configured store, closed afterwards."""
    settings = settings or load_settings()
    store = open_store(settings.database_url)
    engine = Engine(store, settings)
    try:
        yield engine
        engine.seal_audit_log()  # what this command wrote joins the global log now
    finally:
        engine.close()
        store.close()


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print a one-line error and exit."""
    fail_line(message)
    raise typer.Exit(code)


def fail_line(message: str) -> None:
    """Print a one-line error on stderr (the caller decides when to exit)."""
    err.print(Text.assemble(("error:", "bold red"), " ", safe(message)))


def warn(message: str) -> None:
    """Print a one-line warning on stderr; the command goes on."""
    err.print(Text.assemble(("warning:", "bold yellow"), " ", safe(message)))


def warn_of_model_problems(engine: Engine) -> None:
    """Before drafting starts: name each kind whose model cannot be used, and why (and no key)."""
    if not engine.audit_chain.keyed:
        warn(
            "no audit key (PLACET_AUDIT_KEY or .placet_audit_key): whoever can write the "
            "database can recompute the audit trail; make one with: placet audit keygen"
        )
    for kind, problem in engine.model_problems().items():
        warn(f"kind {kind} cannot be drafted ({problem}); its tasks will fail until this is fixed")


def warn_of_unused_inputs(engine: Engine, kind_name: str, values: JsonObject) -> None:
    """Name each input the kind's template does not use: kept with the task, unseen by the model.

    A warning, not a refusal: such an input may be there on purpose, for an outcome
    handler to read, but from the command line it is more often a typo.
    """
    template = engine.kind(kind_name).template
    unused = unused_inputs(template, values)
    if unused:
        used = ", ".join(template_inputs(template)) or "none"
        warn(
            f"kind {kind_name}'s template does not use input {', '.join(unused)} (it uses: "
            f"{used}); it is kept with the task, but the model never sees it"
        )


# Errors of a command that was typed right but could not be done: a refusal (the
# README's "Who decides": exit 1), a task that changed or is past deciding, and a
# configuration to fix (the README's "Configuration"). They are UsageErrors to the
# API (4xx), but retyping the command does not help, so they exit 1, not 2.
NOT_THE_COMMANDS_FAULT = (PermissionDeniedError, ConflictError, ConfigError)


def exit_code(error: PlacetError) -> int:
    """2 when the command itself needs fixing (a usage error), else 1; see the README."""
    if isinstance(error, UsageError) and not isinstance(error, NOT_THE_COMMANDS_FAULT):
        return EXIT_USAGE
    return EXIT_ERROR


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Placet's errors into a one-line message and exit 2 (usage) or 1 (anything else)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PlacetError as exc:
            fail(exc.message, exit_code(exc))

    return wrapper


def parse_inputs(pairs: list[str], json_text: str | None) -> JsonObject:
    """Task input from ``--input NAME=VALUE`` pairs and/or ``--json``."""
    values: JsonObject = _parse_json_input(json_text) if json_text else {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(f"--input needs NAME=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


def _parse_json_input(text: str) -> JsonObject:
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        text = _read_file(Path(text[1:]))
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"--json is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInputError('--json must be a JSON object, such as {"name": "Rahul"}')
    return value


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc


def normal_ids(ids: list[str] | None) -> list[str] | None:
    """Task ids from repeated options, each as Placet stores it."""
    return None if ids is None else [normal_id(text) for text in ids]


def resolve_ids(engine: Engine, typed: list[str] | None) -> list[str] | None:
    """The whole ids of the tasks named by ``--task`` options (see ``TaskArg``)."""
    return None if typed is None else [engine.resolve_task_id(text) for text in typed]


# Every command that names tasks takes their ids the same way: as printed, in any case,
# or shortened to a start or an end that only one task has. The command resolves it
# with engine.resolve_task_id once its engine is open.
ID_HELP = "the start of one (01JD…), or the end the dashboard shows (…7Q2K); any case"
ConcurrencyOption = Annotated[
    Optional[int],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option(
        min=1,
        max=256,
        help="Drafts in flight at once from this process (for a hosted API; a local model "
        "still drafts one at a time unless [concurrency] in placet.toml says more). "
        "[default: concurrency in placet.toml, else 1]",
    ),
]
TaskArg = Annotated[str, typer.Argument(help=f"The task id, or {ID_HELP}.", callback=normal_id)]
TaskOptions = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--task",
        help=f"Only this task: its id, or {ID_HELP}. Repeatable.",
        callback=normal_ids,
    ),
]
