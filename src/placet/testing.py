"""Test twins for Placet's extension points. Never a default outside tests."""

from __future__ import annotations

import collections
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from placet.domain.decisions import DecisionRequest
from placet.domain.models import DecisionKind, Task, Usage
from placet.domain.policy import Principal, Role
from placet.errors import ProviderError
from placet.providers.base import Chunk, Completion, CompletionRequest, collect, split_opening
from placet.store.sql import SqlStore

if TYPE_CHECKING:
    from placet.engine import Engine

# A test reads the last request or two. A long run (a benchmark, a demo
# server) must not keep every request it ever made: the log grew by a few
# objects per draft, and those survivors alone set off Python's cyclic garbage
# collector every couple of hundred drafts (~4% of a lifecycle item).
REQUESTS_KEPT = 100


class FakeProvider:
    """Deterministic drafts: the same request always gives the same text.

    The draft names its attempt and quotes the last user turn, so tests can
    see that revision feedback reached the model. ``fail_with`` makes every
    call raise, to test how failures are handled. ``requests`` holds the last
    ``REQUESTS_KEPT`` requests, newest last.
    """

    def __init__(self, name: str = "fake:echo", fail_with: ProviderError | None = None) -> None:
        self._name = name
        self.fail_with = fail_with
        self.requests: collections.deque[CompletionRequest] = collections.deque(
            maxlen=REQUESTS_KEPT
        )

    @property
    def name(self) -> str:
        """The provider's full name."""
        return self._name

    def complete(self, request: CompletionRequest) -> Completion:
        """The whole fake answer."""
        return collect(self.stream(request))

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """The fake answer, a word at a time."""
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        text = fake_text(request)
        words = text.split(" ")
        for index, word in enumerate(words):
            yield Chunk(word if index == 0 else " " + word)
        yield Chunk(usage=Usage(sum(len(m["content"]) for m in request.messages), len(words)))


class FakeSupervisor:
    """A supervisor's model for engine tests: answers the checks put to it (the JSON the
    request's schema asks for), failing each check whose text ``fails`` says fails on the
    draft. ``answers`` replaces the answers with these texts, one per call (garbage, say).
    Asked to draft (a request with no schema), it drafts as FakeProvider does."""

    def __init__(
        self,
        fails: Callable[[str, str], bool] = lambda _check, _draft: False,
        risk: int = 10,
        answers: Iterable[str] = (),
        name: str = "fake:supervisor",
    ) -> None:
        self._name = name
        self._fails = fails
        self._risk = risk
        self._answers = list(answers)
        self.requests: collections.deque[CompletionRequest] = collections.deque(
            maxlen=REQUESTS_KEPT
        )

    @property
    def name(self) -> str:
        """The provider's full name."""
        return self._name

    def complete(self, request: CompletionRequest) -> Completion:
        """The answer to the checks in the request."""
        self.requests.append(request)
        if request.json_schema is None:  # asked to draft, not to check: as FakeProvider
            return Completion(fake_text(request))
        if self._answers:
            return Completion(self._answers.pop(0))
        prompt = request.messages[-1]["content"]
        draft = prompt.split("<<<\n", 1)[-1].rsplit("\n>>>", 1)[0]
        entries = request.json_schema["properties"]["checks"]["properties"]
        answer = {}
        for number, entry in entries.items():
            check = entry["properties"]["check"]["enum"][0]
            failed = self._fails(check, draft)
            answer[number] = {"check": check, "evidence": draft[:40], "pass": not failed}
        summary = "fails a check" if any(not a["pass"] for a in answer.values()) else "fine"
        return Completion(json.dumps({"checks": answer, "risk": self._risk, "summary": summary}))

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """The same answer, whole."""
        yield Chunk(self.complete(request).text)


def fake_text(request: CompletionRequest) -> str:
    """What FakeProvider answers to a request: after the opening, when it has one."""
    messages, opening = split_opening(request.messages)
    turns = sum(1 for message in messages if message["role"] == "assistant") + 1
    last = messages[-1]["content"].splitlines()[0][:80]
    return f"{opening} Draft {turns}: {last}" if opening else f"Draft {turns}: {last}"


class FakeTypedProvider(FakeProvider):
    """FakeProvider for typed kinds: asked for an object (a request with a JSON Schema), it
    answers ``answers`` first, one per call (hostile or broken output, say), then the
    simplest object the schema accepts (``fake_object``). Without a schema, as FakeProvider."""

    def __init__(self, answers: Iterable[str] = (), name: str = "fake:typed") -> None:
        super().__init__(name)
        self.answers = list(answers)

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """The scripted answer, or the fake object, whole."""
        if request.json_schema is None:
            yield from super().stream(request)
            return
        self.requests.append(request)
        text = self.answers.pop(0) if self.answers else json.dumps(fake_object(request))
        yield Chunk(text)
        yield Chunk(usage=Usage(sum(len(m["content"]) for m in request.messages), len(text)))


def fake_object(request: CompletionRequest) -> object:
    """The simplest value the request's schema accepts: the first of a list of values, a
    "Draft N" text, zero, false, one item of a list, every property of an object."""
    return _fake_value(request.json_schema or {}, fake_text(request))


def _fake_value(schema: dict[str, object], text: str) -> object:
    enum = schema.get("enum") or schema.get("oneOf")
    if isinstance(enum, list) and enum:
        first = enum[0]
        return _fake_value(first, text) if isinstance(first, dict) else first
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties") or {}
        assert isinstance(properties, dict)
        return {name: _fake_value(sub, text) for name, sub in properties.items()}
    if kind == "array":
        items = schema.get("items") or {}
        assert isinstance(items, dict)
        return [_fake_value(items, text)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return text[: int(str(schema.get("maxLength", 80)))]


def temp_store(directory: Path | None = None) -> SqlStore:
    """A store on a fresh SQLite file in a temporary folder."""
    folder = Path(directory or tempfile.mkdtemp(prefix="placet-"))
    return SqlStore(f"sqlite:///{folder / 'placet.db'}")


def person(name: str, *roles: Role, channel: str = "test") -> Principal:
    """A principal for engine tests: a reviewer unless other roles are named."""
    return Principal(name, frozenset(roles or (Role.REVIEWER,)), channel)


class MemoryChannel:
    """The Channel twin: keeps what it was asked to publish, and answers as a given person.

    ``answer`` does what every real channel does with a person's action: it
    builds a decision request carrying the identity the channel established
    and hands it to the engine, which checks the kind's policy.
    """

    name = "memory"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.published: list[Task] = []
        self.running = False

    def start(self) -> None:
        """Nothing to follow in memory; marks the channel as running."""
        self.running = True

    def stop(self) -> None:
        """Marks the channel as stopped."""
        self.running = False

    def publish(self, task: Task) -> Task:
        """Keep the task as shown."""
        self.published.append(task)
        return task

    def answer(
        self,
        task_id: str,
        kind: DecisionKind,
        principal: Principal,
        text: str | None = None,
        feedback: str | None = None,
        reason: str | None = None,
    ) -> Task:
        """Decide for ``principal`` through the engine, as a person answering here would."""
        who = replace(principal, channel=self.name)
        request = DecisionRequest(task_id, kind, who, text=text, feedback=feedback, reason=reason)
        return self.engine.decide(request)
