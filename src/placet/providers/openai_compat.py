"""Any OpenAI-compatible chat endpoint (Groq, OpenAI, Ollama, vLLM, llama.cpp) as a Provider.

The ``openai`` SDK does the HTTP and the server-sent-event parsing; this module
owns everything the SDK would otherwise decide for us:

* Retries. The SDK's own retries are switched off (``max_retries=0``) because
  they cannot see a stream that breaks part-way, so one loop here handles rate
  limits (honouring ``retry-after``), 5xx, timeouts, dropped connections and
  cut-off streams alike.
* Restarts. A stream that dies after some text was yielded is asked for again
  from the start; a ``Chunk(restart=True)`` tells the consumer to drop what it
  has, because the new answer will not continue the old one.
* Errors. Every ``openai``/``httpx2`` exception is translated into a Placet
  error here, with a message that says what to do; nothing from the SDK leaks.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import math
import random
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam
from openai.types.completion_usage import CompletionUsage

from placet.domain.models import Usage
from placet.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderError,
    ProviderRequestTooLargeError,
    ProviderUnavailableError,
)
from placet.providers.base import (
    Chunk,
    Completion,
    CompletionRequest,
    collect,
    opening_as_instruction,
)
from placet.providers.pacing import gate_for, request_cost
from placet.providers.sse import chat_events

if TYPE_CHECKING:
    from openai._response import ResponseContextManager

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BASE_DELAY = 0.5
# Backoff doubles per attempt; past this it only adds waiting, not success.
MAX_BACKOFF = 8.0
# A server asking us to wait longer than this (a daily quota, say) will not be
# helped by waiting inside one request: fail and say so instead.
DEFAULT_MAX_RETRY_AFTER = 60.0
# 408 and 409 are what OpenAI sends for request timeouts and lock contention.
RETRYABLE_STATUS = frozenset({408, 409, 429})
API_KEY_VARIABLES = {"groq": "GROQ_API_KEY", "openai": "OPENAI_API_KEY"}
CONTEXT_LENGTH_HINTS = (
    "context_length_exceeded",
    "context length",
    "context window",
    "maximum context",
    "prompt is too long",
    "too many tokens",
)
MAX_DETAIL_CHARS = 300

RawStream = openai.APIResponse[openai.Stream[ChatCompletionChunk]]
# An attempt is told whether it follows a wait the server asked for (retry-after).
Attempt = Callable[[CompletionRequest, bool], Generator[Chunk, None, None]]


class _TransientError(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's own wish, if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class OpenAICompatibleProvider:
    """A chat model behind an OpenAI-compatible HTTP API."""

    def __init__(
        self,
        vendor: str,
        model: str,
        *,
        base_url: str,
        api_key: str,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay: float = DEFAULT_BASE_DELAY,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, not {max_attempts}")
        self._vendor = vendor
        self._model = model
        self._base_url = base_url
        self._api_key = api_key
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        # Cleared the first time a server rejects ``stream_options``, so each
        # later request does not pay for a rejected attempt.
        self._ask_for_usage = True
        self._schema_way = 0  # the index in SCHEMA_WAYS this server takes
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0
        )
        # Every draft in flight to this endpoint with this key keeps inside one set of
        # limits (providers/pacing.py); the key itself is not kept there, only its digest.
        key_id = hashlib.sha256(api_key.encode()).hexdigest()[:16]
        self.gate = gate_for(base_url, key_id)

    @property
    def name(self) -> str:
        """``vendor:model``, such as ``groq:llama-3.3-70b-versatile``."""
        return f"{self._vendor}:{self._model}"

    @property
    def base_url(self) -> str:
        """The endpoint requests go to."""
        return self._base_url

    def complete(self, request: CompletionRequest) -> Completion:
        """Generate a whole answer with one non-streaming request (retried as needed)."""
        return collect(self._with_retries(request, self._complete_once))

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """Stream the answer; a ``restart`` chunk means "drop what you have"."""
        return self._with_retries(request, self._stream_once)

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._client.close()

    def __enter__(self) -> OpenAICompatibleProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- the retry loop -------------------------------------------------------

    def _with_retries(self, request: CompletionRequest, attempt_once: Attempt) -> Iterator[Chunk]:
        showing_text = False
        last: _TransientError | None = None
        for attempt in range(1, self._max_attempts + 1):
            if last is not None:
                self._sleep(self._delay(attempt - 1, last))
            restart_pending = showing_text
            try:
                waited = last is not None and last.retry_after is not None
                with contextlib.closing(attempt_once(request, waited)) as chunks:
                    for chunk in chunks:
                        if restart_pending:
                            yield Chunk(restart=True)
                            restart_pending = showing_text = False
                        showing_text = showing_text or bool(chunk.text)
                        yield chunk
                if restart_pending:
                    # The new answer was empty; the old partial text must still go.
                    yield Chunk(restart=True)
                return
            except _TransientError as exc:
                last = exc
        assert last is not None  # the loop ran at least once and did not return
        raise ProviderUnavailableError(
            f"{self.name} at {self._base_url} failed {self._max_attempts} times; "
            f"last error: {last.reason}"
        ) from last.__cause__

    def _delay(self, failed_attempts: int, error: _TransientError) -> float:
        """How long to wait before the next attempt."""
        if error.retry_after is not None:
            return error.retry_after
        backoff = min(self._base_delay * 2.0 ** (failed_attempts - 1), MAX_BACKOFF)
        # Jitter keeps many clients that failed together from retrying together.
        return backoff / 2 + random.uniform(0, backoff / 2)

    # --- one attempt ----------------------------------------------------------

    def _stream_once(
        self, request: CompletionRequest, waited: bool
    ) -> Generator[Chunk, None, None]:
        finished = False
        events_seen = 0
        usage: Usage | None = None
        sent = self.gate.acquire(request_cost(request), waited)
        with self._translated_errors(sent), contextlib.ExitStack() as opened:
            response = self._open_stream(request, opened)
            self.gate.learn(sent, response.headers)
            for event in chat_events(response.iter_lines()):
                events_seen += 1
                _raise_error_event(event, response.http_request)
                usage = _event_usage(event) or usage
                for choice in event.get("choices") or ():
                    if choice.get("index", 0) != 0:
                        continue
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        yield Chunk(content)
                    finished = finished or choice.get("finish_reason") is not None
        if not finished:
            # A proxy or server that closes the connection cleanly still cut the
            # answer short; only a finish_reason says the model was done.
            raise _TransientError(
                "the stream ended before the answer was finished"
                if events_seen
                else "the server closed the stream without sending anything"
            )
        if usage is not None:
            yield Chunk(usage=usage)

    def _open_stream(self, request: CompletionRequest, opened: contextlib.ExitStack) -> RawStream:
        """Make the request (a refusal raises here, before any event) and keep its
        response open in ``opened``."""
        if self._ask_for_usage:
            try:
                return opened.enter_context(self._create_stream(request, ask_for_usage=True))
            except openai.BadRequestError as exc:
                if "stream_options" not in _server_message(exc):
                    raise
                self._ask_for_usage = False
        return opened.enter_context(self._create_stream(request, ask_for_usage=False))

    def _create(self, request: CompletionRequest) -> ChatCompletion:
        while True:
            try:
                return self._client.chat.completions.create(
                    model=self._model,
                    messages=_messages(request),
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    seed=_seed(request),
                    stop=_stop(request),
                    response_format=self._response_format(request),
                )
            except openai.APIStatusError as exc:
                # A server or model without JSON Schema structured outputs (llama.cpp's
                # server, many of Groq's models) may take JSON mode: try the next way of
                # asking. The caller validates the answer whichever way it was asked.
                last_way = self._schema_way >= len(SCHEMA_WAYS) - 1
                if request.json_schema is None or last_way or not _refuses_schema(exc):
                    raise
                self._schema_way += 1

    def _response_format(self, request: CompletionRequest) -> Any:
        """How a request with a schema asks for it (SCHEMA_WAYS); nothing without one."""
        if request.json_schema is None:
            return openai.omit
        return SCHEMA_WAYS[self._schema_way](request.json_schema)

    def _create_stream(
        self, request: CompletionRequest, *, ask_for_usage: bool
    ) -> ResponseContextManager[RawStream]:
        # The raw response: its events are read by providers/sse.py, not by the SDK.
        return self._client.chat.completions.with_streaming_response.create(
            model=self._model,
            messages=_messages(request),
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            seed=_seed(request),
            stop=_stop(request),
            response_format=self._response_format(request),
            stream=True,
            stream_options={"include_usage": True} if ask_for_usage else openai.omit,
        )

    def _complete_once(
        self, request: CompletionRequest, waited: bool
    ) -> Generator[Chunk, None, None]:
        sent = self.gate.acquire(request_cost(request), waited)
        with self._translated_errors(sent):
            response = self._create(request)
        choices = getattr(response, "choices", None) or ()
        if not choices:
            raise ProviderError(f"{self.name} answered with no choices")
        yield Chunk(choices[0].message.content or "")
        if response.usage is not None:
            yield Chunk(usage=_usage(response.usage))

    # --- errors ---------------------------------------------------------------

    @contextlib.contextmanager
    def _translated_errors(self, sent: int) -> Iterator[None]:
        """Turn SDK and HTTP exceptions into Placet errors or retryable failures; a 429
        also slows every request through the gate (request ``sent`` was the one refused)."""
        try:
            yield
        except openai.APIStatusError as exc:
            headers = exc.response.headers
            if exc.status_code == 429:
                self.gate.rate_limited(sent, headers, _retry_after(headers))
            else:
                self.gate.learn(sent, headers)
            raise self._status_error(exc) from exc
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            self.gate.learn(sent, {})  # no figures, but an answer: the others need not wait
            raise self._other_error(exc) from exc

    def _other_error(self, exc: Exception) -> Exception:
        """A failure other than a refusal with a status, as Placet says it."""
        if isinstance(exc, openai.APITimeoutError):
            return _TransientError(f"no answer within {self._timeout:g} s")
        if isinstance(exc, (openai.APIConnectionError, httpx2.TransportError)):
            return _TransientError(f"connection failed: {_connection_detail(exc)}")
        if isinstance(exc, (openai.OpenAIError, httpx2.HTTPError)):
            # An error event inside the stream, or an answer of the wrong shape.
            detail = self._redact(_printable(str(exc)))
            return ProviderError(f"{self.name} failed: {detail}")
        # The stream's events are JSON; a decoder's error says the answer was malformed.
        return ProviderError(f"{self.name} sent a malformed answer: {_printable(str(exc))}")

    def _status_error(self, exc: openai.APIStatusError) -> Exception:
        status = exc.status_code
        detail = self._redact(_server_message(exc))
        if status in (401, 403):
            return ProviderAuthError(self._auth_message(status, detail))
        if status == 413 or (status < 500 and _says_context_too_long(exc, detail)):
            return ProviderRequestTooLargeError(
                f"the prompt is too long for {self.name} (HTTP {status}: {detail}): "
                "shorten the input or the system prompt, lower max_tokens so prompt "
                "and answer fit the model's context window, or use a model with a "
                "larger context or higher token limit"
            )
        if status == 429:
            return self._rate_limited(exc.response.headers, detail)
        if status in RETRYABLE_STATUS or status >= 500:
            return _TransientError(f"HTTP {status}: {detail}")
        return ProviderError(f"{self.name} refused the request (HTTP {status}): {detail}")

    def _rate_limited(self, headers: Mapping[str, str], detail: str) -> Exception:
        wait = _retry_after(headers)
        if wait is not None and wait > self._max_retry_after:
            return ProviderUnavailableError(
                f"{self.name} is rate limited and asks to wait {wait:.0f} s, longer than "
                f"Placet waits ({self._max_retry_after:.0f} s): try again later or use "
                f"another model ({detail})"
            )
        return _TransientError(f"rate limited (HTTP 429): {detail}", retry_after=wait)

    def _auth_message(self, status: int, detail: str) -> str:
        variable = API_KEY_VARIABLES.get(self._vendor)
        fix = (
            f"set a valid key in {variable} (environment or .env)"
            if variable
            else f"check the API key configured for {self._vendor}"
        )
        if status == 403:
            fix += f", and that the key may use {self._model}"
        verb = "rejected the API key" if status == 401 else "refused access"
        return f"{self._vendor} at {self._base_url} {verb} (HTTP {status}: {detail}): {fix}"

    def _redact(self, text: str) -> str:
        """Servers sometimes echo the key back; never show it."""
        if len(self._api_key) >= 8:
            text = text.replace(self._api_key, "***")
        return text


# --- helpers ------------------------------------------------------------------


def _refuses_schema(exc: openai.APIStatusError) -> bool:
    """True when the server said no to how the answer's format was asked for (a 400 or
    422; llama.cpp's server answers 500 to a response_format it does not know)."""
    detail = _server_message(exc).lower()
    named = any(word in detail for word in ("response_format", "response format", "json_schema"))
    return exc.status_code in (400, 422, 500) and named


# The ways to ask an OpenAI-compatible server for JSON that fits a schema, best first:
# structured outputs (OpenAI, vLLM, Groq's newer models), JSON mode with the schema
# (llama.cpp's server makes it a grammar), plain JSON mode.
SCHEMA_WAYS: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = (
    lambda schema: {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    },
    lambda schema: {"type": "json_object", "schema": schema},
    lambda _schema: {"type": "json_object"},
)


def _seed(request: CompletionRequest) -> int | openai.Omit:
    # OpenAI, Groq, vLLM, Ollama and llama.cpp's server take a seed; sampling
    # repeats as far as the server's own batching allows.
    return openai.omit if request.seed is None else request.seed


def _stop(request: CompletionRequest) -> list[str] | openai.Omit:
    # Left out when there are none: some servers refuse an empty list.
    return list(request.stop) if request.stop else openai.omit


def _messages(request: CompletionRequest) -> list[ChatCompletionMessageParam]:
    # Placet messages are plain role/content dicts, which is what these are. A chat
    # API answers a last assistant turn with one of its own (some continue it, most
    # do not, and the reply does not say which): the opening is asked for instead.
    return cast("list[ChatCompletionMessageParam]", opening_as_instruction(request.messages))


def _usage(usage: CompletionUsage) -> Usage:
    return Usage(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)


def _event_usage(event: dict[str, Any]) -> Usage | None:
    found = event.get("usage")
    if not isinstance(found, dict):
        # Groq once reported streamed usage only under its own ``x_groq`` key.
        found = (event.get("x_groq") or {}).get("usage")
    if not isinstance(found, dict):
        return None
    return Usage(
        prompt_tokens=int(found.get("prompt_tokens") or 0),
        completion_tokens=int(found.get("completion_tokens") or 0),
    )


def _raise_error_event(event: dict[str, Any], request: httpx2.Request) -> None:
    """An ``{"error": ...}`` event inside the stream, as some servers send one, raised as
    the SDK raises it."""
    error = event.get("error")
    if not error:
        return
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        message = "An error occurred during streaming"
    raise openai.APIError(message, request, body=error)


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own words, rather than the SDK's ``Error code: ...`` wrapper."""
    body = exc.body
    message: object = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail") or body.get("error")
    elif isinstance(body, str):
        message = body
    text = str(message) if message else (exc.response.reason_phrase or exc.message)
    return _printable(text)


def _says_context_too_long(exc: openai.APIStatusError, detail: str) -> bool:
    haystack = f"{exc.code or ''} {detail}".lower()
    return any(hint in haystack for hint in CONTEXT_LENGTH_HINTS)


def _connection_detail(exc: Exception) -> str:
    # The SDK says only "Connection error."; the httpx cause says which.
    cause = exc.__cause__ or exc
    return _printable(str(cause) or type(cause).__name__)


def _printable(text: str) -> str:
    """One line, no terminal escapes: server text is as untrusted as model text."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if len(cleaned) > MAX_DETAIL_CHARS:
        cleaned = cleaned[: MAX_DETAIL_CHARS - 1] + "…"
    return cleaned


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait, from ``retry-after-ms`` or ``retry-after``."""
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            seconds = _seconds_until(value) if header == "retry-after" else math.nan
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return None


def _seconds_until(http_date: str) -> float:
    """``retry-after`` may also be an HTTP date."""
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return math.nan
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()
