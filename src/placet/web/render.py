"""Safe rendering for the dashboard: Markdown to sanitised HTML, diffs, times.

Model output is untrusted (DESIGN rule 6). Markdown is rendered with raw HTML
disabled, then the result goes through an allow-list sanitiser anyway, so a
mistake in either layer alone cannot let markup through. Everything else the
templates show is plain text, escaped by Jinja's autoescape.
"""

from __future__ import annotations

import difflib
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from markupsafe import Markup

from placet.domain import jsontext
from placet.markdown import safe_html


def markdown_html(text: str) -> Markup:
    """Untrusted Markdown as sanitised HTML, safe to place in a page, every line break kept."""
    return Markup(safe_html(text))  # sanitised just now


def input_value(value: Any) -> str:
    """One task input value as text: strings as they are, anything else as indented JSON."""
    return jsontext.readable(value, indent=2)


def summary(values: dict[str, Any], limit: int = 120) -> str:
    """A one-line gist of a task's input for the queue: its values, whitespace folded."""
    text = " · ".join(" ".join(input_value(value).split()) for value in values.values())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_label(value: str) -> str:
    """``awaiting_review`` as ``Awaiting review``."""
    return value.replace("_", " ").capitalize()


# -- side-by-side diffs -------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff: a line on each side (either may be missing)."""

    kind: str  # "same", "changed", "removed" or "added"
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(before: str, after: str) -> list[DiffRow]:
    """Line-by-line rows comparing two texts, for a two-column table."""
    left, right = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                DiffRow("same", i + 1, left[i], j + 1, right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        pairs = itertools.zip_longest(range(i1, i2), range(j1, j2))
        rows += [_changed_row(left, right, i, j) for i, j in pairs]
    return rows


def _changed_row(left: list[str], right: list[str], i: int | None, j: int | None) -> DiffRow:
    if i is None:
        assert j is not None
        return DiffRow("added", None, "", j + 1, right[j])
    if j is None:
        return DiffRow("removed", i + 1, left[i], None, "")
    return DiffRow("changed", i + 1, left[i], j + 1, right[j])


def diff_stats(rows: Sequence[DiffRow]) -> tuple[int, int]:
    """How many lines were added and removed."""
    added = sum(1 for row in rows if row.kind in ("added", "changed"))
    removed = sum(1 for row in rows if row.kind in ("removed", "changed"))
    return added, removed


# -- times ---------------------------------------------------------------------------


def when(timestamp: float | None) -> str:
    """A Unix time as ``2025-01-31 14:05 UTC`` (one zone for every reviewer)."""
    if timestamp is None:
        return "-"
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def iso(timestamp: float) -> str:
    """A Unix time in ISO 8601, for ``<time datetime=...>``."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def ago(timestamp: float, now: float | None = None) -> str:
    """How long ago, roughly: ``just now``, ``5 min``, ``3 h``, ``2 d``."""
    seconds = max(0.0, (time.time() if now is None else now) - timestamp)
    if seconds < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"  # pragma: no cover - the loop always returns


def duration(seconds: float | None) -> str:
    """A span of time for people: ``42 s``, ``3.5 min``, ``2.0 h``."""
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def short_id(value: str, keep: int = 10) -> str:
    """The tail of a long id, enough to tell tasks apart at a glance."""
    return value if len(value) <= keep else "…" + value[-keep:]
