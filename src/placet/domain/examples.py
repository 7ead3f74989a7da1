"""Examples from approved work: which earlier approved tasks go into a kind's prompt. Pure.

A kind with ``learn = { examples = N }`` has the N approved tasks of the kind
most like the task at hand (by input) put into its prompt as examples: the
request each one answered and the text people approved (edited drafts as
edited). Likeness is the database's own full-text search over the words of
the inputs (store/examples.py: SQLite FTS5, PostgreSQL ``tsvector``).

The store keeps one row per approved task of such a kind: the words searched
and whether a reviewer marked the task "not an example". That row is written
in the transaction that approves the task or records the mark, and
``placet audit verify`` proves it from the task's chain (``entry_problems``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from placet.domain.audit import ChainProblem
from placet.domain.models import Event, JsonObject, Task, TaskStatus

NOT_AN_EXAMPLE = "not_an_example"  # an event on an approved task: keep it out of prompts
EXAMPLE_AGAIN = "example_again"  # an event undoing the mark: it may be an example again
MARKS = frozenset({NOT_AN_EXAMPLE, EXAMPLE_AGAIN})
MAX_BODY_CHARS = 4000  # of an input's words kept for the search
MAX_TERMS = 32  # words of a task's input searched for: the query's cost stays bounded
MAX_TERM_CHARS = 40  # a longer "word" (a hash, a token) says nothing about likeness
# Words only: letters and digits. A search term is one of these, so nothing a
# requester types (quotes, operators, NEAR, *, parentheses) reaches a query's syntax.
_WORD = re.compile(r"[^\W_]+")
# A draft at least this alike to an example it was shown (word by word) is flagged: a
# small model learns from an example by copying it, another customer's answer and all.
COPY_ALIKE = 0.8
MAX_COMPARED_WORDS = 800  # of a draft and an example compared: the check stays cheap


@dataclass(frozen=True)
class ExampleEntry:
    """The store's row for one approved task of the kind: its searched text, and the mark.

    A change carrying one (``Change.example``) writes it with the change, in the
    same transaction: an approval adds it, a mark sets ``excluded``.
    """

    task_id: str
    kind: str
    body: str
    excluded: bool = False


@dataclass(frozen=True)
class Mark:
    """The latest "not an example" mark on a task, or its undoing: who, when, and which."""

    excluded: bool
    by: str
    at: float


def example_text(values: JsonObject) -> str:
    """The text of an input that is searched: its values' words, one value a line.

    Keys are left out (every task of a kind has the same ones). The store keeps
    this with the task and ``placet audit verify`` computes it again, so a change
    here needs a migration that writes every kept body anew.
    """
    lines = [" ".join(_WORD.findall(text)) for text in _texts(values)]
    return "\n".join(line for line in lines if line)[:MAX_BODY_CHARS]


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)


def search_terms(values: JsonObject) -> tuple[str, ...]:
    """The words a task's input is searched by: distinct, lower-case, at most MAX_TERMS.

    Each is letters and digits only; the store quotes it as its database wants.
    """
    found: dict[str, None] = {}
    for word in _WORD.findall(example_text(values)):
        term = word.casefold()
        if 1 < len(term) <= MAX_TERM_CHARS and _WORD.fullmatch(term):
            found.setdefault(term, None)
            if len(found) == MAX_TERMS:
                break
    return tuple(found)


def mark_of(events: Sequence[Event]) -> Mark | None:
    """The task's latest mark, from its events in order; None when it was never marked."""
    for event in reversed(events):
        if event.type in MARKS:
            return Mark(event.type == NOT_AN_EXAMPLE, event.actor, event.created_at)
    return None


def is_excluded(events: Sequence[Event]) -> bool:
    """True when the task's latest mark says "not an example"."""
    mark = mark_of(events)
    return mark is not None and mark.excluded


@dataclass(frozen=True)
class CopyOf:
    """A draft that repeats an example it was shown nearly word for word."""

    task_id: str  # the approved task it repeats
    alike: float  # 0 to 1, word by word (difflib's ratio)

    def payload(self) -> JsonObject:
        """As the draft's event records it."""
        return {"task": self.task_id, "alike": self.alike}

    def said(self) -> str:
        """What a reviewer is told of it, in plain text."""
        return (
            f"This draft repeats the approved task {self.task_id} nearly word for word "
            f"({self.alike:.0%} alike): check that it answers this request, not that one."
        )


def copy_of(text: str, shown: Sequence[tuple[str, str]]) -> CopyOf | None:
    """The example (approved task id, its text) the draft repeats most, when at least
    COPY_ALIKE alike word by word; None when it repeats none."""
    draft = text.split()[:MAX_COMPARED_WORDS]
    found: CopyOf | None = None
    for task_id, output in shown:
        matcher = SequenceMatcher(None, draft, output.split()[:MAX_COMPARED_WORDS], False)
        if matcher.real_quick_ratio() < COPY_ALIKE or matcher.quick_ratio() < COPY_ALIKE:
            continue  # cheap upper bounds: it cannot be alike enough
        alike = round(matcher.ratio(), 2)
        if alike >= COPY_ALIKE and (found is None or alike > found.alike):
            found = CopyOf(task_id, alike)
    return found


def _saved(events: Sequence[Event], draft_id: str) -> Event | None:
    for event in events:
        if event.type == "save_draft" and event.payload.get("draft_id") == draft_id:
            return event
    return None


def used_examples(events: Sequence[Event], draft_id: str) -> tuple[str, ...]:
    """The ids of the approved tasks a draft was made with, as its event recorded them."""
    event = _saved(events, draft_id)
    return tuple(str(i) for i in event.payload.get("examples") or ()) if event else ()


def copied_example(events: Sequence[Event], draft_id: str) -> CopyOf | None:
    """The example a draft repeats nearly word for word, as its event recorded it."""
    event = _saved(events, draft_id)
    found = event.payload.get("copies_example") if event else None
    if not isinstance(found, dict):
        return None
    return CopyOf(str(found.get("task")), float(found.get("alike") or 0))


def entry_for(task: Task, events: Sequence[Event]) -> ExampleEntry:
    """The row an approved task's chain says the store keeps for it."""
    return ExampleEntry(task.id, task.kind, example_text(task.input), is_excluded(events))


def entry_problems(
    task: Task, events: Sequence[Event], entry: ExampleEntry | None
) -> list[ChainProblem]:
    """What is wrong with the store's example row of a task, as its chain tells it.

    A task may have no row (its kind puts no examples into prompts) unless it
    was ever marked; a row it has must belong to an approved task and say what
    the chain says: its kind, the words of its input, and its latest mark.
    """
    if entry is None:
        if mark_of(events) is None:
            return []
        # A mark writes the row in its own transaction: it was removed since.
        return [_problem(task, "its example row, which its not-an-example mark wrote, is gone")]
    if task.status is not TaskStatus.APPROVED:
        return [_problem(task, "it is kept as an example but was never approved")]
    expected = entry_for(task, events)
    shown = {
        "kind": entry.kind == expected.kind,
        "searched text": entry.body == expected.body,
        "not-an-example mark": entry.excluded == expected.excluded,
    }
    return [
        _problem(task, f"its example's {name} was altered") for name, ok in shown.items() if not ok
    ]


def _problem(task: Task, text: str) -> ChainProblem:
    return ChainProblem(task.id, None, f"task {task.id}: {text}")
