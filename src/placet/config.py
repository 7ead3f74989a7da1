"""Settings: ``placet.toml``, ``PLACET_*`` environment variables and ``.env``.

Precedence, highest first: the environment (``.env`` fills in only what the
environment leaves unset), then ``placet.toml``, then built-in defaults.
"""

from __future__ import annotations

import functools
import getpass
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dotenv import load_dotenv

from placet.auditkey import read_key
from placet.channel_config import notify_problems, read_base_url, read_channels, read_notify
from placet.domain import pipelines, typed
from placet.domain.channels import ChannelSettings
from placet.domain.holds import LONGEST_HOLD
from placet.domain.learning import DISTILL, MAX_EVERY, MAX_EXAMPLES, Learning
from placet.domain.models import REVISE_FROM, Example, TaskKind
from placet.domain.policy import kind_policy_problems
from placet.domain.prompts import template_inputs, template_problem
from placet.domain.revisions import MAX_CANDIDATES
from placet.domain.routing import PRIORITIES, RouteSyntaxError, Rule, parse_when
from placet.domain.starter import STARTER_KINDS
from placet.domain.supervision import MAX_AUTO_REVISE, MAX_CHECKS, SCANS, Supervision
from placet.domain.timers import ON_DEADLINE, parse_duration
from placet.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

T = TypeVar("T")
NO_CHANNELS = ChannelSettings()
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
    "examples",
    "stop",
    "revise_from",
    "opening",
    "quote_from",
    "revision_candidates",
    "draft_candidates",
    "reviewers",
    "approvals",
    "remind_after",
    "escalate_after",
    "escalate_to",
    "deadline",
    "on_deadline",
    "hold",
    "supervisor",
    "learn",
    "notify",
    "choices",
    "multiple",
    "output_schema",
    "input_schema",
    "decision_fields",
    "then",
    "then_input",
}
SUPERVISOR_KEYS = {"scan", "route", "checks", "model", "auto_revise"}
MAX_CHECK_CHARS = 300
GLOBAL_KEYS = {
    "database",
    "model",
    "review_dir",
    "review_as",
    "max_input_bytes",
    "lease_seconds",
    "notify",
    "base_url",
    "concurrency",
    "context",
    "gpu_layers",
}
# The environment variable that overrides each [placet] setting.
ENV_FOR = {
    "database": "PLACET_DATABASE_URL",
    "model": "PLACET_MODEL",
    "review_dir": "PLACET_REVIEW_DIR",
    "review_as": "PLACET_REVIEW_AS",
    "max_input_bytes": "PLACET_MAX_INPUT_BYTES",
    "base_url": "PLACET_BASE_URL",
    "concurrency": "PLACET_CONCURRENCY",
    "context": "PLACET_LOCAL_CONTEXT",
    "gpu_layers": "PLACET_LOCAL_GPU_LAYERS",
}
# What each number may be, inclusive: anything outside is a typo, not a wish, and a
# number past these would only fail later (a database column, a provider's API).
MAX_ATTEMPTS = (1, 1000)
APPROVALS = (1, 100)
CANDIDATES = (1, MAX_CANDIDATES)  # domain/revisions.py
MAX_TOKENS = (1, 1_000_000)
TEMPERATURE = (0.0, 2.0)
MAX_INPUT_BYTES = (1, 64 * 1024 * 1024)
LEASE_SECONDS = (1.0, 24 * 3600.0)
PROVIDER_TIMEOUT = (0.1, 3600.0)
# Drafts in flight at once from one worker process (issue 22).
CONCURRENCY = (1, 256)
# A local model's context in tokens, and its layers on a GPU (-1: all of them).
CONTEXT = (256, 1_048_576)
GPU_LAYERS = (-1, 100_000)
UNSET = -2.0  # below every range: the setting was not given
# A model run in this process is CPU-bound: one draft at a time unless configured.
IN_PROCESS_VENDORS = frozenset({"local"})
# OpenAI's API and Groq's take at most four stop sequences.
MAX_STOP = 4


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
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # [groups]: name -> people
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
    # Who hears what (domain/channels.py): the channels configured once, the global
    # notify list (a kind's own replaces it), and the dashboard's address for links.
    channels: ChannelSettings = field(default_factory=ChannelSettings)
    notify: tuple[str, ...] = ()
    base_url: str | None = None
    # Drafts in flight per worker: [placet] concurrency (None: not set), and the
    # [concurrency] table's caps by model ("groq:llama-3.3-70b-versatile") or vendor ("groq").
    concurrency: int | None = None
    model_concurrency: dict[str, int] = field(default_factory=dict)
    # Local models: [placet] context and gpu_layers (None: what fits the model, the machine).
    local_context: int | None = None
    local_gpu_layers: int | None = None

    def drafts_at_once(self, model: str, worker_total: int) -> int:
        """How many drafts of ``model`` one worker writes at once: the [concurrency] cap
        for the model, else for its vendor, else one for a model run in-process (it is
        CPU-bound), else the worker's whole ``worker_total``."""
        vendor = model.split(":", 1)[0]
        for key in (model, vendor):
            if key in self.model_concurrency:
                return min(self.model_concurrency[key], worker_total)
        return 1 if vendor in IN_PROCESS_VENDORS else worker_total

    def worker_concurrency(self) -> int:
        """Drafts in flight per worker when the command line does not say: [placet]
        concurrency, else the largest [concurrency] cap, else one."""
        if self.concurrency is not None:
            return self.concurrency
        return max(self.model_concurrency.values(), default=1)

    def source_of(self, name: str) -> str:
        """Where a setting came from, for messages: its file or variable, else its name."""
        return self.sources.get(name, name)

    def notify_for(self, kind: TaskKind | None) -> tuple[str, ...]:
        """The channels that hear of a kind's tasks: its own list, else the global one."""
        if kind is not None and kind.notify is not None:
            return kind.notify
        return self.notify

    def model_for(self, kind: TaskKind) -> str:
        """The model a kind drafts with: its own, the global one, or the default."""
        if kind.model:
            return kind.model
        if self.model:
            return self.model
        return GROQ_DEFAULT_MODEL if self.groq_api_key else LOCAL_DEFAULT_MODEL

    def model_source(self, kind: TaskKind) -> str:
        """Where a kind's model was chosen, for messages: the setting that named it."""
        if kind.model and self.config_path is not None and self.kinds.get(kind.name) == kind:
            return f"model in {self.config_path} [kinds.{kind.name}]"
        if kind.model:
            return "the kind's own model setting"
        if self.model:
            return self.source_of("model")
        return "the default, as GROQ_API_KEY is set" if self.groq_api_key else "the default"

    def unusable_model(self, kind: TaskKind, reason: str) -> str:
        """A kind whose model cannot be used, in words: the kind, the model, its setting, why."""
        model, source = self.model_for(kind), self.model_source(kind)
        return f"kind {kind.name!r} cannot be drafted with model {model} ({source}): {reason}"


def default_actor(explicit: str | None = None) -> str:
    """Who is acting: the explicit name, PLACET_USER, or the OS user."""
    if explicit:
        return explicit
    try:
        return os.environ.get("PLACET_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load_settings(directory: Path | None = None) -> Settings:
    """Read ``.env``, ``placet.toml`` and the environment of a working folder.

    The first problem stops it with a ConfigError; ``check_settings`` names them all.
    """
    return _load(Path(directory or Path.cwd()), Problems(collect=False))


def check_settings(directory: Path | None = None) -> tuple[Settings, list[str]]:
    """Every problem of a working folder's configuration, each one line naming its file
    or variable and setting, and the settings as far as they could be read."""
    problems = Problems(collect=True)
    settings = _load(Path(directory or Path.cwd()), problems)
    return settings, problems.found


class Problems:
    """Where a problem found while loading goes: raised at once, or noted to name them all."""

    def __init__(self, collect: bool) -> None:
        self.collect = collect
        self.found: list[str] = []

    def attempt(self, read: Callable[[], T], fallback: T) -> T:
        """What ``read`` returns; when it raises ConfigError and problems are collected,
        the problem is noted and ``fallback`` stands in, so the rest is still checked."""
        try:
            return read()
        except ConfigError as exc:
            self.note(exc)
            return fallback

    def note(self, problem: ConfigError) -> None:
        """Raise the problem, or note it when problems are collected."""
        if not self.collect:
            raise problem
        self.found.append(problem.message)


def _load(base: Path, problems: Problems) -> Settings:
    attempt = problems.attempt
    attempt(lambda: _load_dotenv(base / ".env"), None)
    env = os.environ
    path = Path(env.get("PLACET_CONFIG") or base / CONFIG_FILE)
    document = attempt(lambda: _document(path), None)
    globals_: dict[str, Any] = attempt(lambda: _table(document or {}, "placet", path), {})
    attempt(lambda: _reject_unknown(globals_, GLOBAL_KEYS, f"{path} [placet]"), None)
    read = _Reader(globals_, f"{path} [placet]")

    def number(
        name: str, default: float, bounds: tuple[float, float], whole: bool = False
    ) -> float:
        return attempt(lambda: read.number(name, default, bounds, whole), default)

    settings = Settings(
        database_url=attempt(lambda: read.text("database"), None) or DEFAULT_DATABASE,
        model=attempt(lambda: read.text("model"), None),
        review_dir=Path(attempt(lambda: _review_dir(read), DEFAULT_REVIEW_DIR)),
        review_as=attempt(lambda: read.text("review_as"), None),
        max_input_bytes=int(number("max_input_bytes", 65536, MAX_INPUT_BYTES, whole=True)),
        lease_seconds=number("lease_seconds", 60.0, LEASE_SECONDS),
        **_kinds_and_groups(document, path, problems),
        config_path=path if path.exists() else None,
        groq_api_key=env.get("GROQ_API_KEY") or None,
        groq_base_url=env.get("GROQ_BASE_URL") or None,
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        ollama_base_url=env.get("OLLAMA_BASE_URL") or None,
        provider_timeout=attempt(
            lambda: _env_number("PLACET_PROVIDER_TIMEOUT", 60.0, PROVIDER_TIMEOUT), 60.0
        ),
        audit_key=attempt(lambda: read_key(env, base), None),
        channels=attempt(lambda: read_channels(document or {}, path, env, attempt), NO_CHANNELS),
        notify=attempt(lambda: read_notify(globals_, f"{path} [placet]") or (), ()),
        base_url=attempt(
            lambda: read_base_url(read.text("base_url"), _where(read, "base_url")), None
        ),
        concurrency=int(number("concurrency", 0, CONCURRENCY, whole=True)) or None,
        model_concurrency=attempt(lambda: _model_concurrency(document or {}, path), {}),
        local_context=_given(number("context", UNSET, CONTEXT, whole=True)),
        local_gpu_layers=_given(number("gpu_layers", UNSET, GPU_LAYERS, whole=True)),
        sources=read.sources,
    )
    for problem in _notify_problems(settings, path):
        problems.note(ConfigError(problem))
    return settings


def _given(value: float) -> int | None:
    """A whole-number setting as given, or None when it was not."""
    return None if value == UNSET else int(value)


def _where(read: _Reader, name: str) -> str:
    """How a problem names a [placet] setting: its variable, or its file and table."""
    source = read.sources.get(name, "")
    return source if source.startswith("PLACET_") else f"{read.where} {name}"


def _notify_problems(settings: Settings, path: Path) -> list[str]:
    """Each notify list's channels that are not configured: [placet]'s, then each kind's."""
    channels = settings.channels
    found = notify_problems(settings.notify, f"{path} [placet]", channels)
    for name, kind in settings.kinds.items():
        found += notify_problems(kind.notify, f"{path} [kinds.{name}]", channels)
    return found


def _kinds_and_groups(
    document: dict[str, Any] | None, path: Path, problems: Problems
) -> dict[str, Any]:
    """The kinds and [groups], and each kind's reviewers and approvals checked against them."""
    no_groups: dict[str, tuple[str, ...]] = {}
    groups = problems.attempt(lambda: _groups(document or {}, path), no_groups)
    kinds = _all_kinds(document, path, problems)
    for name, kind in kinds.items():
        for problem in kind_policy_problems(kind, groups):
            problems.note(ConfigError(f"{path} [kinds.{name}] {problem}"))
    for problem in pipelines.pipeline_problems(kinds):
        problems.note(ConfigError(f"{path} {problem}"))
    return {"kinds": kinds, "groups": groups}


def _document(path: Path) -> dict[str, Any]:
    """placet.toml read, or nothing when there is none (and PLACET_CONFIG names none)."""
    if path.exists():
        return _read_toml(path)
    if "PLACET_CONFIG" in os.environ:
        raise ConfigError(f"PLACET_CONFIG names {path}, which does not exist")
    return {}


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


def _duration(table: dict[str, Any], name: str, where: str) -> float | None:
    """A timer setting: a duration such as "30m", "4h" or "1d" (domain/timers.py)."""
    if name not in table:
        return None
    try:
        return parse_duration(table[name])
    except ValueError as exc:
        raise ConfigError(f"{where}: {name} {exc}") from None


def _hold(table: dict[str, Any], where: str) -> float | None:
    """How long taking an item holds it (domain/holds.py): a duration up to a day."""
    seconds = _duration(table, "hold", where)
    if seconds is not None and seconds > LONGEST_HOLD:
        raise ConfigError(f"{where}: hold must be at most a day (1d), not {table['hold']!r}")
    return seconds


def _supervisor(table: dict[str, Any], where: str) -> Supervision | None:
    """``[kinds.NAME.supervisor]``: the scanners and checks that read every draft, the
    rounds a failing draft goes back, and the routing rules (domain/supervision.py)."""
    if "supervisor" not in table:
        return None
    raw = table["supervisor"]
    where = f"{where} supervisor"
    if not isinstance(raw, dict):
        raise ConfigError(f'{where} must be a table, such as supervisor = {{ scan = ["pii"] }}')
    _reject_unknown(raw, SUPERVISOR_KEYS, where)
    checks = _checks(raw.get("checks", []), where)
    # With checks, scanning may be turned off (scan = []); without, it is all there is.
    scan = raw.get("scan", list(SCANS))
    if (
        not isinstance(scan, list)
        or (not scan and not checks)
        or any(item not in SCANS for item in scan)
    ):
        raise ConfigError(
            f"{where}: scan must be a list of {', '.join(repr(s) for s in SCANS)}, "
            f"not {_shown(scan)}"
        )
    rules = raw.get("route", [])
    if not isinstance(rules, list):
        raise ConfigError(
            f"{where}: route must be a list of rules, such as route = [{{ when = ... }}]"
        )
    route = tuple(_rule(rule, f"{where} route[{index}]") for index, rule in enumerate(rules))
    model = raw.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ConfigError(f'{where}: model must name a model, such as "local:smollm2"')
    auto_revise = _auto_revise(raw.get("auto_revise", 0), checks, where)
    return Supervision(tuple(dict.fromkeys(scan)), route, checks, model, auto_revise)


def _learn(table: dict[str, Any], where: str) -> Learning:
    """``learn = { every = 20, examples = 3 }``: what the kind learns from its reviewers."""
    raw = table.get("learn")
    if raw is None:
        return Learning()
    example = "learn = { every = 20, examples = 3 }"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: learn must be a table, such as {example}")
    _reject_unknown(raw, {"every", "examples", "distill"}, f"{where} learn")
    every = raw.get("every")
    if every is not None and (
        isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= MAX_EVERY
    ):
        raise ConfigError(
            f"{where}: learn.every must be a whole number from 1 to {MAX_EVERY} (decisions "
            f"between lesson proposals), not {_shown(every)}"
        )
    examples = raw.get("examples", 0)
    if isinstance(examples, bool) or not isinstance(examples, int):
        examples = -1
    if not 0 <= examples <= MAX_EXAMPLES:
        raise ConfigError(
            f"{where}: learn.examples must be a whole number from 0 to {MAX_EXAMPLES} (approved "
            f"drafts put into each prompt), not {_shown(raw.get('examples'))}"
        )
    distill = raw.get("distill", "model")
    if distill not in DISTILL:
        raise ConfigError(
            f'{where}: learn.distill must be "model" (the kind\'s model writes the lessons) or '
            f'"feedback" (the reviewers\' own words, most often said first), not {_shown(distill)}'
        )
    return Learning(every, examples, distill)


def _checks(raw: Any, where: str) -> tuple[str, ...]:
    """The supervisor's plain-language checks: up to MAX_CHECKS distinct short sentences."""
    example = 'checks = ["Never promise a refund", "Answer the question asked"]'
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"{where}: checks must be a list of sentences, such as {example}")
    checks = tuple(dict.fromkeys(" ".join(item.split()) for item in raw))
    if any(not check for check in checks):
        raise ConfigError(f"{where}: a check is empty; each is a sentence, such as {example}")
    if len(checks) > MAX_CHECKS:
        raise ConfigError(f"{where}: at most {MAX_CHECKS} checks, not {len(checks)}")
    long = [check for check in checks if len(check) > MAX_CHECK_CHARS]
    if long:
        raise ConfigError(
            f"{where}: a check is at most {MAX_CHECK_CHARS} characters: {long[0][:60]!r}..."
        )
    return checks


def _auto_revise(raw: Any, checks: tuple[str, ...], where: str) -> int:
    """How many times a draft that fails a check goes back before a person sees it."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_AUTO_REVISE:
        raise ConfigError(
            f"{where}: auto_revise must be a whole number from 0 to {MAX_AUTO_REVISE} "
            f"(rounds of revision before a person sees the draft), not {_shown(raw)}"
        )
    if raw and not checks:
        raise ConfigError(
            f"{where}: auto_revise sends back drafts that fail a check, but there are no "
            "checks: add checks = [...], or leave auto_revise out"
        )
    return raw


def _rule(raw: Any, where: str) -> Rule:
    """One routing rule (domain/routing.py): when, and reviewers, approvals or priority."""
    if not isinstance(raw, dict):
        raise ConfigError(f'{where} must be a table, such as {{ when = "risk >= 70", ... }}')
    _reject_unknown(raw, {"when", "reviewers", "approvals", "priority"}, where)
    when = raw.get("when")
    if not isinstance(when, str):
        raise ConfigError(f'{where}: when is required, such as when = "risk >= 70"')
    try:
        test = parse_when(when)
    except RouteSyntaxError as exc:
        raise ConfigError(f"{where}: when: {exc}") from None
    reviewers = raw.get("reviewers", [])
    reviewers = [reviewers] if isinstance(reviewers, str) else reviewers
    approvals = raw.get("approvals")
    if approvals is not None:
        approvals = int(_number(approvals, f"{where}: approvals", APPROVALS, whole=True))
    priority = raw.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise ConfigError(f'{where}: priority must be "high" or "low", not {_shown(priority)}')
    if not (reviewers or approvals or priority):
        raise ConfigError(f"{where}: a rule sets reviewers, approvals or priority")
    names = _names(reviewers, f"{where} reviewers")
    return Rule(when, test, names, approvals, priority)


def _on_deadline(table: dict[str, Any], where: str) -> str:
    value = table.get("on_deadline", "reject")
    if value not in ON_DEADLINE:
        raise ConfigError(
            f'{where}: on_deadline must be "reject" or "expire", not {_shown(value)} '
            "(nothing is ever approved because nobody answered)"
        )
    return str(value)


def _groups(document: dict[str, Any], path: Path) -> dict[str, tuple[str, ...]]:
    """[groups]: each a list of user names (``legal = ["ana", "li", "omar"]``)."""
    groups = {}
    for name, members in _table(document, "groups", path).items():
        where = f"{path} [groups] {name}"
        if not name.strip() or ":" in name:
            raise ConfigError(f"{where}: a group name must be a plain word, not {name!r}")
        groups[name] = _names(members, where)
    return groups


def _model_concurrency(document: dict[str, Any], path: Path) -> dict[str, int]:
    """[concurrency]: drafts in flight per worker, by model or vendor (``groq = 32``)."""
    caps = {}
    low, high = CONCURRENCY
    for name, value in _table(document, "concurrency", path).items():
        where = f"{path} [concurrency] {name}"
        if not name.strip():
            raise ConfigError(f'{where}: name a model or a vendor, such as "groq" = 32')
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{where} must be a whole number from {low} to {high}, not {value!r}")
        caps[name] = value
    return caps


def _all_kinds(
    document: dict[str, Any] | None, path: Path, problems: Problems
) -> dict[str, TaskKind]:
    """The kinds of placet.toml, or the built-in ones when it has none (or there is none)."""
    if document is None:
        return {}  # placet.toml could not be read: no kinds of it to check
    if "kinds" not in document:
        return _starter_kinds()
    kinds: dict[str, TaskKind] = {}
    tables: dict[str, Any] = problems.attempt(lambda: _table(document, "kinds", path), {})
    for name, table in tables.items():
        where = f"{path} [kinds.{name}]"
        if not isinstance(table, dict):
            problems.note(ConfigError(f"{where} must be a table"))
            continue
        kind = parse_kind(name, table, where, problems)
        if kind is not None:
            kinds[name] = kind
    return kinds


def parse_kind(
    name: str, table: dict[str, Any], where: str, problems: Problems | None = None
) -> TaskKind | None:
    """A task kind from its table in ``placet.toml``, checked setting by setting.

    The first problem raises ConfigError, unless ``problems`` collects them: then
    each is noted, and None is returned when the kind cannot be made at all.
    """
    attempt = (problems or Problems(collect=False)).attempt

    def number(key: str, default: float, bounds: tuple[float, float], whole: bool = False) -> float:
        return attempt(lambda: _setting(table, key, default, where, bounds, whole), default)

    attempt(lambda: _reject_unknown(table, KIND_KEYS, where), None)
    template = attempt(lambda: _template(table, where), None)
    max_attempts = int(number("max_attempts", 3, MAX_ATTEMPTS, whole=True))
    max_tokens = int(number("max_tokens", 512, MAX_TOKENS, whole=True))
    temperature = number("temperature", 0.7, TEMPERATURE)
    no_names: tuple[str, ...] = ()
    reviewers = attempt(lambda: _names(table.get("reviewers", []), f"{where} reviewers"), no_names)
    approvals = int(number("approvals", 1, APPROVALS, whole=True))
    timers = {
        name: attempt(functools.partial(_duration, table, name, where), None)
        for name in ("remind_after", "escalate_after", "deadline")
    }
    escalate_to = attempt(
        lambda: _names(table.get("escalate_to", []), f"{where} escalate_to"), no_names
    )
    on_deadline = attempt(lambda: _on_deadline(table, where), "reject")
    hold = attempt(lambda: _hold(table, where), None)
    supervisor = attempt(lambda: _supervisor(table, where), None)
    learn = attempt(lambda: _learn(table, where), Learning())
    stop = attempt(lambda: _stop(table, where), no_names)
    revise_from = attempt(lambda: _revise_from(table, where), "draft")
    candidates = int(number("revision_candidates", 1, CANDIDATES, whole=True))
    first_candidates = int(number("draft_candidates", 1, CANDIDATES, whole=True))
    notify = attempt(lambda: read_notify(table, where), None)
    choices, multiple = attempt(
        lambda: typed.parse_choices(table.get("choices"), table.get("multiple"), where),
        (no_names, False),
    )
    output_schema = attempt(lambda: _output_schema(table, choices, where), None)
    input_schema = attempt(lambda: _schema(table.get("input_schema"), where, "input_schema"), None)
    decision_fields = attempt(
        lambda: _schema(table.get("decision_fields"), where, "decision_fields"), None
    )
    no_pairs: tuple[tuple[str, str], ...] = ()
    then = attempt(
        lambda: pipelines.parse_then(table.get("then"), choices, multiple, where), no_pairs
    )
    then_input = attempt(
        lambda: pipelines.parse_then_input(table.get("then_input"), bool(then), where), no_pairs
    )
    if template is None:
        return None
    no_examples: tuple[Example, ...] = ()
    examples = attempt(lambda: _examples(table, template, where), no_examples)
    typed_kind = bool(choices or output_schema)
    opening = attempt(lambda: _opening(table, template, typed_kind, where), "")
    quote_from = attempt(lambda: _quote_from(table, template, typed_kind, where), "")
    return TaskKind(
        name=name,
        template=template,
        system=str(table.get("system", "")),
        description=str(table.get("description", "")),
        model=_optional_str(table.get("model")),
        max_attempts=max_attempts,
        max_tokens=max_tokens,
        temperature=temperature,
        examples=examples,
        stop=stop,
        revise_from=revise_from,
        opening=opening,
        quote_from=quote_from,
        revision_candidates=candidates,
        draft_candidates=first_candidates,
        reviewers=reviewers,
        approvals=approvals,
        escalate_to=escalate_to,
        on_deadline=on_deadline,
        hold=hold,
        supervisor=supervisor,
        learn=learn,
        notify=notify,
        choices=choices,
        multiple=multiple,
        output_schema=output_schema,
        input_schema=input_schema,
        decision_fields=decision_fields,
        then=then,
        then_input=then_input,
        **timers,
    )


def _output_schema(table: dict[str, Any], choices: tuple[str, ...], where: str) -> Any:
    """output_schema: a JSON Schema of an object, inline (a table, or JSON text) or in a JSON
    file named relative to the working folder; never with choices, which make their own."""
    raw = table.get("output_schema")
    if raw is not None and choices:
        raise ConfigError(f"{where}: a kind has choices or an output_schema, not both")
    return _schema(raw, where, "output_schema")


def _schema(raw: Any, where: str, name: str) -> Any:
    """A JSON Schema of an object: a table, JSON text, or a JSON file named relative to the
    working folder (None when not set)."""
    if raw is None:
        return None
    if isinstance(raw, str) and raw.lstrip().startswith("{"):  # the schema as JSON text
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{where}: {name} is not valid JSON: {exc}") from None
    elif isinstance(raw, str):
        try:
            raw = json.loads(Path(raw).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{where}: {name} file {raw[:200]!r} could not be read: {exc}"
            ) from None
    return typed.check_schema(raw, where, name)


def _template(table: dict[str, Any], where: str) -> str:
    """A kind's template: text, not empty, every brace an input or a literal one."""
    template = table.get("template")
    if not isinstance(template, str) or not template.strip():
        raise ConfigError(f"{where}: 'template' is required and must be text")
    problem = template_problem(template)
    if problem is not None:
        raise ConfigError(f"{where}: template: {problem}")
    return template


def _opening(table: dict[str, Any], template: str, typed_kind: bool, where: str) -> str:
    """opening: text every draft starts with, filled from the template's own inputs (a
    typed kind's answer is a JSON object, which no opening may start)."""
    opening = table.get("opening", "")
    if not isinstance(opening, str):
        raise ConfigError(f"{where}: opening must be text, not {_shown(opening)}")
    _refuse_on_typed_kind("opening", opening, typed_kind, where)
    problem = template_problem(opening)
    if problem is not None:
        raise ConfigError(f"{where}: opening: {problem}")
    foreign = [name for name in template_inputs(opening) if name not in template_inputs(template)]
    if foreign:
        raise ConfigError(
            f"{where}: opening uses {', '.join(foreign)}, which the template does not: "
            "an opening may use only the template's inputs"
        )
    return opening


def _refuse_on_typed_kind(setting: str, value: str, typed_kind: bool, where: str) -> None:
    """A setting about a draft's words, set on a kind whose draft is a JSON object."""
    if value and typed_kind:
        raise ConfigError(
            f"{where}: {setting} cannot be set on a kind with choices or an output_schema"
        )


def _quote_from(table: dict[str, Any], template: str, typed_kind: bool, where: str) -> str:
    """quote_from: the name of one of the template's inputs, which a draft's quotations
    must come from word for word (not on a typed kind, whose answer is JSON)."""
    name = table.get("quote_from", "")
    inputs = template_inputs(template)
    if not isinstance(name, str) or (name and name not in inputs):
        raise ConfigError(
            f"{where}: quote_from must name one of the template's inputs "
            f"({', '.join(inputs) or 'it has none'}), not {_shown(name)}"
        )
    _refuse_on_typed_kind("quote_from", name, typed_kind, where)
    return name


def _examples(table: dict[str, Any], template: str, where: str) -> tuple[Example, ...]:
    """[[kinds.NAME.examples]]: each an ``input`` table for the template and its ``output``."""
    found = table.get("examples", [])
    if not isinstance(found, list):
        raise ConfigError(
            f"{where}: examples must be a list of tables ([[kinds.NAME.examples]]), "
            f"not {_shown(found)}"
        )
    return tuple(
        _example(item, template, f"{where}: example {n}") for n, item in enumerate(found, 1)
    )


def _example(item: Any, template: str, where: str) -> Example:
    """One worked example, checked against the template it will fill."""
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a table with input and output, not {_shown(item)}")
    _reject_unknown(item, {"input", "output"}, where)
    values = item.get("input")
    if not isinstance(values, dict):
        found = f"not {_shown(values)}" if "input" in item else "and is missing"
        raise ConfigError(
            f"{where}: input must be a table of the template's inputs "
            f'(input = {{ name = "..." }}), {found}'
        )
    missing = [name for name in template_inputs(template) if name not in values]
    if missing:
        raise ConfigError(f"{where}: input lacks {', '.join(missing)}, which the template uses")
    output = item.get("output")
    if not isinstance(output, str) or not output.strip():
        raise ConfigError(f"{where}: output must be the answer the example shows, as text")
    return Example(input=dict(values), output=output)


def _stop(table: dict[str, Any], where: str) -> tuple[str, ...]:
    """stop: up to four texts, none empty, that end a draft where the model writes one."""
    found = table.get("stop", [])
    if (
        not isinstance(found, list)
        or not all(isinstance(item, str) and item for item in found)
        or len(found) > MAX_STOP
    ):
        raise ConfigError(
            f"{where}: stop must be a list of at most {MAX_STOP} texts, none empty "
            f'(stop = ["\\n\\n\\n"]), not {_shown(found)}'
        )
    return tuple(found)


def _revise_from(table: dict[str, Any], where: str) -> str:
    value = table.get("revise_from", "draft")
    if value not in REVISE_FROM:
        raise ConfigError(
            f'{where}: revise_from must be "draft" (the previous draft and the feedback) '
            f'or "request" (the request again, with the feedback), not {_shown(value)}'
        )
    return str(value)


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
    kinds = {
        name: parse_kind(name, table, f"built-in kind {name}")
        for name, table in STARTER_KINDS.items()
    }
    return {name: kind for name, kind in kinds.items() if kind is not None}
