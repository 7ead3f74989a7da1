"""Passwords and secrets given to a named field, in code, configuration or prose.

Code and configuration (``password = "..."``, ``"api_key": "..."``) are
detect-secrets' keyword plugin, which wants the value quoted. Prose and tables
(``Passwort: Sommer2024!x``, ``| password | ... |``, ``your password is ...``, in
English, German, French and Spanish) are matched here by hand, as detect-secrets
knows only code: a value of at least eight characters mixing letters and digits.

The keyword plugin's patterns cost a tenth of a millisecond per line, so it only
sees the few places where a secret-sounding name is followed by an assignment and a
quote, each cut to the name and the 120 characters after it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from placet.supervisor.findings import Finding, finding

# Every name detect-secrets' keyword plugin knows contains one of these (api_key,
# db_pass, password, passwd, pwd, secret, contraseña); "kennwort" is for prose.
_STEMS = ("key", "pass", "pwd", "secret", "contrase", "kennwort")
_PASSWORD_STEMS = ("pass", "pwd", "contrase", "kennwort")
# The names themselves, as the keyword plugin lists them ("keyboard" holds "key" but
# names no secret), and the prose names of a password in the corpus's languages.
_SECRET_NAME = re.compile(
    r"(?i)api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key|"
    r"private_?key|client_?key|[_-]pass(?:$|[_-])|pass(?:word|wort|wd)|^passe$|pwd|secret|"
    r"contrase[ñn]a|kennwort"  # "SMTP_PASS" is a password's name, a boarding "pass" is not
)
_WORD = re.compile(r"[\w-]*")
# After the name: closing quotes or brackets, an assignment, then an opening quote
# (a JSON-escaped one too). Nothing else can hold a quoted value for the plugin.
_ASSIGNED = re.compile(r"[\]'\"\\]{0,3}\s*(?:[:=!]=?=?|=>|\.assign\(|\()>?\s*@?\\?[\"'`]")
_WINDOW = 120  # characters after a name where its value may stand


def find_passwords(text: str, lowered: str) -> Iterator[Finding]:
    """Every password or secret given to a named field in ``text`` (``lowered`` its lower case)."""
    seen: set[int] = set()
    for stem in _STEMS:
        at = lowered.find(stem)
        while at != -1:
            start = _word_start(lowered, at)
            if start not in seen:
                seen.add(start)
                yield from _assigned(text, start)
                yield from _labelled(text, lowered, start)
            at = lowered.find(stem, at + len(stem))


def _word_start(lowered: str, at: int) -> int:
    while at > 0 and (lowered[at - 1].isalnum() or lowered[at - 1] in "_-"):
        at -= 1
    return at


def _assigned(text: str, start: int) -> Iterator[Finding]:
    """A quoted value assigned to the name at ``start``, read by detect-secrets."""
    from detect_secrets.filters import heuristic

    word = _WORD.match(text, start)
    name_end = word.end() if word is not None else start
    if _ASSIGNED.match(text, name_end) is None:
        return
    line_end = text.find("\n", name_end)
    end = min(len(text) if line_end == -1 else line_end, name_end + _WINDOW)
    # A quote escaped inside a JSON string is a quote: \" becomes ' "' (same length).
    window = text[start:end].replace('\\"', ' "')
    name = text[start:name_end].lower()
    password = any(stem in name for stem in _PASSWORD_STEMS)
    why = f"a {'password' if password else 'secret'} assigned to a named field"
    for value in {found.strip() for found in _keyword_detector().analyze_string(window)}:
        if not value or _placeholder(value) or heuristic.is_templated_secret(value):
            continue
        at = window.find(value)
        if at != -1:
            kind = "password" if password else "api_key"
            yield finding(kind, start + at, start + at + len(value), why)


# An unquoted value after the name, as configuration writes it (DB_PASSWORD=...,
# "password: ...", a table's "| password | ... |"), or prose ("your password is ...",
# "Ihr Passwort lautet: ...", "mot de passe provisoire est ...", one word between).
# detect-secrets reads unquoted values only when told a file is configuration; here a
# value must be one word of 8 to 64 characters mixing letters and digits.
_CONFIGURED = re.compile(r"[\]'\"]{0,2}\s*(?:\||[:=])\s*[\"'„“«]?\s*([^\s\"'|”“»,;]{8,64})")
_SAID = re.compile(
    r"(?i)(?:\s+[^\W\d]{3,15})?\s+(?:is|lautet|ist|est|es)\s*:?\s*[\"'„“«]?\s*([^\s\"'|”“»]{8,64})"
)


def _labelled(text: str, lowered: str, start: int) -> Iterator[Finding]:
    """A secret named in configuration, a table or prose, with its value unquoted."""
    word = _WORD.match(text, start)
    name_end = word.end() if word is not None else start
    name = lowered[start:name_end]
    if not _SECRET_NAME.search(name):
        return
    password = any(stem in name for stem in _PASSWORD_STEMS)
    match = _CONFIGURED.match(text, name_end)
    if match is None and password:
        match = _SAID.match(text, name_end)
    if match is None:
        return
    value = match.group(1).rstrip(".,;:)")
    if (
        len(value) < 8
        or not any(char.isdigit() for char in value)
        or not any(char.isalpha() for char in value)
        or _placeholder(value)
    ):
        return
    at = match.start(1)
    if password:
        yield finding("password", at, at + len(value), "a password given after its name")
    else:
        yield finding("api_key", at, at + len(value), "a secret given after its name")


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
