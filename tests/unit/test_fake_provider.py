"""The test twin for an LLM: deterministic, and it keeps only recent requests."""

from __future__ import annotations

from placet.providers.base import CompletionRequest
from placet.testing import REQUESTS_KEPT, FakeProvider, fake_text


def ask(text: str) -> CompletionRequest:
    return CompletionRequest([{"role": "user", "content": text}])


def test_the_answer_is_the_same_for_the_same_request() -> None:
    provider = FakeProvider()
    first = provider.complete(ask("Write to Rahul"))
    again = provider.complete(ask("Write to Rahul"))
    assert first.text == again.text == fake_text(ask("Write to Rahul"))


def test_a_long_run_keeps_only_the_most_recent_requests() -> None:
    provider = FakeProvider()
    for index in range(REQUESTS_KEPT + 5):
        provider.complete(ask(f"request {index}"))
    assert len(provider.requests) == REQUESTS_KEPT
    assert provider.requests[0].messages[0]["content"] == "request 5"
    assert provider.requests[-1].messages[0]["content"] == f"request {REQUESTS_KEPT + 4}"
