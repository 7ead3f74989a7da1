"""Reading a chat stream's server-sent events (providers/sse.py)."""

from __future__ import annotations

import pytest

from placet.providers.sse import chat_events


def test_events_are_read_until_done() -> None:
    lines = ['data: {"a": 1}', "", ": keep-alive", "", 'data: {"b": 2}', "", "data: [DONE]", "",
             'data: {"after": "done"}', ""]  # fmt: skip
    assert list(chat_events(iter(lines))) == [{"a": 1}, {"b": 2}]


def test_data_lines_of_one_event_are_joined_and_other_fields_passed_over() -> None:
    lines = ["event: message", 'data: {"text":', 'data: "two lines"}', "id: 7", ""]
    assert list(chat_events(iter(lines))) == [{"text": "two lines"}]


def test_a_last_event_without_its_blank_line_still_counts() -> None:
    assert list(chat_events(iter(['data:{"a": 1}']))) == [{"a": 1}]


@pytest.mark.parametrize("payload", ["{this is not json", "[1, 2]"])
def test_a_payload_that_is_not_a_json_object_is_refused(payload: str) -> None:
    with pytest.raises(ValueError):
        list(chat_events(iter([f"data: {payload}", ""])))
