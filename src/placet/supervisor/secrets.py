"""Secrets in text: API keys, tokens, private keys, passwords assigned in code.

The detection is detect-secrets' (Yelp): its plugins' patterns and checks, used
directly on the text rather than through its file scanner, which reports values
and line numbers but no positions (and, for a pattern with a capture group,
reports the group: ``ghp`` for a GitHub token). So each plugin's patterns run
here with ``finditer`` for exact spans, a few spans are widened where a pattern
stops short (a PEM block is flagged by its BEGIN line, a JWT without its
signature, a Stripe key after 24 characters), and the plugins' own checks (a
JWT's header and payload must be JSON) still apply.

Written here by hand: only the key formats detect-secrets 1.5 does not know
(Google, Groq, Anthropic, Hugging Face, GitHub fine-grained tokens), and a PEM
block's extent. The patterns never cross a line, so each runs once over the whole
text (a C-level scan; no per-line Python loop); the keyword plugin, whose patterns
may, runs only on the lines that name a password or a key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from placet.supervisor.findings import Finding, finding


@dataclass(frozen=True)
class _Plugin:
    """A detect-secrets plugin, what its findings are called, and how to read a match."""

    detector: Any
    kind: str
    why: str | Callable[[str], str]
    widen: Callable[[str, int, int], int] | None = None
    # A pattern with a capture group holds the secret in it (AWS's secret key, a URL's
    # password) for these plugins; for the others the group is only a prefix (``ghp``).
    value_in_group: bool = False
    accept: Callable[[str], bool] | None = None

    def reason(self, value: str) -> str:
        """The sentence saying why ``value`` was flagged."""
        return self.why if isinstance(self.why, str) else self.why(value)


def find_secrets(text: str) -> list[Finding]:
    """Every secret in ``text``, possibly overlapping (``findings.settle`` sorts them out)."""
    found: list[Finding] = []
    for plugin in _plugins():
        found.extend(_plugin_findings(text, plugin))
    found.extend(_private_keys(text))
    found.extend(_hand_written(text))
    found.extend(_assignments(text))
    return found


def _plugin_findings(text: str, plugin: _Plugin) -> Iterator[Finding]:
    """The plugin's patterns run with ``finditer``, for exact spans.

    Not through ``analyze_string``: it reports values without positions, and for a
    pattern with a capture group it reports the group, which for GitHub's pattern
    is the token's prefix alone.
    """
    for pattern in plugin.detector.denylist:
        group = 1 if plugin.value_in_group and pattern.groups else 0
        for match in pattern.finditer(text):
            start, end = match.span(group)
            if start == end:
                continue
            if plugin.widen is not None:
                end = plugin.widen(text, start, end)
            value = text[start:end]
            if plugin.accept is not None and not plugin.accept(value):
                continue
            if _standalone(text, start, end):
                yield finding(plugin.kind, start, end, plugin.reason(value))


def _standalone(text: str, start: int, end: int) -> bool:
    """The value is not the middle of a longer word (``xAKIA...`` is no key id)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() and text[start].isalnum()) and not (
        after.isalnum() and text[end - 1].isalnum()
    )


_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PUTTY_END = re.compile(r"^Private-MAC: *[0-9a-fA-F]+ *$", re.MULTILINE)
_JWT_SIGNATURE = re.compile(r"\.?[A-Za-z0-9_-]*")
_ALNUM = re.compile(r"[A-Za-z0-9]*")


def _widen_private_key(text: str, start: int, end: int) -> int:
    """From the BEGIN line to the END line of its block (or the BEGIN line alone)."""
    if text.startswith("PuTTY", start):
        closing = _PUTTY_END.search(text, end)
    else:
        closing = _PEM_END.search(text, end)
    if closing is not None:
        return closing.end()
    line_end = text.find("\n", end)
    return len(text) if line_end == -1 else line_end


def _private_keys(text: str) -> Iterator[Finding]:
    """Each private key block, from its BEGIN line's dashes to its END line."""
    for header in set(_private_key_detector().analyze_string(text)):
        start = text.find(header)
        while start != -1:
            opening = text.rfind("-----", max(0, start - 5), start)
            first = opening if opening != -1 else start
            end = _widen_private_key(text, start, start + len(header))
            yield finding("private_key", first, end, _PRIVATE_KEY_WHY[header])
            start = text.find(header, end)


_PRIVATE_KEY_WHY = {
    "BEGIN DSA PRIVATE KEY": "a DSA private key (PEM block)",
    "BEGIN EC PRIVATE KEY": "an elliptic-curve private key (PEM block)",
    "BEGIN OPENSSH PRIVATE KEY": "an OpenSSH private key",
    "BEGIN PGP PRIVATE KEY BLOCK": "a PGP private key block",
    "BEGIN PRIVATE KEY": "a private key (PKCS #8 PEM block)",
    "BEGIN RSA PRIVATE KEY": "an RSA private key (PEM block)",
    "BEGIN SSH2 ENCRYPTED PRIVATE KEY": "an encrypted SSH2 private key",
    "PuTTY-User-Key-File-2": "a PuTTY private key file",
}


def _aws_why(value: str) -> str:
    if value[:4] in {"AKIA", "ASIA", "ABIA", "ACCA"} or value.startswith("A3T"):
        kind = "a temporary" if value.startswith("ASIA") else "an"
        return f"{kind} AWS access key id"
    return "an AWS secret access key (40 characters quoted after an AWS key name)"


# Key formats detect-secrets 1.5 does not know, each with its documented prefix and length.
_HAND_WRITTEN = (
    (
        re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
        "api_key",
        "a Google API key",
    ),
    (
        re.compile(r"(?<![A-Za-z0-9_-])gsk_[A-Za-z0-9]{52}(?![A-Za-z0-9])"),
        "api_key",
        "a Groq API key",
    ),
    (
        re.compile(r"(?<![A-Za-z0-9_-])sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,120}"),
        "api_key",
        "an Anthropic API key",
    ),
    (
        re.compile(r"(?<![A-Za-z0-9_-])hf_[A-Za-z]{34}(?![A-Za-z0-9])"),
        "token",
        "a Hugging Face access token",
    ),
    (
        re.compile(r"(?<![A-Za-z0-9_-])github_pat_[A-Za-z0-9_]{82}(?![A-Za-z0-9_])"),
        "token",
        "a GitHub fine-grained personal access token",
    ),
)


def _hand_written(text: str) -> Iterator[Finding]:
    for pattern, kind, why in _HAND_WRITTEN:
        for match in pattern.finditer(text):
            yield finding(kind, match.start(), match.end(), why)


# The lines worth giving to detect-secrets' keyword plugin: they name a password or key.
_SECRET_NAME = re.compile(
    r"api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key|"
    r"private_?key|client_?key|db_?pass|database_?pass|key_?pass|password|passwd|pwd|"
    r"secret|contrase",
    re.IGNORECASE,
)
_PASSWORD_NAME = re.compile(r"pass|pwd|contrase", re.IGNORECASE)


def _assignments(text: str) -> Iterator[Finding]:
    """Quoted values given to a password- or key-named field (``password = "..."``)."""
    from detect_secrets.filters import heuristic

    keyword = _keyword_detector()
    seen_lines: set[int] = set()
    for name in _SECRET_NAME.finditer(text):
        line_start = text.rfind("\n", 0, name.start()) + 1
        if line_start in seen_lines:
            continue
        seen_lines.add(line_start)
        line_end = text.find("\n", name.end())
        line = text[line_start : len(text) if line_end == -1 else line_end]
        for value in set(keyword.analyze_string(line)):
            if _placeholder(value) or heuristic.is_templated_secret(value):
                continue
            kind = "password" if _PASSWORD_NAME.search(line) else "api_key"
            why = f"a {'password' if kind == 'password' else 'secret'} assigned to a named field"
            start = line.find(value)
            while start != -1:
                yield finding(kind, line_start + start, line_start + start + len(value), why)
                start = line.find(value, start + len(value))


def _placeholder(value: str) -> bool:
    """``YOUR_API_KEY``, ``xxxx``, ``changeme``, ``12345678``: examples, not secrets."""
    from detect_secrets.filters import heuristic

    lowered = value.lower()
    return (
        len(value) < 6
        or heuristic.is_sequential_string(value)
        or len(set(lowered)) <= 2
        or any(word in lowered for word in ("your", "example", "placeholder", "changeme"))
        or (value.isupper() and "_" in value)
    )


@functools.cache
def _keyword_detector() -> Any:
    from detect_secrets.plugins.keyword import KeywordDetector

    return KeywordDetector()


@functools.cache
def _private_key_detector() -> Any:
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    return PrivateKeyDetector()


def _widen_jwt(text: str, start: int, end: int) -> int:
    """detect-secrets' JWT pattern ends lazily, before the signature: take it too."""
    while end > start and text[end - 1] == ".":
        end -= 1
    match = _JWT_SIGNATURE.match(text, end)
    return match.end() if match is not None and match.end() - end > 1 else end


def _widen_alnum(text: str, start: int, end: int) -> int:
    """Keys that run on past the plugin's fixed length (Stripe's are 24 to 99 characters)."""
    match = _ALNUM.match(text, end)
    return match.end() if match is not None else end


@functools.cache
def _plugins() -> tuple[_Plugin, ...]:
    """The detect-secrets plugins used, made once (importing them takes a fifth of a second)."""
    from detect_secrets.plugins import (
        aws,
        azure_storage_key,
        basic_auth,
        discord,
        github_token,
        gitlab_token,
        jwt,
        mailchimp,
        openai,
        pypi_token,
        sendgrid,
        slack,
        square_oauth,
        stripe,
        telegram_token,
        twilio,
    )

    # Left out, for precision on prose: high-entropy strings (hashes, ids), Artifactory
    # (its password pattern matches upper-case words), IBM and Softlayer (keyword-led,
    # covered by the assignments below), Cloudant, npm (its pattern runs to the line's end).
    return (
        _Plugin(aws.AWSKeyDetector(), "api_key", _aws_why, value_in_group=True),
        _Plugin(github_token.GitHubTokenDetector(), "token", "a GitHub token"),
        _Plugin(gitlab_token.GitLabTokenDetector(), "token", "a GitLab token"),
        _Plugin(slack.SlackDetector(), "token", "a Slack token or webhook URL"),
        _Plugin(stripe.StripeDetector(), "api_key", "a Stripe live secret key", _widen_alnum),
        _Plugin(
            jwt.JwtTokenDetector(),
            "token",
            "a JSON Web Token",
            _widen_jwt,
            accept=jwt.JwtTokenDetector.is_formally_valid,
        ),
        _Plugin(openai.OpenAIDetector(), "api_key", "an OpenAI API key"),
        _Plugin(sendgrid.SendGridDetector(), "api_key", "a SendGrid API key"),
        _Plugin(twilio.TwilioKeyDetector(), "api_key", "a Twilio account or API key id"),
        _Plugin(mailchimp.MailchimpDetector(), "api_key", "a Mailchimp API key"),
        _Plugin(pypi_token.PypiTokenDetector(), "token", "a PyPI upload token"),
        _Plugin(discord.DiscordBotTokenDetector(), "token", "a Discord bot token"),
        _Plugin(telegram_token.TelegramBotTokenDetector(), "token", "a Telegram bot token"),
        _Plugin(square_oauth.SquareOAuthDetector(), "api_key", "a Square OAuth secret"),
        _Plugin(azure_storage_key.AzureStorageKeyDetector(), "api_key", "an Azure storage key"),
        _Plugin(
            basic_auth.BasicAuthDetector(),
            "password",
            "a password written into a URL",
            value_in_group=True,
        ),
    )
