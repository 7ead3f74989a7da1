"""Settings: ``placet.toml``, ``PLACET_*`` environment variables and ``.env``.

Precedence, highest first: the environment (``.env`` fills in only what the
environment leaves unset), then ``placet.toml``, then built-in defaults.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

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

    def model_for(self, kind: TaskKind) -> str:
        """The model a kind drafts with: its own, the global one, or the default."""
        if kind.model:
            return kind.model
        if self.model:
            return self.model
        return GROQ_DEFAULT_MODEL if self.groq_api_key else LOCAL_DEFAULT_MODEL


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
    load_dotenv(base / ".env", override=False)
    env = os.environ
    path = Path(env.get("PLACET_CONFIG") or base / CONFIG_FILE)
    document = _read_toml(path) if path.exists() else {}
    if "PLACET_CONFIG" in env and not path.exists():
        raise ConfigError(f"PLACET_CONFIG names {path}, which does not exist")
    globals_ = _table(document, "placet", path)
    _reject_unknown(globals_, GLOBAL_KEYS, f"{path} [placet]")
    kinds = _kinds(document, path) if "kinds" in document else _starter_kinds()
    database = globals_.get("database", DEFAULT_DATABASE)
    review_dir = globals_.get("review_dir", DEFAULT_REVIEW_DIR)
    max_input = env.get("PLACET_MAX_INPUT_BYTES") or globals_.get("max_input_bytes", 65536)
    return Settings(
        database_url=env.get("PLACET_DATABASE_URL") or str(database),
        model=env.get("PLACET_MODEL") or _optional_str(globals_.get("model")),
        review_dir=Path(env.get("PLACET_REVIEW_DIR") or str(review_dir)),
        review_as=env.get("PLACET_REVIEW_AS") or _optional_str(globals_.get("review_as")),
        max_input_bytes=_int(max_input, "max_input_bytes"),
        lease_seconds=float(globals_.get("lease_seconds", 60.0)),
        kinds=kinds,
        config_path=path if path.exists() else None,
        groq_api_key=env.get("GROQ_API_KEY") or None,
        groq_base_url=env.get("GROQ_BASE_URL") or None,
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        ollama_base_url=env.get("OLLAMA_BASE_URL") or None,
        provider_timeout=float(env.get("PLACET_PROVIDER_TIMEOUT") or 60.0),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already names the line and column.
        raise ConfigError(f"{path}: {exc}") from exc
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


def _int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc
    if number < 1:
        raise ConfigError(f"{name} must be at least 1")
    return number


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
            max_attempts=_int(table.get("max_attempts", 3), f"{where} max_attempts"),
            max_tokens=_int(table.get("max_tokens", 512), f"{where} max_tokens"),
            temperature=float(table.get("temperature", 0.7)),
            reviewers=_names(table.get("reviewers", []), f"{where} reviewers"),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    template_inputs(kind.template)
    return kind


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of user names")
    return tuple(value)


def _starter_kinds() -> dict[str, TaskKind]:
    return {
        name: parse_kind(name, table, f"built-in kind {name}")
        for name, table in STARTER_KINDS.items()
    }
