"""What an e-mail says: its subject, its plain text, and its sanitised HTML.

The draft is model output, so hostile: the plain part carries it as it is
(a mail reader shows text as text), and the HTML part renders it as the
dashboard does (``placet.markdown``: Markdown with raw HTML off, then an
allow-list): no script, no style, no event handler, no ``javascript:`` link
survives, and every line break shows. Everything
else put in the HTML (the kind, the links) is escaped. The subject carries no
model output at all.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from placet.domain.links import APPROVE, REJECT
from placet.markdown import safe_html

SUBJECTS = {
    "task.awaiting_review": "Review requested",
    "task.reminder": "Reminder: review requested",
    "task.escalated": "Escalated: review requested",
    "task.decided": "Decided",
    "task.failed": "Failed",
}


@dataclass(frozen=True)
class Rendered:
    """An e-mail's words."""

    subject: str
    text: str
    html: str


def render_message(body: dict[str, Any], links: dict[str, str], base_url: str | None) -> Rendered:
    """The words of one notification's message."""
    notice, task = body["notice"], body["task"]
    data = notice["data"]
    kind, short = str(data["kind"]), str(task["id"])[-8:]
    subject = f"[Placet] {SUBJECTS.get(notice['type'], 'Notice')}: {kind} {short}"
    lines = [_headline(notice, body["to"]["account"]), ""]
    draft = body.get("draft")
    if draft is None and isinstance(data.get("output"), dict):
        draft = data["output"].get("excerpt")
    if draft is not None:
        lines += ["--- the draft ---", str(draft), "--- end of the draft ---", ""]
    lines += _link_lines(links, data.get("links", {}).get("task"), base_url)
    text = "\n".join(lines) + "\n"
    page = _html(notice, body["to"]["account"], draft, links, data.get("links", {}).get("task"))
    return Rendered(subject, text, page)


def _headline(notice: dict[str, Any], account: str) -> str:
    data = notice["data"]
    kind, task_id = data["kind"], data["task_id"]
    said = {
        "task.awaiting_review": "a draft awaits your review",
        "task.reminder": "a reminder: a draft still awaits your review",
        "task.escalated": "escalated: a draft awaits review by you too",
        "task.decided": f"decided: {data.get('outcome', '')}",
        "task.failed": "drafting failed",
    }.get(notice["type"], notice["type"])
    return f"Hello {account}: {kind} task {task_id}: {said}."


def _link_lines(links: dict[str, str], task_link: str | None, base_url: str | None) -> list[str]:
    lines = []
    if APPROVE in links:
        lines += [f"Approve: {links[APPROVE]}", f"Reject:  {links[REJECT]}"]
        lines += ["(each opens a page that asks you to confirm; the links work once)"]
    if task_link:
        lines.append(f"Open the task: {task_link}")
    if not base_url:
        lines.append("(no links: Placet's base_url is not configured)")
    return lines


def _html(
    notice: dict[str, Any],
    account: str,
    draft: str | None,
    links: dict[str, str],
    task_link: str | None,
) -> str:
    parts = [f"<p>{html.escape(_headline(notice, account))}</p>"]
    if draft is not None:
        parts.append(f"<blockquote>{safe_html(draft)}</blockquote>")
    if APPROVE in links:
        parts.append(
            f'<p><a href="{html.escape(links[APPROVE])}">Approve</a> · '
            f'<a href="{html.escape(links[REJECT])}">Reject</a></p>'
            "<p>Each link opens a page that asks you to confirm; the links work once.</p>"
        )
    if task_link:
        parts.append(f'<p><a href="{html.escape(task_link)}">Open the task</a></p>')
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"
