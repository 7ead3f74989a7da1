"""Drafting a claimed task: its prompt, the model's answer, and the lease while it is written;
mixed into ``Engine``, which saves the draft (``_save_draft``) as one change.

A draft that cannot be made fails the task with the reason, or hands it back
(paused, interrupted); either way the attempt is undone, so nothing is left
half-drafted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from placet.domain import choice, lessons, quotes, revisions, typed
from placet.domain.examples import CopyOf, copy_of
from placet.domain.fastinit import one_step_init
from placet.domain.ids import new_seed
from placet.domain.learning import Learned
from placet.domain.models import JsonObject, Task, TaskKind, Usage
from placet.domain.prompts import build_messages
from placet.domain.transitions import Action
from placet.engine.candidates import Choose, generate_best
from placet.engine.parts import EngineParts
from placet.engine.typed_drafts import generate_typed
from placet.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    PausedError,
    PlacetError,
    ProviderError,
    UnknownKindError,
)
from placet.providers.base import Chunk, CompletionRequest, Provider

if TYPE_CHECKING:
    pass

ChunkSink = Callable[[Chunk], None]
# Why a draft could not be made, as Engine.draft raises it once the task is failed.
DRAFT_FAILURES = (ProviderError, ConfigError, UnknownKindError, InvalidInputError)
PAUSE_LOOK_SECONDS = 0.25  # how often a draft being written looks for a pause


@one_step_init
@dataclass(frozen=True)
class MadeDraft:
    """A generated (or caller-made) draft before it is saved."""

    provider: str
    model: str
    messages: list[dict[str, str]]
    text: str
    usage: Usage
    latency_ms: float
    seed: int | None = None
    lessons: str | None = None  # the version of the lesson set the prompt carried
    examples: tuple[str, ...] = ()  # the approved tasks put into the prompt as examples
    candidates: int = 1  # drafts sampled to choose this one from (engine/candidates.py)
    copies: CopyOf | None = None  # an example it repeats nearly word for word


class Drafting(EngineParts):
    """Making drafts; mixed into ``Engine``."""

    def draft(self, task: Task, worker: str, on_chunk: ChunkSink | None = None) -> Task:
        """Generate the next draft of a claimed task and save it for review.

        A draft that cannot be made (the model is down, or cannot be used as
        configured: a missing model file, a kind no longer in placet.toml)
        fails the task with the reason, for ``placet retry`` once it is fixed,
        and raises: handing it back to the queue would have it claimed and
        fail again at once, forever.
        """
        started = time.monotonic()
        try:
            kind = self.kind(task.kind)
            previous = self._previous_output(task)
            learned = self.learned_for(kind, task)
            messages = build_messages(kind, task.input, previous, task.pending_feedback, learned)
            model = self.settings.model_for(kind)
            provider = self.provider(model)
            schema = typed.draft_schema(kind)
            if schema is not None:  # a typed kind: the model is told the object's shape
                messages = typed.with_instruction(kind, messages)
            # A new seed for every attempt: asking again gives another draft, and
            # the seed kept with the draft lets a local model write it again.
            request = CompletionRequest(
                messages,
                kind.max_tokens,
                kind.temperature,
                new_seed(),
                kind.stop,
                schema,
                _quotable(kind, task),
            )
            generate = partial(
                self._generate,
                task,
                worker,
                provider,
                on_chunk=on_chunk,
                max_sentences=_sentence_limit(task, previous),
            )
            candidates = _candidates(kind, previous) if schema is None else 1
            if candidates > 1:
                text, usage, request = generate_best(
                    generate,
                    request,
                    candidates,
                    _chooser(kind, task, previous),
                    partial(_restart_stream, on_chunk),
                    _plain_messages(kind, task, previous, learned),
                )
            elif schema is None:
                text, usage = generate(request)
            else:
                text, usage, request = generate_typed(generate, request)
            learner = lessons.learner_of(kind.name)
            if learner is not None:  # a proposal: new lessons only, one per line
                text = lessons.proposal_text(text, self.learning.active_lessons(learner))
        except DRAFT_FAILURES as exc:
            self._fail(task, worker, exc)
            raise
        except PausedError as exc:  # handed back, drafted again after placet resume
            self._release(task, worker, exc.message)
            raise
        except BaseException:
            self._release(task, worker, "drafting was interrupted")
            raise
        latency_ms = (time.monotonic() - started) * 1000
        used = tuple(example.task_id for example in learned.examples)
        made = MadeDraft(
            provider.name,
            model,
            request.messages,  # those of the candidate chosen, when several were written
            text,
            usage,
            latency_ms,
            request.seed,
            learned.version,
            used,
            candidates,
            copy_of(text, [(e.task_id, e.output) for e in learned.examples]),
        )
        return self._save_draft(task, worker, made)

    def learned_for(self, kind: TaskKind, task: Task) -> Learned:
        """What the kind learned that goes into this task's prompt: its active lessons
        (approved by people) and the approved work most like this task."""
        taught = self.learning.active_lessons(kind.name)
        return Learned(taught, self.learning.examples_for(kind, task))

    def _previous_output(self, task: Task) -> str | None:
        if task.current_draft_id is None or task.pending_feedback is None:
            return None
        return self.store.get_draft(task.current_draft_id).output

    def _generate(
        self,
        task: Task,
        worker: str,
        provider: Provider,
        request: CompletionRequest,
        on_chunk: ChunkSink | None = None,
        max_sentences: int | None = None,
    ) -> tuple[str, Usage]:
        """The model's answer to one request, streamed to ``on_chunk``; it ends at the
        ``max_sentences``-th sentence when the reviewer set such a limit."""
        self.controls.check(task.kind, f"drafting {task.id}")
        stream = provider.stream(request)
        try:
            text, usage = self._read_stream(task, worker, stream, on_chunk, max_sentences)
        finally:  # left early (a sentence limit): the model stops, and frees its lock
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        # A NUL from a model is noise, and PostgreSQL cannot store it in text.
        return text.replace("\x00", "\ufffd"), usage

    def _read_stream(
        self,
        task: Task,
        worker: str,
        stream: Iterator[Chunk],
        on_chunk: ChunkSink | None,
        max_sentences: int | None,
    ) -> tuple[str, Usage]:
        parts: list[str] = []
        usage = None
        started = time.monotonic()
        renew_at, look_at = started + self.settings.lease_seconds / 3, started + PAUSE_LOOK_SECONDS
        for pieces, chunk in enumerate(stream, start=1):
            if chunk.restart:
                parts.clear()
            cut = _cut(parts, chunk, max_sentences)
            parts.append(cut.text)
            usage = chunk.usage or usage
            if on_chunk is not None:
                on_chunk(cut)
            if cut is not chunk:  # the limit is reached: the model need write no more
                usage = usage or Usage(completion_tokens=pieces)
                break
            now = time.monotonic()
            if now >= look_at:  # a pause stops a draft being written, within a second
                self.controls.check(task.kind, f"drafting {task.id}")
                look_at = now + PAUSE_LOOK_SECONDS
            if now >= renew_at:  # a long draft keeps its lease alive
                self._renew_lease(task, worker)
                renew_at = time.monotonic() + self.settings.lease_seconds / 3
        return "".join(parts), usage or Usage()

    def _renew_lease(self, task: Task, worker: str) -> None:
        until = self._clock() + self.settings.lease_seconds
        if not self.store.extend_lease(task.id, worker, until):
            raise ConflictError(f"task {task.id}: the drafting lease was lost to another worker")

    def _fail(self, task: Task, worker: str, error: PlacetError) -> None:
        self._end_drafting(task, worker, Action.FAIL, {"worker": worker, "error": error.message})

    def _release(self, task: Task, worker: str, reason: str) -> None:
        self._end_drafting(task, worker, Action.RELEASE, {"worker": worker, "reason": reason})

    def _end_drafting(self, task: Task, worker: str, action: Action, payload: JsonObject) -> None:
        """End a drafting lease without a draft (failed, or handed back): the attempt is undone."""
        change = self._change(
            task,
            action,
            worker,
            payload,
            self._clock(),
            attempt=task.attempt - 1,
            lease_owner=None,
            lease_expires_at=None,
        )
        self._apply_quietly(change)

    def release(self, task: Task, worker: str, reason: str) -> None:
        """Hand a claimed task back to the queue without a draft."""
        self._release(task, worker, reason)


def _candidates(kind: TaskKind, previous: str | None) -> int:
    """How many drafts to sample for this attempt (a revision, or a first draft)."""
    return kind.draft_candidates if previous is None else kind.revision_candidates


def _quotable(kind: TaskKind, task: Task) -> tuple[str, ...]:
    """The sentences a draft of the kind may quote: those of its ``quote_from`` input."""
    if not kind.quote_from:
        return ()
    return quotes.quotable(str(task.input.get(kind.quote_from, "")))


def _sentence_limit(task: Task, previous: str | None) -> int | None:
    """The most sentences a revision may have, when the reviewer said ("in one sentence")."""
    if previous is None or not task.pending_feedback:
        return None
    return revisions.read_feedback(task.pending_feedback).max_sentences


def _cut(parts: list[str], chunk: Chunk, max_sentences: int | None) -> Chunk:
    """The chunk, or the part of it before the end of the last sentence allowed.

    Stopping the model there, rather than choosing among answers that happen to be
    short enough, is what makes a small model keep to a limit it was told:
    "Answer in one sentence" was kept 2 times in 10 with three candidates to choose
    from (BENCHMARKS §15).
    """
    if max_sentences is None or not chunk.text:
        return chunk
    before = "".join(parts)
    kept = revisions.cut_after_sentences(before + chunk.text, max_sentences)
    if kept is None:
        return chunk
    return Chunk(kept[len(before) :], restart=chunk.restart, note=chunk.note)


def _chooser(kind: TaskKind, task: Task, previous: str | None) -> Choose:
    """How the draft is chosen among candidates (``domain.choice``): a revision by what it
    shows of the feedback too, a kind that quotes an input by what its quotation bears on."""
    feedback = (task.pending_feedback or "") if previous is not None else None
    return partial(choice.best, reading=choice.reading_for(kind, task.input, feedback))


def _plain_messages(
    kind: TaskKind, task: Task, previous: str | None, learned: Learned
) -> list[dict[str, str]] | None:
    """A revision's last candidate is asked without the kind's worked examples: a small
    model copies an example's shape over feedback that asks for another."""
    if previous is None or not kind.examples:
        return None
    bare = replace(kind, examples=())
    return build_messages(bare, task.input, previous, task.pending_feedback, learned)


def _restart_stream(on_chunk: ChunkSink | None, text: str, note: str) -> None:
    """Tell whoever watches the draft being written to drop it and show ``text``."""
    if on_chunk is not None:
        on_chunk(Chunk(text, restart=True, note=note))
