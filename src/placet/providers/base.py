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
    """

    messages: list[dict[str, str]]
    max_tokens: int = 512
    temperature: float = 0.7
    seed: int | None = None
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None


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
