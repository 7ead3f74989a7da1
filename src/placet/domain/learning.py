"""What a kind has learned from its reviewers, as it goes into a prompt. Pure.

Two things are learned (issue 18): **lessons**, short rules distilled from
reviewers' feedback, edits and rejection reasons, active only once a person
approved them; and **examples**, earlier approved work of the kind (edited
drafts as edited) most like the task at hand. Both are untrusted text (a
reviewer's words, a model's output): they are length-limited here and put in
the prompt clearly delimited, after the system prompt and the kind's own
worked examples.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # models imports this module (a kind's Learning)
    from placet.domain.models import JsonObject

MAX_LESSON_CHARS = 200  # a lesson is one short rule
MAX_LESSONS = 20  # active at once per kind: a prompt of rules, not a manual
MAX_EXAMPLE_CHARS = 4000  # of an example's answer put into a prompt
MAX_EVERY = 10_000
MAX_EXAMPLES = 10  # learned examples in one prompt, at most


DISTILL = ("model", "feedback")


@dataclass(frozen=True)
class Learning:
    """A kind's ``learn`` settings: propose lessons after every ``every`` decisions
    (None: only on demand, ``placet learn KIND``), and put the ``examples`` most
    similar approved tasks into each prompt (0: none). ``distill``: how a proposal
    is made: by the kind's model ("model"), or from the reviewers' own words, most
    often said first ("feedback": no model; what a small model does best)."""

    every: int | None = None
    examples: int = 0
    distill: str = "model"


_SPEAKER = re.compile(r"^(?:[A-Z]|Rule|Lesson|Answer)\s*:\s*")
LESSONS_OPEN = "Lessons from reviewers of earlier drafts (follow them):"
LESSONS_CLOSE = "(end of lessons)"


@dataclass(frozen=True)
class LearnedExample:
    """An earlier approved task of the kind: its input and the text people approved."""

    task_id: str
    input: JsonObject
    output: str


@dataclass(frozen=True)
class Learned:
    """What goes into a kind's prompt besides its own settings."""

    lessons: tuple[str, ...] = ()
    examples: tuple[LearnedExample, ...] = field(default=())

    @property
    def version(self) -> str | None:
        """Which lesson set this is: a short digest of the active lessons, in order
        (None without lessons). Recorded with every draft made with it."""
        return lessons_version(self.lessons)


NOTHING = Learned()


def lessons_version(lessons: Iterable[str]) -> str | None:
    """A short, stable name for a set of lessons (None for none)."""
    shown = list(lessons)
    if not shown:
        return None
    digest = hashlib.sha256("\n".join(shown).encode("utf-8")).hexdigest()
    return f"L{len(shown)}-{digest[:10]}"


def clean_lesson(text: str) -> str:
    """A lesson as it is kept: one line, no list markers, at most MAX_LESSON_CHARS."""
    line = " ".join(text.split())
    line = line.lstrip("-*•0123456789.) ").strip()
    line = _SPEAKER.sub("", line)  # "A: Please ...", "Rule: ..." : a label, not the lesson
    return line[:MAX_LESSON_CHARS]


def lessons_block(lessons: Iterable[str]) -> str:
    """The lessons as they are put after the system prompt: numbered, delimited."""
    listed = "\n".join(f"{n}. {clean_lesson(text)}" for n, text in enumerate(lessons, 1))
    return f"{LESSONS_OPEN}\n{listed}\n{LESSONS_CLOSE}"
