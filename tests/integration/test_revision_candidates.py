"""Revisions from the best of several candidates (``revision_candidates``), in the engine.

A scripted model answers each call in turn; the engine samples the kind's number of
revisions, each with its own seed, keeps the one that shows what the reviewer asked,
saves it with the seed that wrote it, counts every candidate's tokens, and tells a
watcher of the live stream to show the chosen text. First drafts are never sampled
more than once.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, Example, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine
from placet.providers.base import Chunk, Completion, CompletionRequest, Usage, collect
from placet.store.sql import SqlStore
from placet.testing import person

REVIEWER = person("rita")
REPLY = TaskKind(
    name="reply",
    template="Answer {customer}.",
    revise_from="request",
    revision_candidates=3,
)


class Scripted:
    """A model that gives its answers in turn, one per call, and keeps every request."""

    name = "fake:scripted"

    def __init__(self, *answers: str) -> None:
        self.answers = collections.deque(answers)
        self.requests: list[CompletionRequest] = []

    def complete(self, request: CompletionRequest) -> Completion:
        return collect(self.stream(request))

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        self.requests.append(request)
        yield Chunk(self.answers.popleft())
        yield Chunk(usage=Usage(10, 5))


@pytest.fixture
def make(tmp_path: Path) -> Iterator[object]:
    stores: list[SqlStore] = []

    def engine_with(model: Scripted, kind: TaskKind = REPLY) -> Engine:
        url = f"sqlite:///{tmp_path / f'placet{len(stores)}.db'}"
        stores.append(SqlStore(url))
        settings = Settings(database_url=url, kinds={kind.name: kind})
        return Engine(stores[-1], settings, provider_for=lambda _model: model)

    yield engine_with
    for store in stores:
        store.close()


def revised(engine: Engine, feedback: str, chunks: list[Chunk] | None = None) -> str:
    """Submit, draft, ask for a revision with the feedback, draft it; the task's id."""
    task = engine.submit("reply", {"customer": "Ana"}, "desk", claim_as="w")
    task = engine.draft(task, "w")
    engine.decide(DecisionRequest(task.id, DecisionKind.REVISE, REVIEWER,
                                  draft_id=task.current_draft_id, feedback=feedback))  # fmt: skip
    claimed = engine.claim("w", task.id)
    assert claimed is not None
    engine.draft(claimed, "w", on_chunk=None if chunks is None else chunks.append)
    return task.id


def test_the_revision_that_shows_what_was_asked_is_the_draft_with_its_own_seed(make) -> None:  # type: ignore[no-untyped-def]
    model = Scripted(
        "Hi Ana, thanks.\nBest, Sam",
        "Hi Ana, thanks.\nBest, Sam",  # candidate 1: the same draft again
        "Here is the revised version: sign it as 'The Support Team'.",  # talk and an echo
        "Hi Ana, thanks.\nThe Support Team",  # candidate 3: does what was asked
    )
    engine = make(model)
    chunks: list[Chunk] = []
    task_id = revised(engine, "Sign it as 'The Support Team'.", chunks)

    detail = engine.detail(task_id)
    assert detail.task.status is TaskStatus.AWAITING_REVIEW
    assert detail.drafts[-1].output == "Hi Ana, thanks.\nThe Support Team"
    seeds = [request.seed for request in model.requests[1:]]
    assert len(set(seeds)) == 3  # each candidate its own seed
    assert detail.drafts[-1].seed == seeds[2]
    assert [r.messages for r in model.requests[2:]] == [model.requests[1].messages] * 2
    assert detail.drafts[-1].usage.completion_tokens == 15  # every candidate's tokens were spent
    # The chosen one was the last streamed: no restart after it.
    assert chunks[-2].text == "Hi Ana, thanks.\nThe Support Team" and not chunks[-2].restart


def test_a_watcher_of_the_stream_is_told_to_show_the_chosen_candidate(make) -> None:  # type: ignore[no-untyped-def]
    model = Scripted("first", "Hi Ana, we are sorry for the trouble.", "Hi Ana.", "Hi.")
    engine = make(model)
    chunks: list[Chunk] = []
    task_id = revised(engine, "Apologise: say you are sorry.", chunks)

    assert engine.detail(task_id).drafts[-1].output == "Hi Ana, we are sorry for the trouble."
    notes = [chunk.note for chunk in chunks if chunk.restart]
    assert notes == [
        "writing candidate 2 of 3",
        "writing candidate 3 of 3",
        "keeping candidate 1 of 3",
    ]
    shown = ""
    for chunk in chunks:
        shown = chunk.text if chunk.restart else shown + chunk.text
    assert shown == "Hi Ana, we are sorry for the trouble."


def test_equal_candidates_keep_the_first_and_a_first_draft_is_sampled_once(make) -> None:  # type: ignore[no-untyped-def]
    model = Scripted("draft one", "revision a", "revision b", "revision c")
    engine = make(model)
    task_id = revised(engine, "Make it better.")
    detail = engine.detail(task_id)
    assert [d.output for d in detail.drafts] == ["draft one", "revision a"]
    assert len(model.requests) == 4 and not model.answers


def test_one_candidate_is_the_plain_revision(make) -> None:  # type: ignore[no-untyped-def]
    model = Scripted("draft one", "revision a")
    engine = make(model, TaskKind(name="reply", template="Answer {customer}."))
    task_id = revised(engine, "Sign it as 'The Support Team'.")
    assert engine.detail(task_id).drafts[-1].output == "revision a"
    assert len(model.requests) == 2


def test_the_saved_draft_event_says_how_many_candidates_it_was_chosen_from(make) -> None:  # type: ignore[no-untyped-def]
    model = Scripted("draft one", "revision a", "revision b", "revision c")
    engine = make(model)
    task_id = revised(engine, "Make it better.")
    saved = [e.payload for e in engine.detail(task_id).events if e.type == "save_draft"]
    assert "candidates" not in saved[0] and saved[1]["candidates"] == 3


def test_the_last_candidate_is_asked_without_the_worked_examples_and_saved_with_its_prompt(
    make,  # type: ignore[no-untyped-def]
) -> None:
    worked = Example({"customer": "Dana"}, "Hi Dana,\nThanks.\nBest regards,\nAlex")
    kind = TaskKind(
        name="reply",
        template="Answer {customer}.",
        revise_from="request",
        revision_candidates=3,
        examples=(worked,),
    )
    model = Scripted(
        "Hi Ana,\nThanks.\nBest regards,\nAlex",
        "Hi Ana,\nThanks.\nBest regards,\nAlex",  # the example's shape, twice
        "Hi Ana,\nThanks.\nBest regards,\nAlex",
        "Hi Ana,\nThanks.\nSam from Support",  # asked without the example: as asked
    )
    engine = make(model, kind)
    task_id = revised(engine, "Sign it as 'Sam from Support'.")
    with_examples, plain = model.requests[2].messages, model.requests[3].messages
    assert any(m["content"] == worked.output for m in with_examples)
    assert not any(m["content"] == worked.output for m in plain)
    assert plain[-1] == with_examples[-1]  # the same request, feedback and all
    saved = engine.detail(task_id).drafts[-1]
    assert saved.output == "Hi Ana,\nThanks.\nSam from Support"
    assert saved.messages == plain and saved.seed == model.requests[3].seed


def test_a_first_draft_from_candidates_is_the_one_with_the_fewest_defects(make) -> None:  # type: ignore[no-untyped-def]
    kind = TaskKind(name="reply", template="Answer {customer}.", draft_candidates=3)
    model = Scripted("Hi [Customer Name], thanks.", "Here is the reply: Hi Ana.", "Hi Ana, thanks.")
    engine = make(model, kind)
    task = engine.submit("reply", {"customer": "Ana"}, "desk", claim_as="w")
    task = engine.draft(task, "w")
    detail = engine.detail(task.id)
    assert detail.drafts[0].output == "Hi Ana, thanks."
    assert detail.drafts[0].seed == model.requests[2].seed
    assert len({r.seed for r in model.requests}) == 3
    saved = [e.payload for e in detail.events if e.type == "save_draft"]
    assert saved[0]["candidates"] == 3


class Streaming(Scripted):
    """A scripted model that writes a word at a time, and notes how far it got."""

    def __init__(self, *answers: str) -> None:
        super().__init__(*answers)
        self.written: list[str] = []
        self.closed = 0

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        self.requests.append(request)
        words = self.answers.popleft().split(" ")
        try:
            for index, word in enumerate(words):
                self.written.append(word)
                yield Chunk(word if index == 0 else " " + word)
            yield Chunk(usage=Usage(10, len(words)))
        finally:
            self.closed += 1


def test_a_sentence_limit_ends_the_revision_there_and_stops_the_model(make) -> None:  # type: ignore[no-untyped-def]
    kind = TaskKind(name="reply", template="Answer {customer}.", revise_from="request")
    model = Streaming(
        "Hi Ana. Thanks for writing. We are on it.",
        'Hi Ana, the policy says "You get 25 days." So plan ahead. More words follow here.',
    )
    engine = make(model, kind)
    chunks: list[Chunk] = []
    task_id = revised(engine, "Answer in one sentence.", chunks)

    draft = engine.detail(task_id).drafts[-1]
    assert draft.output == 'Hi Ana, the policy says "You get 25 days."'
    assert "".join(chunk.text for chunk in chunks) == draft.output  # the watcher saw the same
    assert model.written[-1] == "So"  # the model was stopped at the word after the end
    assert model.closed == 2
    assert draft.usage.completion_tokens > 0


def test_no_sentence_limit_leaves_the_revision_whole(make) -> None:  # type: ignore[no-untyped-def]
    kind = TaskKind(name="reply", template="Answer {customer}.", revise_from="request")
    model = Streaming("Hi Ana. Thanks.", "Hi Ana. Thanks for writing. We are on it.")
    engine = make(model, kind)
    task_id = revised(engine, "Mention the phone line.")
    assert engine.detail(task_id).drafts[-1].output == "Hi Ana. Thanks for writing. We are on it."


def test_a_quoted_opening_is_asked_as_the_start_of_every_candidate(make) -> None:  # type: ignore[no-untyped-def]
    model = Scripted("Hi.", "a", "b", "According to the policy, yes.")
    engine = make(model)
    task_id = revised(engine, "Start the answer with 'According to the policy,'.")
    opening = {"role": "assistant", "content": "According to the policy,"}
    assert all(request.messages[-1] == opening for request in model.requests[1:])
    assert model.requests[0].messages[-1]["role"] == "user"  # the first draft was not asked
    saved = engine.detail(task_id).drafts[-1]
    assert saved.output == "According to the policy, yes."
    assert saved.messages[-1] == opening  # kept with the draft: it writes the draft again


def test_a_kinds_opening_starts_the_first_draft(make) -> None:  # type: ignore[no-untyped-def]
    from placet.testing import FakeProvider

    kind = TaskKind(name="reply", template="Answer {customer}.", opening="Dear {customer},")
    engine = make(FakeProvider(), kind)  # type: ignore[arg-type]
    task = engine.submit("reply", {"customer": "Ana"}, "desk", claim_as="w")
    draft = engine.detail(engine.draft(task, "w").id).drafts[0]
    assert draft.output.startswith("Dear Ana, Draft 1: Answer Ana.")
    assert draft.messages[-1] == {"role": "assistant", "content": "Dear Ana,"}


def test_a_kind_that_quotes_from_an_input_asks_for_its_sentences_in_every_draft(make) -> None:  # type: ignore[no-untyped-def]
    kind = TaskKind(
        name="reply", template="Policy: {customer}", quote_from="customer", revise_from="request"
    )
    model = Scripted("first", "second")
    engine = make(model, kind)
    task = engine.submit("reply", {"customer": "Be kind to all. Reply within a day."}, "d",
                         claim_as="w")  # fmt: skip
    task = engine.draft(task, "w")
    engine.decide(DecisionRequest(task.id, DecisionKind.REVISE, REVIEWER,
                                  draft_id=task.current_draft_id, feedback="Shorter."))  # fmt: skip
    claimed = engine.claim("w", task.id)
    assert claimed is not None
    engine.draft(claimed, "w")
    sentences = ("Be kind to all", "Reply within a day")
    assert [request.quotable for request in model.requests] == [sentences, sentences]
