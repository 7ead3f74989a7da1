"""``placet config check``: every problem of the configuration, each in one line."""

from __future__ import annotations

import typer

from placet.cli.common import EXIT_ERROR, fail_line, handle_errors, warn
from placet.cli.render import out
from placet.config import Settings, check_settings
from placet.engine import supervising
from placet.errors import ConfigError
from placet.providers.registry import check as check_model

config_app = typer.Typer(
    help="Check the configuration: placet.toml, .env and the PLACET_* variables.",
    no_args_is_help=True,
)


@config_app.command("check")
@handle_errors
def check() -> None:
    """Check placet.toml, .env and the PLACET_* variables (not the database).

    Each problem is one line naming its file or variable, the kind and the
    setting: a number out of its range, a template with a stray brace, a
    model that cannot be used (its provider, key or file; no model is loaded
    or called). Exit 0 when all is well, 1 when something is to fix.
    """
    settings, problems = check_settings()
    problems += _model_problems(settings)
    for problem in problems:
        fail_line(problem)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        fail_line(f"{count}: fix them, then run placet config check again")
        raise typer.Exit(EXIT_ERROR)
    if settings.audit_key is None:
        warn("no audit key (PLACET_AUDIT_KEY or .placet_audit_key); make one: placet audit keygen")
    out.print(_all_well(settings), soft_wrap=True)


def _model_problems(settings: Settings) -> list[str]:
    """Each kind whose model cannot be used, as a submit of it would be refused; and each
    supervisor whose model cannot (its checks would be recorded as unavailable)."""
    problems = []
    for kind in settings.kinds.values():
        try:
            check_model(settings.model_for(kind), settings)
        except ConfigError as exc:
            problems.append(settings.unusable_model(kind, exc.message))
        if kind.supervisor is None or not kind.supervisor.checks:
            continue
        model = kind.supervisor.model or supervising.DEFAULT_MODEL
        try:
            check_model(model, settings)
        except ConfigError as exc:
            where = settings.config_path or "placet.toml"
            problems.append(
                f"{where} [kinds.{kind.name}.supervisor] model {model}: {exc.message} "
                "(its checks would be recorded as unavailable on every draft)"
            )
    return problems


def _all_well(settings: Settings) -> str:
    where = str(settings.config_path) if settings.config_path else "no placet.toml (built-in kinds)"
    kinds = ", ".join(
        f"{name} ({settings.model_for(kind)})" for name, kind in settings.kinds.items()
    )
    return f"the configuration is fine: {where}; kinds: {kinds or 'none'}"
