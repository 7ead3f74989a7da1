"""What Placet posts to Slack: Block Kit messages made from a notification's body. Pure.

Every message is made from the JSON body the outbox keeps (``domain.notifications``),
so every try posts the same message. Model output (the draft's excerpt, an approved
text, an error) and anything a person typed is escaped as Slack's mrkdwn asks (``&``,
``<`` and ``>``), so it can neither mention ``@channel`` nor hide a link; it is shown
as a quote, never as a button's label. The buttons carry only the task's and the
draft's ids: the decision's author is whoever Slack says clicked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from placet.domain.channels import AWAITING_REVIEW, DECIDED, ESCALATED, FAILED, REMINDER

APPROVE, REJECT, REVISE = "placet_approve", "placet_reject", "placet_revise"
ACTIONS = (APPROVE, REJECT, REVISE)
REVIEW_BLOCK = "placet_review"
WORDS_VIEW = "placet_words"
FEEDBACK_BLOCK, FEEDBACK_INPUT = "placet_feedback", "feedback"
SECTION_CHARS = 3000
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
OUTCOME_WORDS = {"approved": "Approved", "rejected": "Rejected", "expired": "Expired"}


@dataclass(frozen=True)
class SlackPost:
    """One message Slack accepted: where it is (channel id, ``ts``), and what it told of."""

    channel_id: str
    ts: str
    task_id: str
    notification_id: str
    event: str
    created_at: float


@dataclass(frozen=True)
class SlackMessage:
    """One message: its fallback text (notifications, screen readers) and its blocks."""

    text: str
    blocks: list[dict[str, Any]]


def escaped(text: str) -> str:
    """Text as Slack's mrkdwn shows it literally: ``&``, ``<`` and ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoted(text: str) -> str:
    """Escaped text as a quote, every line of it."""
    return "\n".join(f">{line}" for line in escaped(text).splitlines() or [""])


def button_value(task_id: str, draft_id: str | None) -> str:
    """What a button carries back: the task and the draft the message showed."""
    return json.dumps({"task": task_id, "draft": draft_id}, separators=(",", ":"))


def read_button_value(value: str) -> tuple[str, str | None]:
    """The task and draft a button carried; ValueError when it is none of Placet's."""
    found = json.loads(value)
    if not isinstance(found, dict) or not isinstance(found.get("task"), str):
        raise ValueError("not a Placet button")
    draft = found.get("draft")
    return found["task"], draft if isinstance(draft, str) else None


def message_for(body: dict[str, Any]) -> SlackMessage:
    """The message a notification's body makes (``test`` included)."""
    event = str(body.get("type", "")).removeprefix("task.")
    data = body.get("data", {})
    if event == AWAITING_REVIEW:
        return _review(data, "Review requested", _draft_lines(data))
    if event == REMINDER:
        return _review(data, f"Reminder {data.get('reminder') or ''}".strip(), [])
    if event == ESCALATED:
        return _review(data, "Escalated", [])
    if event == DECIDED:
        return decided_message({**data, "decided_at": body.get("timestamp")})
    if event == FAILED:
        line = f"Drafting failed for {_task_words(data)}: {escaped(str(data.get('error', '')))}"
        return _plain(line, data)
    return _plain(escaped(str(data.get("message", "A message from Placet."))), data)


def _task_words(data: dict[str, Any]) -> str:
    return f"{escaped(str(data.get('kind', 'a task')))} task `{escaped(str(data.get('task_id')))}`"


def _draft_lines(data: dict[str, Any]) -> list[str]:
    draft = data.get("draft") or {}
    lines = [quoted(str(draft.get("excerpt", "")))]
    if draft.get("truncated"):
        lines.append(f"_(the first 500 of {int(draft.get('chars', 0))} characters)_")
    supervisor = data.get("supervisor")
    if supervisor:
        flags = ", ".join(escaped(str(flag)) for flag in supervisor.get("flags") or []) or "none"
        lines.append(f"Supervisor: risk {supervisor.get('risk')}, flags: {flags}")
    return lines


def _review(data: dict[str, Any], title: str, lines: list[str]) -> SlackMessage:
    headline = f"*{title}*: {_task_words(data)}"
    value = button_value(
        str(data.get("task_id")), data.get("draft", {}).get("id") or data.get("draft_id")
    )
    buttons: list[dict[str, Any]] = [
        _button("Approve", APPROVE, value, "primary"),
        _button("Reject", REJECT, value, "danger"),
        _button("Request changes", REVISE, value, None),
    ]
    link = _link(data)
    if link:
        buttons.append({"type": "button", "text": _label("Open in Placet"), "url": link})
    blocks = [_section(headline), *(_section(line) for line in lines if line)]
    blocks.append({"type": "actions", "block_id": REVIEW_BLOCK, "elements": buttons})
    return SlackMessage(f"{title}: {_task_words(data)}", blocks)


def decided_message(data: dict[str, Any]) -> SlackMessage:
    """The message a review request becomes once its task is decided: who, what, when."""
    outcome = OUTCOME_WORDS.get(str(data.get("outcome")), str(data.get("outcome")).title())
    decision = data.get("decision") or {}
    by = f" by {escaped(str(decision['by']))}" if decision.get("by") else ""
    at = _clock(data.get("decided_at") or data.get("timestamp"))
    headline = f"*{escaped(outcome)}{by}{at}*: {_task_words(data)}"
    lines = [headline]
    if decision.get("reason"):
        lines.append(f"Reason: {escaped(str(decision['reason']))}")
    output = data.get("output")
    if output:
        lines.append(quoted(str(output.get("excerpt", ""))))
    blocks = [_section(line) for line in lines]
    link = _link(data)
    if link:
        blocks.append({"type": "context", "elements": [_mrkdwn(f"<{link}|Open in Placet>")]})
    return SlackMessage(f"{outcome}{by}{at}: {_task_words(data)}", blocks)


def _plain(line: str, data: dict[str, Any]) -> SlackMessage:
    blocks = [_section(line)]
    link = _link(data) or (data.get("links") or {}).get("dashboard")
    if link:
        blocks.append({"type": "context", "elements": [_mrkdwn(f"<{link}|Open in Placet>")]})
    return SlackMessage(line, blocks)


def _clock(iso: Any) -> str:
    """`` at 14:02 UTC`` from an ISO time, or nothing."""
    if not isinstance(iso, str):
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return ""
    return f" at {moment:%H:%M} UTC on {moment:%Y-%m-%d}"


def _link(data: dict[str, Any]) -> str | None:
    link = (data.get("links") or {}).get("task")
    # Placet's own address (base_url), checked when configured; never the model's.
    return link if isinstance(link, str) and link.startswith(("http://", "https://")) else None


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_CHARS:  # Slack's limit; never cut an entity in two
        text = _PARTIAL_ENTITY.sub("", text[: SECTION_CHARS - 1]) + "…"
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _label(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _button(text: str, action: str, value: str, style: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": "button",
        "text": _label(text),
        "action_id": action,
        "value": value,
    }
    if style:
        found["style"] = style
    return found


VIEW_WORDS = {
    REVISE: ("Request changes", "What should the next draft change?", "Send"),
    REJECT: ("Reject", "Why is it rejected?", "Reject"),
}


def words_view(action: str, task_id: str, draft_id: str | None, channel_id: str) -> dict[str, Any]:
    """The modal that asks for the words a verdict needs: the changes wanted, or a reason."""
    title, question, submit = VIEW_WORDS[action]
    metadata = {"task": task_id, "draft": draft_id, "channel": channel_id, "action": action}
    return {
        "type": "modal",
        "callback_id": WORDS_VIEW,
        "private_metadata": json.dumps(metadata),
        "title": _label(title),
        "submit": _label(submit),
        "close": _label("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": FEEDBACK_BLOCK,
                "label": _label(question),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FEEDBACK_INPUT,
                    "multiline": True,
                    "max_length": 2000,
                },
            }
        ],
    }
