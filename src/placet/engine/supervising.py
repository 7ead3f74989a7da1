"""The supervisor's first reading of each draft, run before the draft is saved.

The deterministic scanners (``placet.supervisor``) read the draft and, reported
apart, each field of the task's input; ``domain.supervision`` turns what they
found into flags and a risk score, which the draft's event records. A
scanner that fails never blocks or hides a draft: the reading says so and the
draft goes to people as usual.
"""

from __future__ import annotations

from typing import Any

from placet.domain import jsontext
from placet.domain.models import JsonObject
from placet.domain.supervision import (
    IN_DRAFT,
    IN_INPUT,
    SCANS,
    Flag,
    Reading,
    Supervision,
    reading,
)
from placet.supervisor import Finding, redact, scan


def read_draft(supervision: Supervision, text: str, values: JsonObject) -> Reading:
    """Scan the draft, and each input field apart, for what the kind asks."""
    flags = [_flag(found, IN_DRAFT) for found in scan(text, supervision.scan)]
    for name, value in values.items():
        shown = value if isinstance(value, str) else jsontext.compact(value)
        flags += [_flag(found, IN_INPUT, name) for found in scan(shown, supervision.scan)]
    return reading(flags)


def masked(text: str, kinds: tuple[str, ...] = SCANS) -> str:
    """The text with every span the scanners find (of these kinds) masked (``[api_key]``)."""
    found = scan(text, kinds)
    return redact(text, found) if found else text


def redacted(value: Any) -> Any:
    """A JSON value with every span the scanners find in its texts masked (``[card]``)."""
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, list):
        return [redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    return value


def _flag(found: Finding, where: str, field: str | None = None) -> Flag:
    return Flag(found.type, found.category, where, found.start, found.end, found.why, field)
