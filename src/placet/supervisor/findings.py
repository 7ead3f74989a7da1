"""What a scanner found: a typed span of the text, and why it was flagged. Pure.

A finding never carries the flagged value itself, only where it is: the span
``text[start:end]``. So a finding can be logged, stored and sent as JSON
(``as_dict``) without repeating the secret it points at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from placet.domain.supervision import FINDING_TYPES, LINKS, SCANS

# The categories and the finding types (in the order a conflict is settled: when two
# findings overlap, the type listed first wins) are the domain's, which stores and
# routes by them: domain/supervision.py.
CATEGORIES = SCANS
TYPES = FINDING_TYPES
_RANK = {name: rank for rank, name in enumerate(TYPES)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One flagged span: its type, its category, where it is, and a sentence saying why."""

    type: str
    category: str
    start: int
    end: int
    why: str

    def value(self, text: str) -> str:
        """The flagged characters in ``text`` (the text this finding was made from)."""
        return text[self.start : self.end]

    def overlaps(self, other: Finding) -> bool:
        """Whether the two spans share at least one character."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Finding) -> bool:
        """Whether ``other`` lies wholly inside this finding's span."""
        return self.start <= other.start and other.end <= self.end

    def as_dict(self) -> dict[str, str | int]:
        """The finding as JSON-able data, without the flagged value."""
        return {
            "type": self.type,
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "why": self.why,
        }


def lower_case(text: str) -> str:
    """``text.lower()``, one character for one, so positions in it are positions in ``text``.

    A few characters lower into two (``İ`` into ``i̇``); those are kept as they are.
    """
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def finding(kind: str, start: int, end: int, why: str) -> Finding:
    """A finding of type ``kind``, its category looked up."""
    return Finding(kind, TYPES[kind], start, end, why)


def settle(findings: Iterable[Finding]) -> list[Finding]:
    """The findings sorted by position, with no duplicates and no overlaps.

    Of two overlapping findings the higher-ranked type wins (``TYPES`` order), then
    the longer span. One exception: an internal URL keeps the secrets and personal
    data wholly inside it (a token in its query string, a password in its user
    part), because each tells the reviewer something the other does not.
    """
    kept: list[Finding] = []
    for item in sorted(set(findings), key=lambda f: (_RANK[f.type], f.start - f.end, f.start)):
        if not any(item.overlaps(other) and not _nested(item, other) for other in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: (f.start, -f.end, _RANK[f.type]))


def _nested(one: Finding, other: Finding) -> bool:
    """A link holding a finding of another category, or the other way round."""
    if one.category == other.category:
        return False
    if one.category == LINKS:
        return one.contains(other)
    return other.category == LINKS and other.contains(one)


def redact(text: str, findings: Sequence[Finding], *, keep_length: bool = False) -> str:
    """``text`` with every flagged span masked.

    A span becomes ``[email]``, ``[api_key]``...; with ``keep_length`` it becomes as
    many ``*`` as it had characters (line breaks kept), so the offsets of everything
    else, other findings included, stay valid in the redacted text. Overlapping
    spans are masked as one, labelled with the first finding's type.
    """
    pieces: list[str] = []
    done = 0
    for start, end, label in _merged(findings):
        pieces.append(text[done:start])
        masked = text[start:end]
        pieces.append(_mask(masked) if keep_length else f"[{label}]")
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _merged(findings: Sequence[Finding]) -> list[tuple[int, int, str]]:
    """The union of the spans, in order, each with the type of its first finding."""
    spans: list[tuple[int, int, str]] = []
    for item in sorted(findings, key=lambda f: (f.start, -f.end)):
        if spans and item.start < spans[-1][1]:
            start, end, label = spans[-1]
            spans[-1] = (start, max(end, item.end), label)
        else:
            spans.append((item.start, item.end, item.type))
    return spans


def _mask(value: str) -> str:
    return "".join(char if char in "\r\n" else "*" for char in value)
