"""Reading ``[channels.email]``: the SMTP server, its login, and how long links last.

    [channels.email]
    smtp_host = "smtp.example.com"
    smtp_port = 587                 # default: 587 for starttls, 465 for tls, 25 for none
    security = "starttls"           # or "tls" (implicit TLS) or "none" (loopback only)
    from = "Placet <placet@example.com>"
    username = "placet@example.com" # optional: log in with PLACET_EMAIL_PASSWORD
    link_expiry = "3d"              # how long approve / reject links work; default 7 days

The password comes from the environment or ``.env`` (``PLACET_EMAIL_PASSWORD``),
never from ``placet.toml``; the links are signed with the server's key
(``placet.serverkey``: ``PLACET_SECRET_KEY`` or ``.placet_secret``).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from placet.channel_config import (
    RETRY_DELAY,
    TIMEOUT,
    _events,
    _refuse_secrets,
    _reject_unknown,
    _seconds,
    _shown,
    _whole,
)
from placet.domain import channels as ch
from placet.errors import ConfigError
from placet.serverkey import server_key

PASSWORD_VARIABLE = "PLACET_EMAIL_PASSWORD"
EMAIL_KEYS = {
    "smtp_host",
    "smtp_port",
    "security",
    "from",
    "username",
    "link_expiry",
    "events",
    "max_attempts",
    "retry_delay",
    "timeout",
}
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LINK_EXPIRY = (60.0, 90 * 86400.0)


def email_channel(
    table: Any, path: Path, shared: tuple[int, float, float], env: Mapping[str, str]
) -> ch.Email:
    """The e-mail channel from its table, its password from ``env``; ConfigError naming
    the setting when something is wrong."""
    where = f"{path} [channels.email]"
    if not isinstance(table, dict):
        raise ConfigError(f'{where} must be a table, such as smtp_host = "smtp.example.com"')
    _refuse_secrets(table, where, PASSWORD_VARIABLE)
    named = sorted(key for key, value in table.items() if isinstance(value, dict))
    if named:
        raise ConfigError(
            f"{where} is one table (one SMTP server; notify names the people): put smtp_host "
            f"and the rest directly under [channels.email], not in [channels.email.{named[0]}]"
        )
    _reject_unknown(set(table), EMAIL_KEYS, where)
    security = table.get("security", "starttls")
    if security not in ch.SECURITIES:
        raise ConfigError(
            f'{where} security must be one of "starttls", "tls", "none"; not {_shown(security)}'
        )
    max_attempts, retry_delay, timeout = shared
    username = _text(table, "username", where, required=False)
    return ch.Email(
        smtp_host=_text(table, "smtp_host", where, required=True) or "",
        smtp_port=_port(table, where, DEFAULT_PORTS[security]),
        security=security,
        sender=_sender(table, where),
        username=username,
        password=_password(env, username, where),
        link_key=server_key(path.parent, env),
        link_seconds=_seconds(table, "link_expiry", ch.DEFAULT_LINK_SECONDS, where, LINK_EXPIRY),
        events=_events(table, where),
        timeout=_seconds(table, "timeout", timeout, where, TIMEOUT),
        max_attempts=_whole(table, "max_attempts", max_attempts, where),
        retry_delay=_seconds(table, "retry_delay", retry_delay, where, RETRY_DELAY),
    )


def _text(table: Mapping[str, Any], name: str, where: str, required: bool) -> str | None:
    value = table.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or any(c in value for c in "\r\n"):
        raise ConfigError(f"{where} {name} must be a one-line text, not {_shown(value)}")
    return value.strip()


def _port(table: Mapping[str, Any], where: str, default: int) -> int:
    value = table.get("smtp_port", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(f"{where} smtp_port must be a port from 1 to 65535, not {_shown(value)}")
    return value


def _sender(table: Mapping[str, Any], where: str) -> str:
    value = _text(table, "from", where, required=False)
    if value is None or "@" not in parseaddr(value)[1]:
        raise ConfigError(
            f"{where} from must be the address messages come from, such as "
            f'"Placet <placet@example.com>", not {_shown(value)}'
        )
    return value


def _password(env: Mapping[str, str], username: str | None, where: str) -> str | None:
    password = env.get(PASSWORD_VARIABLE, "") or None
    if username is not None and password is None:
        raise ConfigError(
            f"{where}: username is set but there is no password: set {PASSWORD_VARIABLE} "
            "in the environment or .env"
        )
    return password
