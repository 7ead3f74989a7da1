"""What drafts in bench/learning.py: repeatable seeds, replayed answers, the smoke run's fake.

``Seeds`` stands in for the engine's seed source (``seeded``), so every arm of
the bench draws the same seed for the same task and attempt; ``Replay`` answers a
request the model was already given in this run from memory; ``RuleFollower``
is the ``--smoke`` run's model, a ``placet.testing.FakeProvider`` that follows
the rules it finds in its prompt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Iterator

import common  # noqa: F401  (Placet's src/ first on sys.path, as in every bench)
import learning_reviewer as reviewer

from placet.domain import lessons
from placet.providers.base import Chunk, Completion, CompletionRequest, Provider, collect
from placet.testing import FakeProvider

# -- repeatable seeds --------------------------------------------------------------------


class Seeds:
    """The engine's seed source in this bench: a seed derived from the run seed and what
    is drafted (``plan("task", 3, 2)``: the third task's second attempt)."""

    def __init__(self, run_seed: int) -> None:
        self.run_seed = run_seed
        self.what = "unplanned"

    def plan(self, *what: object) -> int:
        """Name the next generation; its seed."""
        self.what = ":".join(str(part) for part in what)
        return self()

    def __call__(self) -> int:
        digest = hashlib.sha256(f"{self.run_seed}:{self.what}".encode()).digest()
        return int.from_bytes(digest[:4], "big") >> 1  # 31 bits, as new_seed


@contextlib.contextmanager
def seeded(seeds: Seeds) -> Iterator[None]:
    """The engine draws its seeds from ``seeds`` (it imported ``new_seed`` by name)."""
    import placet.engine.drafting as drafting

    saved = drafting.new_seed
    drafting.new_seed = seeds
    try:
        yield
    finally:
        drafting.new_seed = saved


# -- providers -----------------------------------------------------------------------------


_REPLIES: dict[str, Completion] = {}  # every answer the model gave in this run, by request


class Replay:
    """A provider that answers a request it was given before in this run from memory."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.calls = self.replayed = 0
        self.model_seconds = 0.0

    @property
    def name(self) -> str:
        """The wrapped provider's name."""
        return self.inner.name

    def complete(self, request: CompletionRequest) -> Completion:
        """The model's answer, from memory when it was given before."""
        key = json.dumps([self.name, dataclasses.asdict(request)], sort_keys=True)
        self.calls += 1
        if key in _REPLIES:
            self.replayed += 1
            return _REPLIES[key]
        started = time.monotonic()
        answer = self.inner.complete(request)
        self.model_seconds += time.monotonic() - started
        _REPLIES[key] = answer
        return answer

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """The answer in one piece."""
        answer = self.complete(request)
        yield Chunk(answer.text)
        yield Chunk(usage=answer.usage)


class RuleFollower(FakeProvider):
    """The smoke run's model (no model): a reply that breaks each rule it was not told
    about with a seed-drawn chance, and keeps every rule it finds in its prompt (lessons
    or a revision's requirement); asked for lessons, it lists the feedback it was shown,
    plus one wrong line and one beside the point, for the reviewer to edit out."""

    def __init__(self) -> None:
        super().__init__("fake:rule-follower")

    def complete(self, request: CompletionRequest) -> Completion:
        """The whole answer."""
        return collect(self.stream(request))

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """The answer in one piece."""
        self.requests.append(request)
        if request.messages[0]["content"] == lessons.SYSTEM:
            yield Chunk(self._lessons(request.messages[-1]["content"]))
        else:
            yield Chunk(self._reply(request))

    @staticmethod
    def _lessons(asked: str) -> str:
        said = re.findall(r"^- (?:asked for a revision|rejected): (.+)$", asked, re.MULTILINE)
        lines = [*dict.fromkeys(said), "Sign every reply as 'Sam'", "Be friendly"]
        return "\n".join(lines)

    @staticmethod
    def _reply(request: CompletionRequest) -> str:
        prompt = "\n".join(m["content"] for m in request.messages).lower()
        name = re.search(r"customer (\w+) wrote", prompt)
        told = {
            "signed": "support team" in prompt,
            "email": reviewer.ADDRESS in prompt,
            "length": f"{reviewer.MAX_WORDS} words" in prompt,
            "no_dear": "dear" in prompt,
        }
        seed = request.seed or 0
        keeps = {rule: told[rule] or (seed >> (2 * i)) & 3 == 0 for i, rule in enumerate(told)}
        greeting = "Hi" if keeps["no_dear"] else "Dear"
        body = "Thank you for writing. " * (6 if keeps["length"] else 40)
        address = f"Write to {reviewer.ADDRESS} any time. " if keeps["email"] else ""
        signature = reviewer.SIGNATURE if keeps["signed"] else "Sam"
        customer = name.group(1).title() if name else "there"
        return f"{greeting} {customer},\n\n{body}{address}\n\nBest regards,\n{signature}"
