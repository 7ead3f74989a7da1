"""Reading the channels from ``placet.toml`` and their secrets from the environment.

``[channels]`` holds what all channels share (``alert_after``, ``max_attempts``,
``retry_delay``, ``timeout``) and one table per channel, ``[channels.webhook.NAME]``
(``url``, optional ``events``, and its own ``max_attempts``, ``retry_delay``,
``timeout``). A channel's secret comes from the environment or ``.env``
(``PLACET_WEBHOOK_<NAME>_SECRET``); one written in ``placet.toml`` is refused, since
that file is shared, versioned and read by everyone. ``notify`` lists (``[placet]``
and each kind's) are checked against the channels configured. Every problem names
its file, table and setting (``placet config check`` lists them all).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from placet.domain import channels as ch
from placet.domain.timers import parse_duration, shown_duration
from placet.errors import ConfigError
from placet.serverkey import server_key

T = TypeVar("T")
Attempt = Callable[[Callable[[], T], T], T]
SHARED_KEYS = {"alert_after", "max_attempts", "retry_delay", "timeout"}
WEBHOOK_KEYS = {"url", "events", "max_attempts", "retry_delay", "timeout", "decide_as"}
# An account name, as placet users add takes it (decide_as names one).
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
SECRET_WORDS = ("secret", "password", "token", "api_key", "apikey")
MAX_ATTEMPTS = (1, 100)
RETRY_DELAY = (0.1, 3600.0)
TIMEOUT = (0.5, 120.0)
ALERT_AFTER = (1.0, 7 * 86400.0)
EXAMPLE_URL = "https://hooks.example.com/placet"


def read_channels(
    document: Mapping[str, Any], path: Path, env: Mapping[str, str], attempt: Attempt[Any]
) -> ch.ChannelSettings:
    """``[channels]``: each channel checked setting by setting, its secret from ``env``."""
    raw = document.get("channels", {})
    if not isinstance(raw, dict):
        attempt(_raise(ConfigError(f"{path}: [channels] must be a table")), None)
        return ch.ChannelSettings()
    where = f"{path} [channels]"
    attempt(lambda: _refuse_secrets(raw, where, None), None)
    kinds = {key for key, value in raw.items() if isinstance(value, dict)}
    attempt(lambda: _reject_unknown(set(raw) - kinds, SHARED_KEYS, where), None)
    for unknown in sorted(kinds - set(ch.CHANNEL_TYPES)):
        message = (
            f"{path} [channels.{unknown}]: unknown channel type {unknown!r} "
            f"(known: {', '.join(ch.CHANNEL_TYPES)})"
        )
        attempt(_raise(ConfigError(message)), None)
    shared = _Shared(
        max_attempts=attempt(
            lambda: _whole(raw, "max_attempts", ch.DEFAULT_MAX_ATTEMPTS, where), 1
        ),
        retry_delay=attempt(
            lambda: _seconds(raw, "retry_delay", ch.DEFAULT_RETRY_DELAY, where, RETRY_DELAY),
            ch.DEFAULT_RETRY_DELAY,
        ),
        timeout=attempt(
            lambda: _seconds(raw, "timeout", ch.DEFAULT_TIMEOUT, where, TIMEOUT),
            ch.DEFAULT_TIMEOUT,
        ),
    )
    alert_after = attempt(
        lambda: _seconds(raw, "alert_after", ch.DEFAULT_ALERT_AFTER, where, ALERT_AFTER),
        ch.DEFAULT_ALERT_AFTER,
    )
    webhooks: dict[str, ch.Webhook] = {}
    tables = raw.get(ch.WEBHOOK, {})
    for name, table in tables.items() if isinstance(tables, dict) else ():
        found = attempt(functools.partial(_webhook, name, table, path, shared, env), None)
        if found is not None:
            webhooks[name] = found
    email = None
    if ch.EMAIL in raw:
        email = attempt(lambda: read_email(raw[ch.EMAIL], path, shared, env), None)
    slack = None
    if isinstance(raw.get(ch.SLACK), dict):
        slack = attempt(functools.partial(read_slack, document, path, shared, env), None)
    elif ch.SLACK in raw:
        attempt(_raise(ConfigError(f"{where}.slack] must be a table")), None)
    return ch.ChannelSettings(webhooks, alert_after, email, slack)


def read_email(table: Any, path: Path, shared: _Shared, env: Mapping[str, str]) -> ch.Email:
    """``[channels.email]`` (see ``placet.email_config``)."""
    # Imported here: that module reads with this one's helpers.
    from placet.email_config import email_channel

    return email_channel(
        table, path, (shared.max_attempts, shared.retry_delay, shared.timeout), env
    )


class _Shared:
    """The defaults ``[channels]`` gives every channel."""

    def __init__(self, max_attempts: int, retry_delay: float, timeout: float) -> None:
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.timeout = timeout


def _webhook(
    name: str, table: Any, path: Path, shared: _Shared, env: Mapping[str, str]
) -> ch.Webhook:
    where = f"{path} [channels.webhook.{name}]"
    if not ch.NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: a channel's name is lower-case letters, digits, - and _ "
            f"(at most 63), not {name!r}"
        )
    if not isinstance(table, dict):
        raise ConfigError(f'{where} must be a table, such as url = "{EXAMPLE_URL}"')
    variable = ch.secret_variable(ch.WEBHOOK, name)
    _refuse_secrets(table, where, variable)
    _reject_unknown(set(table), WEBHOOK_KEYS, where)
    url = table.get("url")
    if not isinstance(url, str):
        raise ConfigError(f'{where}: url is required, such as url = "{EXAMPLE_URL}"')
    problem = ch.url_problem(url)
    if problem is not None:
        raise ConfigError(f"{where} url {problem}, such as {EXAMPLE_URL!r}, not {_shown(url)}")
    return ch.Webhook(
        name=name,
        url=url,
        secret=_secret(env, variable, where),
        events=_events(table, where),
        timeout=_seconds(table, "timeout", shared.timeout, where, TIMEOUT),
        max_attempts=_whole(table, "max_attempts", shared.max_attempts, where),
        retry_delay=_seconds(table, "retry_delay", shared.retry_delay, where, RETRY_DELAY),
        **_decide_as(table, path, where, env),
    )


def _decide_as(table: Mapping[str, Any], path: Path, where: str, env: Mapping[str, str]) -> Any:
    """``decide_as``: the account a callback URL in each review request decides as, and
    the server's key that signs it (read only when asked for: it may make the key file)."""
    name = table.get("decide_as")
    if name is None:
        return {}
    if not isinstance(name, str) or not ACCOUNT_NAME.fullmatch(name):
        raise ConfigError(
            f'{where} decide_as must be an account\'s name, such as "deploy-bot", '
            f"not {_shown(name)}"
        )
    # The key file lies beside placet.toml, where e-mail's links find it too.
    return {"decide_as": name, "link_key": server_key(path.parent, env)}


def read_slack(
    document: Mapping[str, Any], path: Path, shared: _Shared, env: Mapping[str, str]
) -> ch.Slack:
    """``[channels.slack]``: one workspace; its bot token and signing secret from ``env``."""
    # Imported here: slack_config needs this module's small readers.
    from placet.slack_config import read_slack_table

    return read_slack_table(document, path, shared, env)


def _secret(env: Mapping[str, str], variable: str, where: str) -> str:
    secret = env.get(variable, "").strip()
    if not secret:
        raise ConfigError(
            f"{where}: no signing secret: set {variable} in the environment or .env to a "
            "Standard Webhooks secret, whsec_ and base64 (make one with: placet channels secret)"
        )
    problem = ch.secret_problem(secret)
    if problem is not None:
        raise ConfigError(f"{variable} (the secret of {where}) {problem}")
    return secret


def _refuse_secrets(table: Mapping[str, Any], where: str, variable: str | None) -> None:
    """A secret written in placet.toml is refused, naming where it belongs instead."""
    for key in sorted(table):
        if any(word in key.lower() for word in SECRET_WORDS):
            instead = f"set {variable}" if variable else "set the channel's PLACET_..._SECRET"
            raise ConfigError(
                f"{where} {key}: a secret never goes in placet.toml (it is shared and "
                f"versioned); remove it and {instead} in the environment or .env"
            )


def _events(table: Mapping[str, Any], where: str) -> tuple[str, ...]:
    events = table.get("events", list(ch.EVENTS))
    known = ", ".join(ch.EVENTS)
    if (
        not isinstance(events, list)
        or not events
        or not all(isinstance(e, str) and e in ch.EVENTS for e in events)
    ):
        raise ConfigError(
            f"{where} events must be a list of some of: {known}; not {_shown(events)}"
        )
    return tuple(dict.fromkeys(events))


def read_notify(table: Mapping[str, Any], where: str) -> tuple[str, ...] | None:
    """A ``notify`` list of channel addresses, as written (None when the table has none)."""
    if "notify" not in table:
        return None
    raw = table["notify"]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f'{where} notify must be a list of channels, such as ["webhook:ops"]')
    for item in raw:
        try:
            ch.split_address(item)
        except ValueError as exc:
            raise ConfigError(f"{where} notify: {exc}") from None
    return tuple(dict.fromkeys(raw))


def notify_problems(
    notify: tuple[str, ...] | None, where: str, channels: ch.ChannelSettings
) -> list[str]:
    """Each address of a ``notify`` list that names no configured channel, in words."""
    problems = []
    configured = ", ".join(channels.addresses) or "none; add [channels.webhook.NAME]"
    said = f"{where} notify" if where else "notify"
    for item in notify or ():
        try:
            channel_type, _ = ch.split_address(item)
        except ValueError as exc:
            problems.append(f"{said}: {exc}")
            continue
        if channel_type not in ch.CHANNEL_TYPES:
            problems.append(
                f"{said}: {item!r}: unknown channel type {channel_type!r} "
                f"(known: {', '.join(ch.CHANNEL_TYPES)})"
            )
        elif channels.get(item) is None and channel_type == ch.EMAIL:
            problems.append(f"{said}: {item!r} needs the e-mail channel: add [channels.email]")
        elif channel_type == ch.SLACK and channels.slack is not None and not channels.get(item):
            problems.append(
                f'{said}: {item!r} names no Slack channel: write "slack:#name" (lower case) '
                'or its id, "slack:C0123ABCD"'
            )
        elif channels.get(item) is None:
            problems.append(f"{said}: {item!r} is no configured channel (configured: {configured})")
    return problems


def read_base_url(value: str | None, where: str) -> str | None:
    """The dashboard's address as its users reach it, for links in notifications."""
    if value is None:
        return None
    problem = ch.url_problem(value)
    if problem is not None:
        raise ConfigError(
            f"{where} {problem}, such as 'https://placet.example.com', not {_shown(value)}"
        )
    return value.rstrip("/")


# -- small readers -------------------------------------------------------------------------


def _raise(error: ConfigError) -> Callable[[], None]:
    def read() -> None:
        raise error

    return read


def _reject_unknown(keys: set[str], allowed: set[str], where: str) -> None:
    unknown = sorted(keys - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _whole(table: Mapping[str, Any], name: str, default: int, where: str) -> int:
    if name not in table:
        return default
    value, (low, high) = table[name], MAX_ATTEMPTS
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"{where} {name} must be a whole number from {low} to {high}, not {_shown(value)}"
        )
    return value


def _seconds(
    table: Mapping[str, Any],
    name: str,
    default: float,
    where: str,
    bounds: tuple[float, float],
) -> float:
    """A duration: "30s", "10m", "1h", or a number of seconds."""
    if name not in table:
        return default
    value, (low, high) = table[name], bounds
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError:
            seconds = None
    if seconds is None or not math.isfinite(seconds) or not low <= seconds <= high:
        raise ConfigError(
            f"{where} {name} must be a duration from {_plain(low)} to {_plain(high)} "
            f'(such as "30s", "10m" or a number of seconds), not {_shown(value)}'
        )
    return seconds


def _plain(seconds: float) -> str:
    return shown_duration(seconds) if seconds >= 1 else f"{seconds:g}s"


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value).lower()
    return text if len(text) <= 60 else text[:57] + "..."
