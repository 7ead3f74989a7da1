"""The OpenAI-compatible provider against a fault-injecting server and a real llama.cpp server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import openai
import pytest

from placet.domain.models import Usage
from placet.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRequestTooLargeError,
    ProviderUnavailableError,
)
from placet.providers.base import Chunk, CompletionRequest, collect
from placet.providers.openai_compat import OpenAICompatibleProvider
from tests.integration.fault_server import (
    FaultServer,
    context_length_exceeded,
    error,
    free_port,
    hang,
    json_answer,
    pieces,
    rate_limited,
    reject_stream_options,
    server_error,
    stream,
    stream_error_event,
    stream_garbage,
    stream_then_drop,
    stream_then_hang,
    too_large,
    unauthorized,
)

API_KEY = "gsk_test_secret_key_0123456789"
TEXT = "Dear Rahul, welcome aboard. We are glad you joined the team."
REQUEST = CompletionRequest(
    messages=[
        {"role": "system", "content": "You write short emails."},
        {"role": "user", "content": "Welcome Rahul."},
    ],
    max_tokens=64,
)
PROMPT_WORDS = 6  # the fault server counts words as tokens

MakeProvider = Callable[..., OpenAICompatibleProvider]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        yield fault_server


@pytest.fixture
def make_provider(server: FaultServer) -> Iterator[MakeProvider]:
    """Providers pointed at the fault server, with fast retries; closed after the test."""
    made: list[OpenAICompatibleProvider] = []

    def make(vendor: str = "groq", **overrides: Any) -> OpenAICompatibleProvider:
        options: dict[str, Any] = {
            "base_url": server.base_url,
            "api_key": API_KEY,
            "timeout": 5.0,
            "max_attempts": 3,
            "base_delay": 0.01,
        }
        options.update(overrides)
        provider = OpenAICompatibleProvider(vendor, "test-model", **options)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def texts(chunks: list[Chunk]) -> list[str]:
    return [chunk.text for chunk in chunks if chunk.text]


def restarts(chunks: list[Chunk]) -> int:
    return sum(chunk.restart for chunk in chunks)


# --- the happy paths ----------------------------------------------------------


def test_name_is_vendor_and_model(make_provider: MakeProvider) -> None:
    assert make_provider("groq").name == "groq:test-model"


def test_stream_yields_pieces_in_order_then_usage(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream(TEXT))
    chunks = list(make_provider().stream(REQUEST))

    assert texts(chunks) == pieces(TEXT)
    assert chunks[-1].usage == Usage(PROMPT_WORDS, len(pieces(TEXT)))
    assert restarts(chunks) == 0
    [sent] = server.requests
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.body["model"] == "test-model"
    assert sent.body["messages"] == REQUEST.messages
    assert sent.body["max_tokens"] == 64
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}


def test_complete_makes_one_non_streaming_request(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(json_answer(TEXT))
    completion = make_provider().complete(REQUEST)

    assert completion.text == TEXT
    assert completion.usage == Usage(PROMPT_WORDS, len(pieces(TEXT)))
    [sent] = server.requests
    assert not sent.streaming


def test_an_opening_is_asked_for_in_the_request_not_sent_as_a_turn_to_answer(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    # A chat API answers a last assistant turn with a turn of its own: the opening
    # goes into the last request instead, and no assistant turn ends the messages.
    opening = {"role": "assistant", "content": "According to the policy,"}
    server.push(stream(TEXT))
    list(make_provider().stream(replace(REQUEST, messages=[*REQUEST.messages, opening])))
    [sent] = server.requests
    assert sent.body["messages"][:-1] == REQUEST.messages[:-1]
    last = sent.body["messages"][-1]
    assert last["role"] == "user"
    assert last["content"] == (
        f"{REQUEST.messages[-1]['content']}\n\n"
        "Start your answer with exactly these words: According to the policy,"
    )


def test_server_that_ignores_include_usage_gives_text_without_usage(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream(TEXT, usage=False))
    chunks = list(make_provider().stream(REQUEST))

    assert "".join(texts(chunks)) == TEXT
    assert all(chunk.usage is None for chunk in chunks)


def test_server_that_rejects_stream_options_is_asked_again_without_them(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(reject_stream_options(), reject_stream_options())
    provider = make_provider()

    assert collect(provider.stream(REQUEST)).text == "Hello from the fault server."
    assert collect(provider.stream(REQUEST)).text == "Hello from the fault server."
    sent = server.requests
    # One rejected request, then no more stream_options for this provider.
    assert ["stream_options" in request.body for request in sent] == [True, False, False]


# --- retried failures ---------------------------------------------------------


def test_rate_limit_is_retried_then_succeeds(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(rate_limited("0"), times=2)
    server.push(stream(TEXT))
    chunks = list(make_provider().stream(REQUEST))

    assert collect(iter(chunks)).text == TEXT
    assert restarts(chunks) == 0
    assert len(server.requests) == 3


def test_retry_after_seconds_is_honoured(server: FaultServer, make_provider: MakeProvider) -> None:
    server.push(rate_limited("1"), stream(TEXT))
    assert collect(make_provider(base_delay=0.001).stream(REQUEST)).text == TEXT

    [waited] = server.gaps()
    assert waited >= 0.9  # backoff alone would have waited about a millisecond


def test_retry_after_ms_is_honoured(server: FaultServer, make_provider: MakeProvider) -> None:
    server.push(rate_limited(None, retry_after_ms="400"), stream(TEXT))
    assert collect(make_provider(base_delay=0.001).stream(REQUEST)).text == TEXT

    [waited] = server.gaps()
    assert waited >= 0.35


def test_retry_after_is_used_as_the_delay(server: FaultServer, make_provider: MakeProvider) -> None:
    slept: list[float] = []
    server.push(rate_limited("2.5"), rate_limited(None, retry_after_ms="1500"), json_answer(TEXT))
    make_provider(sleep=slept.append).complete(REQUEST)

    assert slept == [2.5, 1.5]


def test_retry_after_longer_than_the_cap_fails_at_once(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(rate_limited("3600"))
    with pytest.raises(ProviderUnavailableError, match="3600 s"):
        make_provider(max_retry_after=30.0).complete(REQUEST)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_succeed(
    server: FaultServer, make_provider: MakeProvider, status: int
) -> None:
    server.push(server_error(status), stream(TEXT))
    chunks = list(make_provider().stream(REQUEST))

    assert collect(iter(chunks)).text == TEXT
    assert restarts(chunks) == 0  # nothing was shown before the failure
    assert len(server.requests) == 2


def test_complete_is_retried_too(server: FaultServer, make_provider: MakeProvider) -> None:
    server.push(server_error(503), json_answer(TEXT))
    assert make_provider().complete(REQUEST).text == TEXT
    assert len(server.requests) == 2


def test_backoff_grows_exponentially_with_jitter(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    slept: list[float] = []
    server.push(server_error(500), times=4)
    server.push(json_answer(TEXT))
    make_provider(max_attempts=5, base_delay=0.1, sleep=slept.append).complete(REQUEST)

    assert len(slept) == 4
    for attempt, delay in enumerate(slept):
        ceiling = 0.1 * 2**attempt
        assert ceiling / 2 <= delay <= ceiling


def test_timeout_is_retried(server: FaultServer, make_provider: MakeProvider) -> None:
    server.push(hang(10), stream(TEXT))
    assert collect(make_provider(timeout=0.3).stream(REQUEST)).text == TEXT
    assert len(server.requests) == 2


def test_retries_exhausted_name_the_server_and_the_last_error(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(server_error(500), times=3)
    with pytest.raises(ProviderUnavailableError) as caught:
        collect(make_provider(max_attempts=3).stream(REQUEST))

    assert server.base_url in caught.value.message
    assert "HTTP 500" in caught.value.message
    assert "failed on purpose" in caught.value.message
    assert isinstance(caught.value.__cause__, openai.APIStatusError)
    assert len(server.requests) == 3


def test_timeouts_exhausted_say_so(server: FaultServer, make_provider: MakeProvider) -> None:
    server.push(hang(10), times=2)
    with pytest.raises(ProviderUnavailableError, match=r"no answer within 0\.3 s"):
        make_provider(timeout=0.3, max_attempts=2).complete(REQUEST)
    assert len(server.requests) == 2


def test_connection_refused_gives_unavailable(make_provider: MakeProvider) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ProviderUnavailableError) as caught:
        collect(make_provider(base_url=base_url).stream(REQUEST))
    assert base_url in caught.value.message
    assert "connection failed" in caught.value.message


# --- cut-off streams ----------------------------------------------------------


def test_dropped_stream_restarts_from_the_start(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream_then_drop(TEXT, after=3), stream(TEXT))
    chunks = list(make_provider().stream(REQUEST))

    [restart_at] = [i for i, chunk in enumerate(chunks) if chunk.restart]
    assert texts(chunks[:restart_at]) == pieces(TEXT)[:3]
    assert texts(chunks[restart_at:]) == pieces(TEXT)
    assert collect(iter(chunks)).text == TEXT
    assert len(server.requests) == 2


def test_stream_ending_without_finish_reason_restarts(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream(TEXT, finish=False), stream(TEXT))
    chunks = list(make_provider().stream(REQUEST))

    assert restarts(chunks) == 1
    assert collect(iter(chunks)).text == TEXT
    assert len(server.requests) == 2


def test_stalled_stream_restarts_after_the_timeout(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream_then_hang(TEXT, after=2, seconds=10), stream(TEXT))
    chunks = list(make_provider(timeout=0.3).stream(REQUEST))

    assert restarts(chunks) == 1
    assert collect(iter(chunks)).text == TEXT


def test_stream_dropped_before_any_text_needs_no_restart(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream_then_drop(TEXT, after=0), stream(TEXT))
    chunks = list(make_provider().stream(REQUEST))

    assert restarts(chunks) == 0
    assert texts(chunks) == pieces(TEXT)


def test_restart_is_sent_even_when_the_new_answer_is_empty(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream_then_drop(TEXT, after=2), stream(""))
    chunks = list(make_provider().stream(REQUEST))

    assert restarts(chunks) == 1
    assert collect(iter(chunks)).text == ""


def test_stream_cut_every_time_gives_unavailable(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream_then_drop(TEXT, after=2), times=3)
    with pytest.raises(ProviderUnavailableError, match="connection failed"):
        collect(make_provider(max_attempts=3).stream(REQUEST))
    assert len(server.requests) == 3


# --- failures that are not retried -------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "advice"),
    [
        ("groq", "GROQ_API_KEY"),
        ("openai", "OPENAI_API_KEY"),
        ("ollama", "check the API key configured for ollama"),
    ],
)
@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_fail_at_once_and_say_what_to_do(
    server: FaultServer, make_provider: MakeProvider, vendor: str, advice: str, status: int
) -> None:
    # Some servers echo the key back; it must never reach the message.
    server.push(unauthorized(f"Invalid API Key: {API_KEY}", status=status))
    with pytest.raises(ProviderAuthError) as caught:
        collect(make_provider(vendor).stream(REQUEST))

    assert advice in caught.value.message
    assert f"HTTP {status}" in caught.value.message
    assert API_KEY not in caught.value.message
    assert len(server.requests) == 1


def test_413_fails_at_once_as_too_large(server: FaultServer, make_provider: MakeProvider) -> None:
    server.push(too_large())
    with pytest.raises(ProviderRequestTooLargeError) as caught:
        collect(make_provider().stream(REQUEST))

    assert "groq:test-model" in caught.value.message
    assert "shorten the input" in caught.value.message
    assert "Limit 6000" in caught.value.message
    assert len(server.requests) == 1


def test_context_length_400_fails_at_once_as_too_large(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(context_length_exceeded())
    with pytest.raises(ProviderRequestTooLargeError, match="maximum context length is 2048"):
        make_provider().complete(REQUEST)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [(400, "temperature must be at most 2"), (404, "The model `test-model` does not exist")],
)
def test_other_client_errors_fail_at_once_with_the_server_message(
    server: FaultServer, make_provider: MakeProvider, status: int, message: str
) -> None:
    server.push(error(status, message))
    with pytest.raises(ProviderError) as caught:
        collect(make_provider().stream(REQUEST))

    assert type(caught.value) is ProviderError
    assert message in caught.value.message
    assert f"HTTP {status}" in caught.value.message
    assert isinstance(caught.value.__cause__, openai.APIStatusError)
    assert len(server.requests) == 1


def test_error_event_inside_the_stream_is_a_provider_error(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream_error_event("the model crashed"))
    with pytest.raises(ProviderError, match="the model crashed"):
        collect(make_provider().stream(REQUEST))


def test_malformed_stream_is_a_provider_error(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(stream_garbage())
    with pytest.raises(ProviderError, match="malformed answer"):
        collect(make_provider().stream(REQUEST))
    assert len(server.requests) == 1


def test_abandoned_stream_leaves_the_provider_usable(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    provider = make_provider()
    chunks = provider.stream(REQUEST)
    assert next(iter(chunks)).text
    chunks.close()  # type: ignore[attr-defined]  # a generator, closed part-way

    assert provider.complete(REQUEST).text == "Hello from the fault server."


def test_server_text_is_shown_without_terminal_escapes(
    server: FaultServer, make_provider: MakeProvider
) -> None:
    server.push(error(400, "bad \x1b[31mred\x1b[0m\nsecond line"))
    with pytest.raises(ProviderError) as caught:
        make_provider().complete(REQUEST)
    assert "\x1b" not in caught.value.message
    assert "\n" not in caught.value.message


# --- a real OpenAI-compatible server ------------------------------------------

SHORT_REQUEST = CompletionRequest(
    messages=[{"role": "user", "content": "Write one sentence welcoming Rahul to the team."}],
    max_tokens=16,
    temperature=0.0,
)


@pytest.fixture
def real_provider(llama_server: str) -> Iterator[OpenAICompatibleProvider]:
    with OpenAICompatibleProvider(
        "openai", "smollm2", base_url=llama_server, api_key="none", timeout=60.0
    ) as provider:
        yield provider


@pytest.mark.slow
def test_real_server_streams_an_answer(real_provider: OpenAICompatibleProvider) -> None:
    chunks = list(real_provider.stream(SHORT_REQUEST))

    assert len(texts(chunks)) >= 2
    assert "".join(texts(chunks)).strip()
    assert restarts(chunks) == 0
    # llama_cpp.server ignores stream_options, so a streamed answer carries no
    # usage; if a later version reports it, it must be plausible and come last.
    reported = [chunk.usage for chunk in chunks if chunk.usage is not None]
    assert all(0 < usage.completion_tokens <= 16 for usage in reported)
    if reported:
        assert chunks[-1].usage is not None


@pytest.mark.slow
def test_real_server_completes_with_usage(real_provider: OpenAICompatibleProvider) -> None:
    completion = real_provider.complete(SHORT_REQUEST)

    assert completion.text.strip()
    assert completion.usage.prompt_tokens > 5
    assert 0 < completion.usage.completion_tokens <= 16


@pytest.mark.slow
def test_real_server_rejects_a_prompt_longer_than_its_context(
    real_provider: OpenAICompatibleProvider,
) -> None:
    # Non-streamed: llama_cpp.server answers a streamed request that is too long
    # with an empty 200 stream, which looks like a cut-off stream, not a 400.
    too_long = CompletionRequest(
        messages=[{"role": "user", "content": "welcome aboard " * 1500}], max_tokens=16
    )
    with pytest.raises(ProviderRequestTooLargeError, match="openai:smollm2"):
        real_provider.complete(too_long)


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
    "required": ["verdict"],
    "additionalProperties": False,
}


@pytest.mark.slow
def test_real_server_keeps_an_answer_to_a_json_schema(
    real_provider: OpenAICompatibleProvider,
) -> None:
    # llama_cpp.server refuses structured outputs (response_format json_schema) with a 422;
    # the adapter asks again in JSON mode with the schema, which the server makes a grammar.
    request = CompletionRequest(
        messages=[{"role": "user", "content": "Is the sky green? Answer in JSON."}],
        max_tokens=24,
        temperature=0.7,
        seed=3,
        json_schema=ANSWER_SCHEMA,
    )
    for _ in range(2):  # the second request goes the way the first found
        answer = json.loads(real_provider.complete(request).text)
        assert answer in ({"verdict": "yes"}, {"verdict": "no"})
