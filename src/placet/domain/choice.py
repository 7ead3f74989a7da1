"""Which of several candidate drafts is the draft. Pure.

What the engine can read in a candidate adds up: for a first draft its plain
defects (``domain.defects``), for a revision what it shows of the reviewer's words
(``domain.revisions``), and for a kind that quotes an input how far its quotation
bears on the rest of the request (``domain.quotes.bearing``). Ties keep the
earliest candidate, so one candidate is exactly the draft a single sampling
would have made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from placet.domain import defects, quotes, revisions
from placet.domain.models import JsonObject, TaskKind

# A quotation that bears fully on the question weighs as much as a defect less, not
# more than a quoted phrase the reviewer asked for (3 in domain.revisions).
BEARING_WEIGHT = 2.0


@dataclass(frozen=True)
class Reading:
    """What the candidates of one attempt are read against."""

    given: str  # every input, to look quotations up in
    feedback: str | None = None  # a revision's: the reviewer's words
    source: str = ""  # the input the kind quotes from (quote_from), else empty
    asked: str = ""  # the other inputs: what a quotation should bear on


def reading_for(kind: TaskKind, values: JsonObject, feedback: str | None) -> Reading:
    """How a task's candidates are read: a first draft's (``feedback`` None) or a revision's."""
    given = defects.given_text(values)
    if not kind.quote_from:
        return Reading(given, feedback)
    others = {name: value for name, value in values.items() if name != kind.quote_from}
    source = str(values.get(kind.quote_from, ""))
    return Reading(given, feedback, source, defects.given_text(others))


def points(candidate: str, reading: Reading) -> float:
    """Higher is better: everything the reading finds in one candidate, added up."""
    if reading.feedback is None:
        total = defects.score(candidate, reading.given)
    else:  # counting defects too chose fewer revisions that did as asked (BENCHMARKS §15)
        total = revisions.score(candidate, revisions.read_feedback(reading.feedback))
    if reading.source:
        total += BEARING_WEIGHT * quotes.bearing(candidate, reading.source, reading.asked)
    return total


def best(candidates: Sequence[str], reading: Reading) -> int:
    """The index of the candidate with the most points (the earliest of equals)."""
    scores = [points(candidate, reading) for candidate in candidates]
    return scores.index(max(scores))
