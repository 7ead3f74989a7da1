"""Slack messages made from notification bodies: model output escaped as mrkdwn, buttons
that carry only ids, and the outcome a decided task's messages become."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from placet.domain.slack_messages import (
    ACTIONS,
    escaped,
    message_for,
    read_button_value,
)
from tests.xss_corpus import CORPUS, Payload

TASK, DRAFT = "01JNK3Q8Z6W5V4T3S2R1P0NMKH", "01JNK3QB000000000000000000"
LINK = "https://placet.example.com/tasks/" + TASK
OUR_LINK = f"<{LINK}|Open in Placet>"
# What escaped text may still hold of mrkdwn's control characters: entities, and the
# quote marker Placet itself puts at the start of each line.
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def awaiting(excerpt: str, kind: str = "reply") -> dict[str, Any]:
    data = {
        "task_id": TASK,
        "kind": kind,
        "links": {"task": LINK},
        "draft": {"id": DRAFT, "excerpt": excerpt, "truncated": False, "chars": len(excerpt)},
    }
    return {"type": "task.awaiting_review", "timestamp": "2025-03-04T14:02:12.345Z", "data": data}


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            if element.get("type") == "mrkdwn":
                found.append(element["text"])
    return found


@pytest.mark.parametrize("payload", CORPUS, ids=lambda p: p.name)
def test_model_output_cannot_mention_link_or_format_its_way_out(payload: Payload) -> None:
    message = message_for(awaiting(payload.text, kind=payload.text[:40]))
    for text in [message.text, *texts(message.blocks)]:
        without_ours = text.replace(OUR_LINK, "")
        assert "<" not in without_ours  # no <!channel>, no <url|label>, no <@U123>
        assert not ENTITY.search(without_ours)  # every & is one of the three entities
        for line in without_ours.splitlines():
            assert ">" not in line.lstrip(">")  # only the quote marker Placet adds
    shown = texts(message.blocks)[1].removesuffix("…")  # a very long one is cut
    assert "\n".join(">" + escaped(line) for line in payload.text.splitlines()).startswith(shown)
    assert len(shown) > min(len(payload.text), 2000)


def test_mentions_and_links_in_a_draft_are_shown_not_acted_on() -> None:
    message = message_for(awaiting("Hi <!channel> see <https://evil.example|your bank> & <@U1>"))
    assert texts(message.blocks)[1] == (
        ">Hi &lt;!channel&gt; see &lt;https://evil.example|your bank&gt; &amp; &lt;@U1&gt;"
    )


def test_a_review_request_has_three_verdict_buttons_and_a_link() -> None:
    message = message_for(awaiting("Dear Ana"))
    (actions,) = [block for block in message.blocks if block["type"] == "actions"]
    buttons = actions["elements"]
    assert [b.get("action_id") for b in buttons[:3]] == list(ACTIONS)
    assert [b["text"]["text"] for b in buttons] == [
        "Approve", "Reject", "Request changes", "Open in Placet",
    ]  # fmt: skip
    assert buttons[3]["url"] == LINK
    assert {read_button_value(b["value"]) for b in buttons[:3]} == {(TASK, DRAFT)}


def test_a_decided_task_reads_who_decided_and_when_without_buttons() -> None:
    body = {
        "type": "task.decided",
        "timestamp": "2025-03-04T14:02:12.345Z",
        "data": {
            "task_id": TASK, "kind": "reply", "outcome": "approved", "links": {"task": LINK},
            "decision": {"verdict": "approve", "by": "ana<b>", "reason": None},
            "output": {"excerpt": "Final <text>"},
        },
    }  # fmt: skip
    message = message_for(body)
    assert message.text.startswith("Approved by ana&lt;b&gt; at 14:02 UTC on 2025-03-04")
    assert all(block["type"] != "actions" for block in message.blocks)
    assert ">Final &lt;text&gt;" in texts(message.blocks)


def test_a_button_value_that_is_not_placets_is_refused() -> None:
    with pytest.raises(ValueError):
        read_button_value(json.dumps(["no"]))


@pytest.mark.parametrize(
    ("event", "extra", "title"),
    [("reminder", {"reminder": 2}, "Reminder 2"), ("escalated", {"escalated_to": []}, "Escalated")],
)
def test_reminders_and_escalations_bring_the_buttons_back(
    event: str, extra: dict[str, Any], title: str
) -> None:
    data = {"task_id": TASK, "kind": "reply", "draft_id": DRAFT, "links": {"task": None}, **extra}
    message = message_for({"type": f"task.{event}", "timestamp": "x", "data": data})
    assert message.text.startswith(f"{title}: reply task")
    (actions,) = [block for block in message.blocks if block["type"] == "actions"]
    assert len(actions["elements"]) == 3  # no link without base_url
    assert read_button_value(actions["elements"][0]["value"]) == (TASK, DRAFT)


def test_a_failure_shows_its_error_escaped() -> None:
    data = {"task_id": TASK, "kind": "reply", "error": "model said <!here>", "links": {}}
    message = message_for({"type": "task.failed", "timestamp": "x", "data": data})
    assert message.text.endswith("model said &lt;!here&gt;")
