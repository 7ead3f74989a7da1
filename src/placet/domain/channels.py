"""Who hears what: the channels configured once, and each kind's ``notify`` list. Pure.

``placet.toml`` names each channel once (``[channels.webhook.ops] url = ...``)
and says, globally (``[placet] notify``) or per kind (``[kinds.NAME] notify``,
which then replaces the global list), which of them hear about the kind's
tasks, as addresses such as ``"webhook:ops"``. A channel's signing secret is
never in ``placet.toml``: it comes from the environment or ``.env``, under a
name made from the channel's (``PLACET_WEBHOOK_OPS_SECRET``).

Three channel types: webhooks (``Webhook``, one per ``[channels.webhook.NAME]``),
e-mail (``Email``: one SMTP server, ``[channels.email]``, whose people are named in
``notify`` as ``"email:ana"`` or ``"email:group:legal"``) and Slack (``Slack``: one
workspace, ``[channels.slack]``, whose Slack channels are named in ``notify`` as
``"slack:#reviews"`` or by id, ``"slack:C0123ABCD"``). What the outbox needs of any of
them is ``Configured``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

WEBHOOK = "webhook"
EMAIL = "email"  # one SMTP server; notify names its people: email:NAME, email:group:NAME
SLACK = "slack"
CHANNEL_TYPES = (WEBHOOK, EMAIL, SLACK)
# What a channel may hear of; "decided" is approved, rejected or expired.
AWAITING_REVIEW, REMINDER, ESCALATED, DECIDED, FAILED = (
    "awaiting_review",
    "reminder",
    "escalated",
    "decided",
    "failed",
)
EVENTS = (AWAITING_REVIEW, REMINDER, ESCALATED, DECIDED, FAILED)
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
SECRET_PREFIX = "whsec_"
# The Standard Webhooks specification: a secret of 24 to 64 random bytes, base64 after whsec_.
SECRET_BYTES = (24, 64)
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_RETRY_DELAY = 5.0  # before the second try; then doubling, with jitter, up to an hour
DEFAULT_ALERT_AFTER = 600.0


def address(channel_type: str, name: str) -> str:
    """``webhook:ops``: how ``notify`` lists name a channel."""
    return f"{channel_type}:{name}"


def split_address(text: str) -> tuple[str, str]:
    """``("webhook", "ops")`` from ``"webhook:ops"``; ValueError when it is no address."""
    channel_type, colon, name = text.partition(":")
    if not colon or not channel_type or not name:
        raise ValueError(f'a channel is named TYPE:NAME, such as "webhook:ops", not {text!r}')
    return channel_type, name


def secret_variable(channel_type: str, name: str) -> str:
    """The environment variable holding a channel's secret: ``PLACET_WEBHOOK_OPS_SECRET``."""
    return f"PLACET_{channel_type}_{name}_SECRET".upper().replace("-", "_")


def secret_problem(secret: str) -> str | None:
    """What is wrong with a Standard Webhooks secret (``whsec_`` then base64), or None."""
    if not secret.startswith(SECRET_PREFIX):
        return f"must start with {SECRET_PREFIX} (the Standard Webhooks form: whsec_ and base64)"
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return "is not base64 after whsec_"
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        return f"must hold {low} to {high} random bytes, not {len(key)}"
    return None


def url_problem(url: str) -> str | None:
    """What is wrong with a webhook's URL, or None: http(s), a host, no credentials in it."""
    try:
        parts = urlsplit(url)
        port = parts.port  # a bad port raises here
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// address with a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password (a secret never goes in placet.toml)"
    if parts.fragment:
        return "must not have a #fragment"
    del port
    return None


def host_of(url: str) -> str:
    """The host (and port, if any) a URL names: what is shown of a webhook's recipient."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url


@dataclass(frozen=True)
class Webhook:
    """One outbound webhook: where it posts, what it hears, how hard it tries."""

    name: str
    url: str
    secret: str = field(repr=False)  # whsec_...; from the environment, never placet.toml
    events: tuple[str, ...] = EVENTS
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_delay: float = DEFAULT_RETRY_DELAY
    # The account a review request's callback URL decides as (``decide_as``): a tool
    # that can only call a URL answers through it. None: the messages carry no such URL.
    decide_as: str | None = None
    link_key: str = field(default="", repr=False)  # the server's key, which signs that URL

    @property
    def address(self) -> str:
        """``webhook:NAME``."""
        return address(WEBHOOK, self.name)

    @property
    def recipient(self) -> str:
        """Who hears it, as shown: the URL's host."""
        return host_of(self.url)

    def hears(self, event: str) -> bool:
        """True when this channel is configured to hear of ``event``."""
        return event in self.events


SECURITIES = ("starttls", "tls", "none")
DEFAULT_LINK_SECONDS = 7 * 86400.0


@dataclass(frozen=True)
class Email:
    """The e-mail channel: one SMTP server, and how long its signed links last.

    Its address is ``email``; a ``notify`` list names whom it writes to,
    ``email:NAME`` (an account) or ``email:group:NAME`` (each person of a group),
    at the address each account has (``placet users email NAME ADDRESS``).
    """

    smtp_host: str
    smtp_port: int
    security: str  # starttls, tls (implicit, port 465) or none
    sender: str  # the From address
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # from the environment
    link_key: str = field(default="", repr=False)  # the server's key, which signs links
    link_seconds: float = DEFAULT_LINK_SECONDS
    events: tuple[str, ...] = EVENTS
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_delay: float = DEFAULT_RETRY_DELAY
    name: str = EMAIL

    @property
    def address(self) -> str:
        """``email``: the one e-mail channel, as notifications record it."""
        return EMAIL

    @property
    def recipient(self) -> str:
        """The SMTP server, as shown."""
        return f"{self.smtp_host}:{self.smtp_port}"

    @property
    def url(self) -> str:
        """The SMTP server as a URL (``smtp://host:port``, ``smtps://`` for implicit TLS)."""
        scheme = "smtps" if self.security == "tls" else "smtp"
        return f"{scheme}://{self.smtp_host}:{self.smtp_port}"

    def hears(self, event: str) -> bool:
        """True when this channel is configured to hear of ``event``."""
        return event in self.events


def email_people(item: str) -> tuple[str | None, str | None]:
    """``("ana", None)`` for ``email:ana``, ``(None, "legal")`` for ``email:group:legal``."""
    _, name = split_address(item)
    if name.startswith("group:"):
        return None, name[len("group:") :]
    return name, None


class Configured(Protocol):
    """What the outbox and the notifier need of any configured channel."""

    @property
    def address(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def events(self) -> tuple[str, ...]: ...
    @property
    def timeout(self) -> float: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def retry_delay(self) -> float: ...
    def hears(self, event: str) -> bool: ...


# A Slack channel as notify names it: #name (lower case, as Slack allows) or its id.
SLACK_CHANNEL = re.compile(r"#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,20}")
SLACK_API = "https://slack.com/api/"


@dataclass(frozen=True)
class Slack:
    """One Slack workspace (``[channels.slack]``): its API, its bot, who its people are."""

    bot_token: str = field(repr=False)  # xoxb-...; from the environment, never placet.toml
    signing_secret: str = field(repr=False)  # checks that interactions came from Slack
    base_url: str = SLACK_API  # a setting, so tests (and proxies) can point it elsewhere
    users: Mapping[str, str] = field(default_factory=dict)  # Slack user id -> account name
    events: tuple[str, ...] = EVENTS
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_delay: float = DEFAULT_RETRY_DELAY
    channels: tuple[str, ...] = ()  # the Slack channels notify lists name, for listing

    def target(self, channel: str) -> SlackTarget | None:
        """The Slack channel ``#reviews`` (or ``C0123ABCD``) of this workspace, if well named."""
        return SlackTarget(self, channel) if SLACK_CHANNEL.fullmatch(channel) else None


@dataclass(frozen=True)
class SlackTarget:
    """One Slack channel Placet posts to: ``slack:#reviews``."""

    workspace: Slack
    channel: str  # #reviews or C0123ABCD

    @property
    def address(self) -> str:
        """``slack:#reviews``."""
        return address(SLACK, self.channel)

    @property
    def recipient(self) -> str:
        """Who hears it, as shown: the Slack channel."""
        return self.channel

    @property
    def url(self) -> str:
        """The Web API it is posted through."""
        return self.workspace.base_url

    @property
    def events(self) -> tuple[str, ...]:
        """What it hears of."""
        return self.workspace.events

    @property
    def timeout(self) -> float:
        """How long Slack may take to answer."""
        return self.workspace.timeout

    @property
    def max_attempts(self) -> int:
        """Tries before a message gives up."""
        return self.workspace.max_attempts

    @property
    def retry_delay(self) -> float:
        """Before the second try."""
        return self.workspace.retry_delay

    def hears(self, event: str) -> bool:
        """True when the workspace is configured to hear of ``event``."""
        return event in self.workspace.events


@dataclass(frozen=True)
class ChannelSettings:
    """Every configured channel, and when a failing one raises the alarm."""

    webhooks: Mapping[str, Webhook] = field(default_factory=dict)
    alert_after: float = DEFAULT_ALERT_AFTER  # seconds a channel may fail before the alarm
    email: Email | None = None
    slack: Slack | None = None

    def get(self, channel: str) -> Configured | None:
        """The channel at an address (``webhook:ops``, ``email``, ``email:ana``,
        ``slack:#reviews``), if configured."""
        channel_type, _, name = channel.partition(":")
        if channel_type == EMAIL:
            return self.email
        if channel_type == SLACK:
            return self.slack.target(name) if self.slack is not None else None
        return self.webhooks.get(name) if channel_type == WEBHOOK else None

    @property
    def configured(self) -> bool:
        """True when any channel is configured."""
        return bool(self.webhooks) or self.email is not None or self.slack is not None

    def every(self) -> list[Configured]:
        """Every configured channel notify lists can name, by address."""
        found: list[Configured] = list(self.webhooks.values())
        if self.email is not None:
            found.append(self.email)
        if self.slack is not None:
            found += [SlackTarget(self.slack, name) for name in self.slack.channels]
        return sorted(found, key=lambda channel: channel.address)

    @property
    def link_key(self) -> str | None:
        """The key the channels sign links with (e-mail's links, webhooks' callback URLs),
        when a channel makes any."""
        if self.email is not None:
            return self.email.link_key
        signing = (hook.link_key for hook in self.webhooks.values() if hook.decide_as)
        return next(signing, None)

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every configured channel's address, sorted."""
        return tuple(channel.address for channel in self.every())

    def find(self, typed: str) -> Configured | None:
        """The channel a person named: ``webhook:ops``, ``email``, or just ``ops``
        (``#reviews``) when that is unique."""
        if ":" in typed or typed == EMAIL:
            return self.get(typed)
        if typed.startswith("#"):
            return self.get(address(SLACK, typed))
        return self.webhooks.get(typed)
