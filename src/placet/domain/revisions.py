"""Choosing among candidate revisions the one that does most of what the reviewer asked.

A small model asked for a revision writes a fluent draft that, as often as not,
leaves out the one thing the reviewer named. Sampling several revisions (new
seeds) and keeping the one that shows the reviewer's words is cheap next to a
reviewer asking again. A kind opts in with ``revision_candidates = N``.

The reading is lexical and deliberately plain, because it must hold for any
feedback in any kind: phrases the reviewer quoted ("sign it as 'Sam from
Support'"), the other words of substance they used ("mention the webinar"), and
the limits they set in numbers ("under 80 words", "in one sentence") and an
opening they quote ("start with 'According to the policy,'"). The engine holds a
revision to the last two while it is written (``cut_after_sentences``, and the
opening as the start of the answer); the rest is read after. A
candidate that repeats the feedback sentence itself or talks about the revision
("Here is the revised version") is marked down: it answers the reviewer, not
the task. Ties keep the earliest candidate, so one candidate is exactly the
draft a single attempt would have made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CANDIDATES = 8

_QUOTED = re.compile(r"""['"\u2018\u201c]([^'"\u2019\u201d]{2,120})['"\u2019\u201d]""")
_WORD = re.compile(r"[a-z0-9][a-z0-9@.'-]*[a-z0-9]|[a-z0-9]", re.IGNORECASE)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_COUNT = r"(\d+|one|two|three|four|five|six)"
_WORD_LIMIT = re.compile(
    rf"\b(?:under|at most|no more than|fewer than|less than|within|max(?:imum)?(?: of)?|"
    rf"keep it to|up to|in)\s+{_COUNT}\s+words?\b",
    re.IGNORECASE,
)
_SENTENCE_LIMIT = re.compile(
    rf"\b(?:in|at most|no more than|up to|keep it to|only)\s+{_COUNT}\s+(?:short\s+)?sentences?\b",
    re.IGNORECASE,
)
# A sentence ends at . ! or ? (and any closing quote or bracket) before a space or the end.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]\u201d\u2019]*(?=\s|$)")
_OPENING = re.compile(
    r"\b(?:start|begin|open)(?:s|ing)?\b[^'\"\u2018\u201c.;!?]{0,40}?\bwith\s+"
    r"['\"\u2018\u201c](?P<text>[^\n]{1,100}?)['\"\u2019\u201d](?=[\s.,;:!?)]|$)",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:don't|do not|never|not|no longer|avoid|stop|instead of|rather than)\W+(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
_ABOUT_THE_REVISION = re.compile(
    r"\b(here is|here's) (the|a|my|your) (revised|updated|new)\b|\brevised (version|draft)\b"
    r"|\b(the|your) (reviewer|feedback)\b|\bas requested\b",
    re.IGNORECASE,
)
# Words of a request that say how, not what: finding them in a draft shows nothing.
_HOW_WORDS = """
a an the and or but of to in on at for with from by as it its it's this that
these those be is are was were do does don't not no please pls can could would
should will you your we our us i me my they them their he she his her make keep
write answer reply say add include mention mentions use put give tell ask end
start begin with instead also more less than under over about into just only
very so too draft text email message version sign signed sign-off them him
"""
_REQUEST_WORDS = frozenset(_HOW_WORDS.split())


@dataclass(frozen=True)
class Ask:
    """What a feedback asks for, as far as plain reading tells."""

    phrases: tuple[str, ...]  # quoted by the reviewer, lower-case
    words: frozenset[str]  # other words of substance, lower-case
    max_words: int | None
    max_sentences: int | None
    opening: str  # as the reviewer wrote it; empty when they asked for none
    said: str  # the feedback itself, lower-case, for telling an echo


def read_feedback(feedback: str) -> Ask:
    """What the reviewer's words ask a revision to show."""
    phrases = tuple(p.strip().casefold() for p in _QUOTED.findall(feedback) if p.strip())
    unquoted = _QUOTED.sub(" ", feedback)
    words = frozenset(
        w.casefold().strip(".'-")
        for w in _WORD.findall(unquoted)
        if len(w) > 2 and w.casefold() not in _REQUEST_WORDS and not w.isdigit()
    )
    return Ask(
        phrases,
        words,
        _limit(_WORD_LIMIT, feedback),
        _limit(_SENTENCE_LIMIT, feedback),
        asked_opening(feedback),
        feedback.strip().rstrip(".").casefold(),
    )


def asked_opening(feedback: str) -> str:
    """The words the reviewer asked the text to start with, in quotes ("Start the
    answer with 'According to the policy,'"); empty when none, or when they asked
    for the opposite ("don't start with 'Dear'")."""
    for found in _OPENING.finditer(feedback):
        if _NEGATED.search(feedback[: found.start()]) is None:
            return found.group("text").strip()
    return ""


def sentence_count(text: str) -> int:
    """The sentences in a text: each end, and words after the last one."""
    body = text.strip()
    ends = list(_SENTENCE_END.finditer(body))
    rest = body[ends[-1].end() :] if ends else body
    return len(ends) + (1 if rest.strip() else 0)


def cut_after_sentences(text: str, limit: int) -> str | None:
    """The text up to the end of its ``limit``-th sentence, once that end is certain
    (a space follows it); None while the text has not reached it."""
    for number, found in enumerate(_SENTENCE_END.finditer(text), start=1):
        if number == limit and found.end() < len(text):
            return text[: found.end()]
    return None


def _limit(pattern: re.Pattern[str], text: str) -> int | None:
    found = pattern.search(text)
    if found is None:
        return None
    count = found.group(1).casefold()
    return _NUMBERS.get(count) or int(count)


def score(candidate: str, ask: Ask) -> float:
    """How much of the ask a candidate shows: quoted phrases and limits count most."""
    text = candidate.casefold()
    found = set(w.strip(".'-") for w in _WORD.findall(text))
    points = 3.0 * sum(phrase in text for phrase in ask.phrases)
    if ask.words:
        points += 2.0 * len(ask.words & found) / len(ask.words)
    if ask.max_words is not None:
        points += 3.0 if len(candidate.split()) <= ask.max_words else 0.0
    if ask.max_sentences is not None:
        points += 3.0 if sentence_count(candidate) <= ask.max_sentences else 0.0
    if ask.opening:
        points += 3.0 if text.lstrip().startswith(ask.opening.casefold()) else 0.0
    if ask.said and ask.said in text:
        points -= 4.0  # the feedback copied into the draft
    if _ABOUT_THE_REVISION.search(candidate):
        points -= 4.0
    if not candidate.strip():
        points -= 10.0
    return points
