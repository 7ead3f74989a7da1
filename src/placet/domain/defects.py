"""Choosing among candidate first drafts the one with the fewest plain defects. Pure.

A small model's first drafts go wrong in a few ways anyone can see: a bracketed
placeholder left to fill in ("[Your Name]"), talk about the draft instead of the
draft ("Here is the email:"), and words put in quotation marks as if taken from
the request that are not in it. Sampling a few drafts (new seeds) and keeping the
one with the fewest is cheap next to a reviewer sending one back. A kind opts in
with ``draft_candidates = N``. A quotation that is found in the request counts
for a draft (it is grounded in what it was given); ties keep the earliest, so one
candidate is exactly the draft a single sampling would have made.
"""

from __future__ import annotations

import re

from placet.domain.models import JsonObject

_PLACEHOLDER = re.compile(r"\[[^\]\n]{2,40}\](?!\()")
_ABOUT_THE_DRAFT = re.compile(
    r"\b(here is|here's|below is) (the|a|an|my|your) "
    r"(draft|email|e-mail|reply|answer|response|message|revised|updated|new)\b"
    r"|\b(i hope this (draft|email|reply) )|\bas requested\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"\u201c]([^\"\u201d\n]{12,400})[\"\u201d]")
_WORDS = re.compile(r"[a-z0-9]+")
MIN_QUOTED_WORDS = 4  # a shorter quotation ("yes") says nothing of where it came from


def _words(text: str) -> str:
    return " ".join(_WORDS.findall(text.casefold()))


def score(candidate: str, given: str) -> float:
    """Higher is better: defects cost, a quotation found in what was given counts."""
    if not candidate.strip():
        return -10.0
    points = -3.0 * len(_PLACEHOLDER.findall(candidate))
    if _ABOUT_THE_DRAFT.search(candidate):
        points -= 3.0
    source = _words(given)
    quotes = [_words(q) for q in _QUOTED.findall(candidate)]
    quotes = [q for q in quotes if len(q.split()) >= MIN_QUOTED_WORDS]
    found = sum(q in source for q in quotes)
    points -= 2.0 * (len(quotes) - found)
    return points + (1.0 if found else 0.0)


def given_text(values: JsonObject) -> str:
    """What a task was given, as one text to look quotations up in."""
    return "\n".join(str(value) for value in values.values())
