"""The Provider port: turn chat messages into text, streamed or whole."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from placet.domain.fastinit import one_step_init
from placet.domain.models import Usage


@one_step_init
@dataclass(frozen=True)
class CompletionRequest:
    """What to ask a model.

    ``seed`` makes sampling repeatable: a local model given the same request
    and seed writes the same answer; an OpenAI-compatible server is asked to
    (best effort, as its API says). None lets the provider choose.
    ``stop``: the model stops before the first of these it would write (they
    are not part of the answer).
    ``json_schema``: the answer must be a JSON value this schema accepts; the
    provider constrains generation to it where it can (a grammar on llama.cpp,
    ``response_format`` on OpenAI-compatible servers). The caller still
    validates the answer: not every server honours a schema.
    A last message from the assistant is the opening of the answer
    (``split_opening``): a provider that can write on from it does so, and the
    answer starts with it; one that cannot asks for it in the prompt instead
    (``opening_as_instruction``).
    ``quotable``: when not empty, whatever the answer puts in double quotes must
    be one of these sentences word for word (``domain.quotes``); a provider that
    can constrain generation holds it to them (a grammar on llama.cpp), and the
    engine's choice among candidates counts a quotation not among them against
    a draft everywhere.
    """

    messages: list[dict[str, str]]
    max_tokens: int = 512
    temperature: float = 0.7
    seed: int | None = None
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None
    quotable: tuple[str, ...] = ()


@one_step_init
@dataclass(frozen=True)
class Chunk:
    """A piece of a streamed answer.

    ``restart`` tells the consumer to drop what it has so far: the provider
    lost the stream part-way and is starting the answer again, or the engine
    writes another candidate or shows the one it chose (``note`` says which).
    ``usage`` comes on the last chunk when the provider reports it.
    """

    text: str = ""
    usage: Usage | None = None
    restart: bool = False
    note: str = ""  # why a restart, for a person watching; empty: the stream broke off


@one_step_init
@dataclass(frozen=True)
class Completion:
    """A whole answer."""

    text: str
    usage: Usage = field(default_factory=Usage)


class Provider(Protocol):
    """A language model Placet can draft with."""

    @property
    def name(self) -> str:
        """The full name, such as ``groq:llama-3.3-70b-versatile``."""
        ...

    def complete(self, request: CompletionRequest) -> Completion:
        """Generate a whole answer."""
        ...

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """Generate an answer a piece at a time."""
        ...


def collect(chunks: Iterator[Chunk]) -> Completion:
    """Join a stream into one completion, honouring restarts."""
    parts: list[str] = []
    usage = Usage()
    for chunk in chunks:
        if chunk.restart:
            parts.clear()
        parts.append(chunk.text)
        if chunk.usage is not None:
            usage = chunk.usage
    return Completion("".join(parts), usage)


def split_opening(messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    """The messages before the answer's opening, and the opening (a last assistant
    turn: the words the answer starts with; empty when the last turn is another's)."""
    if messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, ""


def opening_as_instruction(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The messages for a model that cannot be made to write on from an opening (a chat
    API answers a last assistant turn with a turn of its own): the opening is asked for
    at the end of the last request instead."""
    head, opening = split_opening(messages)
    if not opening or not head or head[-1]["role"] != "user":
        return head
    asked = f"{head[-1]['content']}\n\nStart your answer with exactly these words: {opening}"
    return [*head[:-1], {**head[-1], "content": asked}]
