"""Server-sent events of a chat stream, read from the response's lines.

The ``openai`` SDK builds a typed (pydantic) object for every event of a stream: at
many drafts in flight, one event per token, that costs four times what reading the JSON
does (BENCHMARKS.md §23), so the drafting path reads the events itself. The SDK still
makes the request, and raises its typed errors for a refused one.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

DONE = "[DONE]"
AFTER_DONE_LINES = 16  # read past [DONE] at most: a server streaming on is not waited for


def chat_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Each event's JSON object, until ``[DONE]`` or the end of the body.

    An event's ``data:`` lines are joined (as the SSE format says); comments
    (``: keep-alive``) and other fields are passed over. A payload that is not a JSON
    object raises ``ValueError``.
    """
    data: list[str] = []
    for line in lines:
        if line:
            field, _, value = line.partition(":")
            if field == "data":
                data.append(value[1:] if value.startswith(" ") else value)
            continue
        if not data:
            continue
        payload, data = "\n".join(data), []
        if payload.startswith(DONE):
            # Read to the end of the body (a few bytes), so the connection is reused.
            for _ in itertools.islice(lines, AFTER_DONE_LINES):
                pass
            return
        yield _object(payload)
    if data and not data[0].startswith(DONE):  # a last event without its blank line
        yield _object("\n".join(data))


def _object(payload: str) -> dict[str, Any]:
    found = json.loads(payload)
    if not isinstance(found, dict):
        raise ValueError(f"a stream event is not a JSON object: {payload[:80]!r}")
    return found
