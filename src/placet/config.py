"""Settings: ``placet.toml``, ``PLACET_*`` environment variables and ``.env``.

Precedence, highest first: the environment (``.env`` fills in only what the
environment leaves unset), then ``placet.toml``, then built-in defaults.
"""

from __future__ import annotations

import getpass
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from placet.auditkey import read_key
from placet.domain.models import TaskKind
from placet.domain.prompts import template_inputs
from placet.domain.starter import STARTER_KINDS
from placet.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE = "placet.toml"
DEFAULT_DATABASE = "sqlite:///placet.db"
DEFAULT_REVIEW_DIR = "human_feedback"
GROQ_DEFAULT_MODEL = "groq:llama-3.3-70b-versatile"
LOCAL_DEFAULT_MODEL = "local:smollm2"
KIND_KEYS = {
    "template",
    "system",
    "description",
    "model",
    "max_attempts",
    "max_tokens",
    "temperature",
    "reviewers",
}
GLOBAL_KEYS = {
    "database",
    "model",
    "review_dir",
    "review_as",
    "max_input_bytes",
    "lease_seconds",
}
# The environment variable that overrides each [placet] setting.
ENV_FOR = {
    "database": "PLACET_DATABASE_URL",
    "model": "PLACET_MODEL",
    "review_dir": "PLACET_REVIEW_DIR",
    "review_as": "PLACET_REVIEW_AS",
    "max_input_bytes": "PLACET_MAX_INPUT_BYTES",
}
# What each number may be, inclusive: anything outside is a typo, not a wish, and a
# number past these would only fail later (a database column, a provider's API).
MAX_ATTEMPTS = (1, 1000)
MAX_TOKENS = (1, 1_000_000)
TEMPERATURE = (0.0, 2.0)
MAX_INPUT_BYTES = (1, 64 * 1024 * 1024)
LEASE_SECONDS = (1.0, 24 * 3600.0)
PROVIDER_TIMEOUT = (0.1, 3600.0)


@dataclass(frozen=True)
class Settings:
    """Everything Placet reads from its configuration."""

    database_url: str = DEFAULT_DATABASE
    model: str | None = None
    review_dir: Path = Path(DEFAULT_REVIEW_DIR)
    review_as: str | None = None  # who the review folder decides as; None: who runs Placet
    max_input_bytes: int = 64 * 1024
    lease_seconds: float = 60.0
    kinds: dict[str, TaskKind] = field(default_factory=dict)
    config_path: Path | None = None
    groq_api_key: str | None = None
    groq_base_url: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    ollama_base_url: str | None = None
    provider_timeout: float = 60.0
    audit_key: bytes | None = field(default=None, repr=False)  # see placet.auditkey
    # Where a setting was read from ("review_dir in /srv/placet.toml", "PLACET_REVIEW_DIR"),
    # so a problem found later can name it; unset settings are simply named.
    sources: dict[str, str] = field(default_factory=dict)

    def source_of(self, name: str) -> str:
        """Where a setting came from, for messages: its file or variable, else its name."""
        return self.sources.get(name, name)

    def model_for(self, kind: TaskKind) -> str:
        """The model a kind drafts with: its own, the global one, or the default."""
        if kind.model:
            return kind.model
        if self.model:
            return self.model
        return GROQ_DEFAULT_MODEL if self.groq_api_key else LOCAL_DEFAULT_MODEL

    def model_source(self, kind: TaskKind) -> str:
        """Where a kind's model was chosen, for messages: the setting that named it."""
        if kind.model:
            return "the kind's own model setting"
        if self.model:
            return self.source_of("model")
        return "the default, as GROQ_API_KEY is set" if self.groq_api_key else "the default"


def default_actor(explicit: str | None = None) -> str:
    """Who is acting: the explicit name, PLACET_USER, or the OS user."""
    if explicit:
        return explicit
    try:
        return os.environ.get("PLACET_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load_settings(directory: Path | None = None) -> Settings:
    """Read ``.env``, ``placet.toml`` and the environment of a working folder."""
    base = Path(directory or Path.cwd())
    _load_dotenv(base / ".env")
    env = os.environ
    path = Path(env.get("PLACET_CONFIG") or base / CONFIG_FILE)
    document = _read_toml(path) if path.exists() else {}
    if "PLACET_CONFIG" in env and not path.exists():
        raise ConfigError(f"PLACET_CONFIG names {path}, which does not exist")
    globals_ = _table(document, "placet", path)
    _reject_unknown(globals_, GLOBAL_KEYS, f"{path} [placet]")
    kinds = _kinds(document, path) if "kinds" in document else _starter_kinds()
    read = _Reader(globals_, f"{path} [placet]")
    return Settings(
        database_url=read.text("database") or DEFAULT_DATABASE,
        model=read.text("model"),
        review_dir=Path(_review_dir(read)),
        review_as=read.text("review_as"),
        max_input_bytes=int(read.number("max_input_bytes", 65536, MAX_INPUT_BYTES, whole=True)),
        lease_seconds=read.number("lease_seconds", 60.0, LEASE_SECONDS),
        kinds=kinds,
        config_path=path if path.exists() else None,
        groq_api_key=env.get("GROQ_API_KEY") or None,
        groq_base_url=env.get("GROQ_BASE_URL") or None,
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        ollama_base_url=env.get("OLLAMA_BASE_URL") or None,
        provider_timeout=_env_number("PLACET_PROVIDER_TIMEOUT", 60.0, PROVIDER_TIMEOUT),
        sources=read.sources,
        audit_key=read_key(env, base),
    )


class _Reader:
    """Reads [placet] settings, each from its environment variable first, and notes where."""

    def __init__(self, table: dict[str, Any], where: str) -> None:
        self.table = table
        self.where = where
        self.sources: dict[str, str] = {}

    def raw(self, name: str) -> tuple[Any, str] | None:
        variable = ENV_FOR.get(name)
        if variable and os.environ.get(variable):
            self.sources[name] = variable
            return os.environ[variable], variable
        if name in self.table:
            self.sources[name] = f"{name} in {self.where}"
            return self.table[name], f"{self.where}: {name}"
        return None

    def text(self, name: str) -> str | None:
        found = self.raw(name)
        if found is None:
            return None
        value, where = found
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be text (in quotes), not {_shown(value)}")
        return value or None

    def number(
        self, name: str, default: float, bounds: tuple[float, float], whole: bool = False
    ) -> float:
        found = self.raw(name)
        if found is None:
            return default
        return _number(found[0], found[1], bounds, whole)


def _review_dir(read: _Reader) -> str:
    found = read.raw("review_dir")
    if found is None:
        return DEFAULT_REVIEW_DIR
    value, where = found
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ConfigError(f"{where} must be the path of a folder, not {_shown(value)}")
    return value


def _env_number(variable: str, default: float, bounds: tuple[float, float]) -> float:
    text = os.environ.get(variable, "").strip()
    return _number(text, variable, bounds) if text else default


def _load_dotenv(path: Path) -> None:
    try:
        load_dotenv(path, override=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already names the line and column.
        raise ConfigError(f"{path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text (line {line}); TOML files must be saved as UTF-8"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def _table(document: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def _reject_unknown(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _optional_str(value: Any) -> str | None:
    return str(value) if value else None


def _number(value: Any, where: str, bounds: tuple[float, float], whole: bool = False) -> float:
    """A number from a setting, checked against its bounds; ``where`` names the setting."""
    low, high = bounds
    kind = "a whole number" if whole else "a number"
    wanted = f"{kind} from {_plain(low)} to {_plain(high)}"
    number = _parse_number(value, whole)
    if number is None or not low <= number <= high:  # NaN fails the comparison too
        raise ConfigError(f"{where} must be {wanted}, not {_shown(value)}")
    return number


def _parse_number(value: Any, whole: bool) -> float | None:
    if isinstance(value, bool):  # TOML's true is not 1
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if whole or text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and (not whole or value.is_integer()):
        return int(value) if whole else value
    return None


def _plain(number: float) -> str:
    return (
        f"{number:g}" if isinstance(number, float) and not number.is_integer() else f"{number:.0f}"
    )


def _shown(value: Any) -> str:
    """A bad value as the message shows it: quoted text, cut short."""
    text = repr(value) if isinstance(value, str) else str(value).lower()
    return text if len(text) <= 40 else text[:37] + "..."


def _kinds(document: dict[str, Any], path: Path) -> dict[str, TaskKind]:
    kinds: dict[str, TaskKind] = {}
    for name, table in _table(document, "kinds", path).items():
        where = f"{path} [kinds.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        kinds[name] = parse_kind(name, table, where)
    return kinds


def parse_kind(name: str, table: dict[str, Any], where: str) -> TaskKind:
    """A task kind from its table in ``placet.toml``, checked."""
    _reject_unknown(table, KIND_KEYS, where)
    template = table.get("template")
    if not isinstance(template, str) or not template.strip():
        raise ConfigError(f"{where}: 'template' is required and must be text")
    try:
        kind = TaskKind(
            name=name,
            template=template,
            system=str(table.get("system", "")),
            description=str(table.get("description", "")),
            model=_optional_str(table.get("model")),
            max_attempts=int(_setting(table, "max_attempts", 3, where, MAX_ATTEMPTS, True)),
            max_tokens=int(_setting(table, "max_tokens", 512, where, MAX_TOKENS, True)),
            temperature=_setting(table, "temperature", 0.7, where, TEMPERATURE),
            reviewers=_names(table.get("reviewers", []), f"{where} reviewers"),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    template_inputs(kind.template)
    return kind


def _setting(
    table: dict[str, Any],
    name: str,
    default: float,
    where: str,
    bounds: tuple[float, float],
    whole: bool = False,
) -> float:
    if name not in table:
        return default
    return _number(table[name], f"{where}: {name}", bounds, whole)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of user names")
    return tuple(value)


def _starter_kinds() -> dict[str, TaskKind]:
    return {
        name: parse_kind(name, table, f"built-in kind {name}")
        for name, table in STARTER_KINDS.items()
    }
