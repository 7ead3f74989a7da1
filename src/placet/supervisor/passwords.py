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
                if stem in _PASSWORD_STEMS:
                    yield from _labelled(text, start)
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


_LABELLED_PASSWORD = re.compile(
    r"(?i)(?<![\w-])(?:password|passwort|kennwort|mot de passe|contraseña|contrasena|"
    r"passwd|pwd)(?:\s+[^\W\d]{3,15})?"  # one word between: mot de passe provisoire est
    r"\s*(?:\|\s*|[:=]\s*|\s+(?:is|lautet|ist|est|es)\s*:?\s*)"
    r"[\"'„“«]?\s*([^\s\"'|”“»]{8,64})"
)


def _labelled(text: str, start: int) -> Iterator[Finding]:
    """A password named in prose or a table: "Passwort: ...", "| password | ... |"."""
    match = _LABELLED_PASSWORD.match(text, start)
    if match is None and start >= 7 and text[start - 7 : start].lower() == "mot de ":
        match = _LABELLED_PASSWORD.match(text, start - 7)
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
    yield finding("password", at, at + len(value), "a password given after its name")


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
