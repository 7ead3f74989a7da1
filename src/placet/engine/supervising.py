"""The supervisor's first reading of each draft, run before the draft is saved.

The deterministic scanners (``placet.supervisor``) read the draft and, reported
apart, each field of the task's input; the kind's checks are put to the
supervisor's model (``placet.supervisor.checks``); ``domain.supervision`` turns
what they found into flags and a risk score, which the draft's event records. A
scanner or a model that fails never blocks or hides a draft: the reading says so
and the draft goes to people as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from placet.domain import jsontext
from placet.domain.models import JsonObject
from placet.domain.supervision import (
    IN_DRAFT,
    IN_INPUT,
    SCANS,
    Flag,
    ModelReading,
    Reading,
    Supervision,
    reading,
    unavailable,
)
from placet.errors import PlacetError
from placet.providers.base import Provider
from placet.supervisor import Finding, redact, scan
from placet.supervisor.checks import check_draft

DEFAULT_MODEL = "local:smollm2"  # the supervisor's model when the kind names none


def supervise(
    supervision: Supervision,
    text: str,
    values: JsonObject,
    provider_of: Callable[[str], Provider],
    seed: int,
) -> Reading:
    """The whole reading of a draft: the scanners', then the model's checks (if the kind
    has checks). Whatever fails is recorded as unavailable; nothing here raises."""
    try:
        found = read_draft(supervision, text, values)
    except Exception as exc:  # a broken scanner never blocks a draft
        return unavailable(f"the scanners failed: {type(exc).__name__}: {exc}")
    if not supervision.checks:
        return found
    return found.with_model(model_reading(supervision, text, provider_of, seed))


def model_reading(
    supervision: Supervision, text: str, provider_of: Callable[[str], Provider], seed: int
) -> ModelReading:
    """The supervisor's model's answers to the kind's checks (unavailable, with why, when
    the model cannot be used or its answers do not fit the schema)."""
    model = supervision.model or DEFAULT_MODEL
    try:
        return check_draft(provider_of(model), supervision.checks, text, seed)
    except PlacetError as exc:
        return ModelReading(model, unavailable=f"the model cannot be used: {exc.message}")
    except Exception as exc:  # a broken supervisor never blocks a draft
        return ModelReading(model, unavailable=f"the model failed: {type(exc).__name__}: {exc}")


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
