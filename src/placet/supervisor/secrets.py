"""Secrets in text: API keys, tokens and private keys.

The detection is detect-secrets' (Yelp): its plugins' patterns and checks, used
directly on the text rather than through its file scanner, which reports values
and line numbers but no positions (and, for a pattern with a capture group,
reports the group: ``ghp`` for a GitHub token). So each plugin's patterns run
here with ``finditer`` for exact spans, a few spans are widened where a pattern
stops short (a PEM block is flagged by its BEGIN line, a JWT without its
signature, a Stripe key after 24 characters), and the plugins' own checks (a
JWT's header and payload must be JSON) still apply. Passwords are in
``passwords``.

Written here by hand: only the key formats detect-secrets 1.5 does not know
(Google, Groq, Anthropic, Hugging Face, GitHub fine-grained tokens), and a PEM
block's extent. The plugins' patterns never cross a line, so each runs once over
the whole text, and only when the text holds the literal its secrets start with
(``AKIA``, ``ghp_``, ``eyJ``...): a pass of a regular expression over 4 KB costs
~70 µs in Python, a substring test a few.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from placet.supervisor.findings import Finding, finding, lower_case


@dataclass(frozen=True)
class _Plugin:
    """A detect-secrets plugin, what its findings are called, and how to read a match."""

    detector: Any
    kind: str
    why: str | Callable[[str], str]
    # Lower-case literals one of which every secret of this plugin contains; none: always run.
    hints: tuple[str, ...] = ()
    widen: Callable[[str, int, int], int] | None = None
    # A pattern with a capture group holds the secret in it (AWS's secret key, a URL's
    # password) for these plugins; for the others the group is only a prefix (``ghp``).
    value_in_group: bool = False
    accept: Callable[[str], bool] | None = None
    # Or a cheap pattern (starting with a literal) that every secret of it matches.
    gate: re.Pattern[str] | None = None

    def reason(self, value: str) -> str:
        """The sentence saying why ``value`` was flagged."""
        return self.why if isinstance(self.why, str) else self.why(value)


def find_secrets(text: str, lowered: str | None = None) -> list[Finding]:
    """Every key, token and private key in ``text``, possibly overlapping.

    ``lowered`` is ``text.lower()`` when the caller has it already.
    """
    from placet.supervisor.passwords import find_passwords

    lowered = lower_case(text) if lowered is None else lowered
    found: list[Finding] = []
    for plugin in _plugins():
        for start, end in _lines_to_read(text, lowered, plugin):
            found.extend(_plugin_findings(text, plugin, start, end))
    if "private key" in lowered or "putty-user-key-file" in lowered:
        found.extend(_private_keys(text))
    found.extend(_hand_written(text))
    found.extend(find_passwords(text, lowered))
    return found


def _lines_to_read(text: str, lowered: str, plugin: _Plugin) -> list[tuple[int, int]]:
    """The lines the plugin's patterns must read: those holding one of its hints.

    The whole text when the plugin has neither hints nor gate (its patterns start with
    a literal and cost little), none when no line has a hint.
    """
    if not plugin.hints and plugin.gate is None:
        return [(0, len(text))]
    hits: list[int] = []
    for hint in plugin.hints:
        at = lowered.find(hint)
        while at != -1:
            hits.append(at)
            at = lowered.find(hint, at + len(hint))
    if plugin.gate is not None:
        hits.extend(match.start() for match in plugin.gate.finditer(text))
    lines: list[tuple[int, int]] = []
    for at in sorted(hits):
        if lines and at < lines[-1][1]:
            continue  # on a line already taken
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        lines.append((start, len(text) if end == -1 else end))
    return lines


def _plugin_findings(text: str, plugin: _Plugin, start: int, end: int) -> Iterator[Finding]:
    """The plugin's patterns run with ``finditer`` on ``text[start:end]``, for exact spans.

    Not through ``analyze_string``: it reports values without positions, and for a
    pattern with a capture group it reports the group, which for GitHub's pattern
    is the token's prefix alone.
    """
    for pattern in plugin.detector.denylist:
        group = 1 if plugin.value_in_group and pattern.groups else 0
        for match in pattern.finditer(text, start, end):
            first, last = match.span(group)
            if first == last:
                continue
            if plugin.widen is not None:
                last = plugin.widen(text, first, last)
            value = text[first:last]
            if plugin.accept is not None and not plugin.accept(value):
                continue
            if standalone(text, first, last):
                yield finding(plugin.kind, first, last, plugin.reason(value))


def standalone(text: str, start: int, end: int) -> bool:
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


# Key formats detect-secrets 1.5 does not know: (literal prefix, rest of the pattern,
# type, why). Each pattern starts with its literal, so Python's regex engine skips to it.
_HAND_WRITTEN = tuple(
    (prefix, re.compile(re.escape(prefix) + rest), kind, why)
    for prefix, rest, kind, why in (
        ("AIza", r"[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])", "api_key", "a Google API key"),
        ("gsk_", r"[A-Za-z0-9]{52}(?![A-Za-z0-9])", "api_key", "a Groq API key"),
        ("sk-ant-", r"(?:api|admin)\d\d-[A-Za-z0-9_-]{80,120}", "api_key", "an Anthropic API key"),
        ("hf_", r"[A-Za-z]{34}(?![A-Za-z0-9])", "token", "a Hugging Face access token"),
        (
            "github_pat_",
            r"[A-Za-z0-9_]{82}(?![A-Za-z0-9_])",
            "token",
            "a GitHub fine-grained personal access token",
        ),
    )
)


def _hand_written(text: str) -> Iterator[Finding]:
    for prefix, pattern, kind, why in _HAND_WRITTEN:
        if prefix not in text:
            continue
        for match in pattern.finditer(text):
            before = text[match.start() - 1] if match.start() else " "
            if not (before.isalnum() or before in "_-"):
                yield finding(kind, match.start(), match.end(), why)


@functools.cache
def _private_key_detector() -> Any:
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    return PrivateKeyDetector()


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

    gitlab = ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-")
    # Left out, for precision on prose: high-entropy strings (hashes, ids), Artifactory
    # (its password pattern matches upper-case words), IBM and Softlayer (keyword-led,
    # covered by ``passwords``), Cloudant, npm (its pattern runs to the line's end).
    return (
        _Plugin(
            aws.AWSKeyDetector(),
            "api_key",
            _aws_why,
            ("akia", "asia", "abia", "acca", "a3t", "aws"),
            value_in_group=True,
        ),
        _Plugin(
            github_token.GitHubTokenDetector(),
            "token",
            "a GitHub token",
            ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        ),
        _Plugin(
            gitlab_token.GitLabTokenDetector(),
            "token",
            "a GitLab token",
            (*gitlab, "glptt-", "glagent-", "gloas-"),
        ),
        _Plugin(
            slack.SlackDetector(), "token", "a Slack token or webhook URL", ("xox", "hooks.slack")
        ),
        _Plugin(
            stripe.StripeDetector(),
            "api_key",
            "a Stripe live secret key",
            ("k_live_",),
            _widen_alnum,
        ),
        _Plugin(
            jwt.JwtTokenDetector(),
            "token",
            "a JSON Web Token",
            ("eyj",),
            _widen_jwt,
            accept=jwt.JwtTokenDetector.is_formally_valid,
        ),
        _Plugin(openai.OpenAIDetector(), "api_key", "an OpenAI API key", ("t3blbkfj",)),
        _Plugin(sendgrid.SendGridDetector(), "api_key", "a SendGrid API key", ("sg.",)),
        _Plugin(twilio.TwilioKeyDetector(), "api_key", "a Twilio account or API key id"),
        _Plugin(
            mailchimp.MailchimpDetector(),
            "api_key",
            "a Mailchimp API key",
            gate=re.compile(r"-us\d"),
        ),
        _Plugin(pypi_token.PypiTokenDetector(), "token", "a PyPI upload token", ("pypi-",)),
        _Plugin(
            discord.DiscordBotTokenDetector(),
            "token",
            "a Discord bot token",
            gate=re.compile(r"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}"),
        ),
        _Plugin(
            telegram_token.TelegramBotTokenDetector(),
            "token",
            "a Telegram bot token",
            gate=re.compile(r":[0-9A-Za-z_-]{35}"),
        ),
        _Plugin(
            square_oauth.SquareOAuthDetector(), "api_key", "a Square OAuth secret", ("sq0csp-",)
        ),
        _Plugin(
            azure_storage_key.AzureStorageKeyDetector(),
            "api_key",
            "an Azure storage key",
            ("accountkey=",),
        ),
        _Plugin(
            basic_auth.BasicAuthDetector(),
            "password",
            "a password written into a URL",
            ("://",),
            value_in_group=True,
        ),
    )
