"""Examples from approved work (issue 18): the approved tasks most like a new one go into its
prompt, found by the database's own full-text search, on SQLite and on PostgreSQL.

Each test reads the messages the provider was sent (``FakeProvider.requests``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from placet.config import Settings
from placet.domain.examples import EXAMPLE_AGAIN, NOT_AN_EXAMPLE, copied_example, used_examples
from placet.domain.learning import Learning
from placet.domain.models import DecisionKind, Task, TaskKind
from placet.domain.policy import Role
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import InvalidInputError, PermissionDeniedError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person

TEMPLATE = "Answer the customer: {question}"
REPLY = TaskKind(name="reply", template=TEMPLATE, learn=Learning(examples=1))
OTHER = TaskKind(name="other_reply", template=TEMPLATE, learn=Learning(examples=1))
PLAIN = TaskKind(name="plain_reply", template=TEMPLATE)  # learns no examples
REVIEWER = person("rita")
# Text that means something to FTS5's or tsquery's syntax, were it ever read as a query.
INJECTIONS = [
    '"',
    "' OR 1=1 --",
    'kettle" OR "refund',
    "NEAR(kettle refund, 2)",
    "kettle* OR refund^ AND NOT parcel",
    "question: kettle",
    "(((",
    "a & b | !c <-> d:* 'e'",
    "\\ \\\\ ''",
    "*",
    "OR AND NOT NEAR",
    "- + ^ { } [ ]",
    "the and of",  # nothing but stop words: PostgreSQL's query is empty
]


@dataclass
class World:
    engine: Engine
    provider: FakeProvider

    def approve(self, question: str, kind: str = REPLY.name, edit: str | None = None) -> str:
        """A task of the kind, drafted and approved (edited when ``edit`` is given)."""
        task = self.engine.submit(kind, {"question": question}, "sam", claim_as="w")
        self.engine.draft(task, "w")
        verdict = DecisionKind.APPROVE if edit is None else DecisionKind.EDIT
        self.engine.decide(DecisionRequest(task.id, verdict, REVIEWER, text=edit))
        return task.id

    def draft(self, question: str, kind: str = REPLY.name) -> Task:
        task = self.engine.submit(kind, {"question": question}, "sam", claim_as="w")
        return self.engine.draft(task, "w")

    def examples_sent(self) -> list[tuple[str, str]]:
        """The (request, answer) pairs of the last prompt, before the task's own request."""
        messages = self.provider.requests[-1].messages
        turns = [m for m in messages if m["role"] != "system"][:-1]
        return [(q["content"], a["content"]) for q, a in zip(turns[::2], turns[1::2], strict=True)]


def open_world(url: str, *kinds: TaskKind) -> tuple[Engine, FakeProvider]:
    provider = FakeProvider()
    settings = Settings(kinds={kind.name: kind for kind in kinds or (REPLY, OTHER, PLAIN)})
    return Engine(SqlStore(url), settings, provider_for=lambda _model: provider), provider


@pytest.fixture
def world(url: str) -> Iterator[World]:
    engine, provider = open_world(url)
    yield World(engine, provider)
    engine.close(store_too=True)


def asked(question: str) -> str:
    return TEMPLATE.format(question=question)


def test_the_most_similar_approved_task_is_the_example_as_it_was_edited(world: World) -> None:
    world.approve("How do I reset my password?")
    kettle = world.approve(
        "My kettle arrived broken, can I get a refund?", edit="Sorry! A refund is on its way."
    )
    world.approve("Where is my parcel? The tracking number does not work.")
    drafted = world.draft("The kettle I bought is broken. Refund please.")
    assert world.examples_sent() == [
        (asked("My kettle arrived broken, can I get a refund?"), "Sorry! A refund is on its way.")
    ]
    # The draft's event records which approved tasks it was made with.
    assert used_examples(world.engine.task_events(drafted.id), drafted.current_draft_id or "") == (
        kettle,
    )
    assert verify_store(world.engine).ok


def test_the_latest_approved_fill_up_when_nothing_matches(url: str) -> None:
    two = replace(REPLY, learn=Learning(examples=2))
    engine, provider = open_world(url, two)
    world = World(engine, provider)
    try:
        world.approve("How do I reset my password?")
        world.approve("Where is my parcel?")
        world.approve("Is the shop open on Sunday?")
        world.draft("Zyxwv qwerty")  # shares no word with any of them
        assert [q for q, _ in world.examples_sent()] == [
            asked("Is the shop open on Sunday?"),
            asked("Where is my parcel?"),
        ]
        world.draft("!!! ???")  # no words at all
        assert len(world.examples_sent()) == 2
        world.draft("Sunday opening hours of the shop?")  # one matches, the latest fills up
        assert [q for q, _ in world.examples_sent()] == [
            asked("Is the shop open on Sunday?"),
            asked("Where is my parcel?"),
        ]
    finally:
        engine.close(store_too=True)


def test_work_marked_not_an_example_is_left_out_until_the_mark_is_undone(world: World) -> None:
    kettle = world.approve("My kettle arrived broken, can I get a refund?")
    parcel = world.approve("Where is my parcel?")
    assert world.engine.examples.mark(REVIEWER, kettle, example=False)
    world.draft("My kettle is broken, I want a refund")
    assert world.examples_sent() == [(asked("Where is my parcel?"), world_output(world, parcel))]
    mark = world.engine.examples.mark_of(kettle)
    assert mark is not None and (mark.excluded, mark.by) == (True, "rita")
    assert not world.engine.examples.mark(REVIEWER, kettle, example=False)  # it already is

    world.engine.examples.mark(person("ola", Role.ADMIN), kettle, example=True)
    world.draft("My kettle is broken, I want a refund")
    assert [q for q, _ in world.examples_sent()] == [
        asked("My kettle arrived broken, can I get a refund?")
    ]
    types = [event.type for event in world.engine.task_events(kettle)]
    assert types[-2:] == [NOT_AN_EXAMPLE, EXAMPLE_AGAIN]
    assert verify_store(world.engine).ok


def world_output(world: World, task_id: str) -> str:
    return world.engine.get(task_id).final_output or ""


def test_who_may_mark_and_what(world: World) -> None:
    kettle = world.approve("My kettle arrived broken")
    with pytest.raises(PermissionDeniedError):
        world.engine.examples.mark(person("vic", Role.VIEWER), kettle, example=False)
    waiting = world.draft("Where is my parcel?")
    with pytest.raises(InvalidInputError, match="only approved work is an example"):
        world.engine.examples.mark(REVIEWER, waiting.id, example=False)
    assert not world.engine.examples.mark(REVIEWER, kettle, example=True)  # it is one
    assert [e.type for e in world.engine.task_events(kettle)][-1] != EXAMPLE_AGAIN


def test_only_reviewers_of_the_kind_mark_its_work(url: str) -> None:
    listed = replace(REPLY, reviewers=("rita",))
    engine, provider = open_world(url, listed)
    try:
        kettle = World(engine, provider).approve("My kettle arrived broken")
        with pytest.raises(PermissionDeniedError, match="not a reviewer of reply"):
            engine.examples.mark(person("bob"), kettle, example=False)
        engine.examples.mark(person("rita"), kettle, example=False)
    finally:
        engine.close(store_too=True)


def test_other_kinds_work_is_never_an_example(world: World) -> None:
    world.approve("My kettle arrived broken, can I get a refund?", kind=OTHER.name)
    parcel = world.approve("Where is my parcel?")
    world.draft("My kettle arrived broken, can I get a refund?")
    assert world.examples_sent() == [(asked("Where is my parcel?"), world_output(world, parcel))]


def test_a_kind_without_examples_writes_and_reads_none(world: World) -> None:
    approved = world.approve("My kettle arrived broken", kind=PLAIN.name)
    assert world.engine.store.example_entry(approved) is None
    drafted = world.draft("My kettle arrived broken", kind=PLAIN.name)
    assert world.examples_sent() == []
    assert "examples" not in world.engine.task_events(drafted.id)[-1].payload


@pytest.mark.parametrize("text", INJECTIONS)
def test_query_syntax_in_an_input_is_only_words(world: World, text: str) -> None:
    kettle = world.approve(f"kettle refund {text}")
    world.approve("Where is my parcel?")
    world.draft(f"{text} kettle refund")
    assert [q for q, _ in world.examples_sent()] == [asked(f"kettle refund {text}")]
    world.draft(text)  # nothing but the syntax: no error, and an example all the same
    assert len(world.examples_sent()) == 1
    assert world.engine.store.similar_examples(REPLY.name, [text], 3, "x") is not None
    assert kettle


def test_a_kind_that_starts_using_examples_finds_earlier_work(url: str) -> None:
    before = replace(REPLY, learn=Learning())
    engine, provider = open_world(url, before)
    world = World(engine, provider)
    kettle = world.approve("My kettle arrived broken, can I get a refund?")
    refused = world.approve("My kettle is broken too, refund it")
    engine.examples.mark(REVIEWER, refused, example=False)  # marked while unused: it stays so
    world.approve("Where is my parcel?")
    assert engine.store.example_entry(kettle) is None
    engine.close(store_too=True)

    engine, provider = open_world(url, REPLY)
    world = World(engine, provider)
    try:
        world.draft("Kettle broken, refund?")
        assert [q for q, _ in world.examples_sent()] == [
            asked("My kettle arrived broken, can I get a refund?")
        ]
        assert verify_store(engine).ok
    finally:
        engine.close(store_too=True)


def test_a_draft_that_repeats_an_example_says_so_in_its_event(world: World) -> None:
    """A small model learns from an example by copying it: the draft's event names the
    example it repeats nearly word for word, and how alike, for the reviewer to see."""
    reset = world.approve("How do I reset my password?")
    again = world.draft("How do I reset my password?")  # the fake writes the example again
    events = world.engine.task_events(again.id)
    copies = copied_example(events, again.current_draft_id or "")
    assert copies is not None and copies.task_id == reset and 0.8 <= copies.alike < 1
    other = world.draft("Where is my parcel? It never came.")
    assert used_examples(world.engine.task_events(other.id), other.current_draft_id or "")
    assert copied_example(world.engine.task_events(other.id), other.current_draft_id or "") is None
    assert verify_store(world.engine).ok  # the flag is part of the audited event
