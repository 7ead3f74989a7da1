"""Reading ``[channels.slack]`` from ``placet.toml``, and its secrets from the environment.

One Slack workspace: ``base_url`` (its Web API, ``https://slack.com/api/`` unless a
test or a proxy says otherwise), ``users`` (Slack user ids to Placet account names:
who a button's click decides as), and the shared ``events``, ``max_attempts``,
``retry_delay`` and ``timeout``. The bot token (``PLACET_SLACK_BOT_TOKEN``) and the
signing secret (``PLACET_SLACK_SIGNING_SECRET``) come from the environment or
``.env``; either written in ``placet.toml`` is refused. Which Slack channels hear of
what is said in ``notify`` lists (``"slack:#reviews"``); those named are listed here
so ``placet channels list`` can show them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from placet import channel_config as cc
from placet.domain import channels as ch
from placet.errors import ConfigError

SLACK_KEYS = {"base_url", "users", "events", "max_attempts", "retry_delay", "timeout"}
TOKEN_VARIABLE = "PLACET_SLACK_BOT_TOKEN"
SIGNING_VARIABLE = "PLACET_SLACK_SIGNING_SECRET"
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
EXAMPLE = 'users = { U0123ABCD = "ana" }'


def read_slack_table(
    document: Mapping[str, Any], path: Path, shared: Any, env: Mapping[str, str]
) -> ch.Slack:
    """The workspace ``[channels.slack]`` describes; ConfigError naming what is wrong."""
    where = f"{path} [channels.slack]"
    table = document["channels"][ch.SLACK]
    cc._refuse_secrets(table, where, f"{TOKEN_VARIABLE} or {SIGNING_VARIABLE}")
    cc._reject_unknown(set(table), SLACK_KEYS, where)
    return ch.Slack(
        bot_token=_required(env, TOKEN_VARIABLE, where, "the bot's token, xoxb-..."),
        signing_secret=_required(
            env, SIGNING_VARIABLE, where, "the app's signing secret (Basic Information)"
        ),
        base_url=_base_url(table, where),
        users=_users(table, where),
        events=cc._events(table, where),
        timeout=cc._seconds(table, "timeout", shared.timeout, where, cc.TIMEOUT),
        max_attempts=cc._whole(table, "max_attempts", shared.max_attempts, where),
        retry_delay=cc._seconds(table, "retry_delay", shared.retry_delay, where, cc.RETRY_DELAY),
        channels=named_slack_channels(document),
    )


def _required(env: Mapping[str, str], variable: str, where: str, what: str) -> str:
    value = env.get(variable, "").strip()
    if not value:
        raise ConfigError(f"{where}: set {variable} in the environment or .env to {what}")
    return value


def _base_url(table: Mapping[str, Any], where: str) -> str:
    value = table.get("base_url", ch.SLACK_API)
    problem = ch.url_problem(value) if isinstance(value, str) else "must be a string"
    if problem is not None:
        raise ConfigError(f"{where} base_url {problem}, such as {ch.SLACK_API!r}")
    url = str(value)
    return url if url.endswith("/") else url + "/"  # slack_sdk joins method names


def _users(table: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = table.get("users", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} users must be a table, such as {EXAMPLE}")
    for slack_id, name in raw.items():
        if not SLACK_USER.fullmatch(slack_id) or not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"{where} users: each is a Slack user id (U or W and capitals and digits) "
                f"and an account name, such as {EXAMPLE}; not {slack_id!r}"
            )
    return {slack_id: name.strip() for slack_id, name in raw.items()}


def named_slack_channels(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The Slack channels the ``notify`` lists of ``[placet]`` and each kind name."""
    lists = [_table(document, "placet").get("notify")]
    lists += [_table(kind).get("notify") for kind in _table(document, "kinds").values()]
    found = []
    for items in lists:
        for item in items if isinstance(items, list) else ():
            if isinstance(item, str) and item.startswith(f"{ch.SLACK}:"):
                found.append(item.partition(":")[2])
    return tuple(sorted(set(found)))


def _table(value: Any, key: str | None = None) -> dict[str, Any]:
    found = value.get(key) if key is not None and isinstance(value, dict) else value
    return found if isinstance(found, dict) else {}
