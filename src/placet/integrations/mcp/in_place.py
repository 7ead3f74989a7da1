"""Answering in place: the form a person at the MCP client fills in, and what it means.

MCP's elicitation shows a flat form (strings and choices). A call's form offers
approve, edit (with the arguments as JSON, filled in with the agent's) or
reject (with a reason); a question's asks for the answer. The person's action
maps to a decision: ``accept`` as the form says, ``decline`` a rejection,
``cancel`` none (the request stays in the queue for someone else). A form that
does not make sense raises InvalidInputError, and the person is asked again
with the reason. Pure: no MCP types, no engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from placet.domain.models import DecisionKind, JsonObject, Task
from placet.domain.toolcalls import parse_edited_arguments
from placet.errors import InvalidInputError
from placet.integrations.mcp.desk import Answer

DECLINED = "declined at the MCP client"
_CHOICES = [
    {"const": "approve", "title": "Approve: run it as asked"},
    {"const": "edit", "title": "Approve with the arguments as edited below"},
    {"const": "reject", "title": "Reject: do not run it"},
]


@dataclass(frozen=True)
class Form:
    """One form for one task: the message, its JSON schema, and how an answer reads."""

    task: Task
    message: str
    schema: JsonObject

    def read(self, action: str, content: dict[str, Any] | None) -> Answer | None:
        """The decision the person's answer makes; None when they left it to others."""
        if action == "cancel":
            return None
        if action == "decline":
            return Answer(DecisionKind.REJECT, reason=DECLINED)
        if action != "accept":
            raise InvalidInputError(
                f"the client answered {action!r}, not accept, decline or cancel"
            )
        if "call" in self.task.input:
            return _call_answer(self.task.input["call"], content or {})
        return _question_answer(content or {})

    def asking(self, problem: str | None) -> str:
        """The message, with why the last answer was not recorded when there was one."""
        if problem is None:
            return self.message
        return f"That answer was not recorded: {problem}. Please answer again.\n\n{self.message}"


def form_for(task: Task) -> Form | None:
    """The form for a waiting call or question; None for any other task."""
    call = task.input.get("call")
    if isinstance(call, dict):
        return _call_form(task, call)
    if "question" in task.input:
        return _question_form(task)
    return None


def _call_form(task: Task, call: JsonObject) -> Form:
    arguments = json.dumps(call.get("arguments", {}), indent=2, ensure_ascii=False)
    why = task.input.get("title")
    lines = [
        f"{task.requester} asks to run {call.get('function')} (Placet task {task.id}) with:",
        arguments,
        *([f"Why: {why}"] if why else []),
        "Approve it, approve it with edited arguments, or reject it.",
    ]
    schema: JsonObject = {
        "type": "object",
        "properties": {
            "decision": {"type": "string", "title": "Decision", "oneOf": _CHOICES},
            "arguments": {
                "type": "string",
                "title": "Arguments (JSON; for an edit)",
                "default": arguments,
            },
            "reason": {"type": "string", "title": "Reason (for a rejection)"},
        },
        "required": ["decision"],
    }
    return Form(task, "\n".join(lines), schema)


def _question_form(task: Task) -> Form:
    context = task.input.get("context")
    lines = [
        f"{task.requester} asks (Placet task {task.id}):",
        str(task.input["question"]),
        *([f"Context: {context}"] if context else []),
    ]
    schema: JsonObject = {
        "type": "object",
        "properties": {"answer": {"type": "string", "title": "Your answer"}},
        "required": ["answer"],
    }
    return Form(task, "\n".join(lines), schema)


def _call_answer(call: JsonObject, content: dict[str, Any]) -> Answer:
    decision = content.get("decision")
    edited = content.get("arguments")
    if decision == "reject":
        reason = str(content.get("reason") or "").strip()
        if not reason:
            raise InvalidInputError("a rejection needs a reason")
        return Answer(DecisionKind.REJECT, reason=reason)
    if decision not in ("approve", "edit"):
        raise InvalidInputError("choose approve, edit or reject")
    asked = call.get("arguments", {})
    arguments = asked if edited is None else parse_edited_arguments(call, str(edited))
    if decision == "approve" and arguments != asked:
        raise InvalidInputError(
            "the arguments were changed but the decision is approve (as asked): "
            "choose edit to run them as changed, or leave them as they were"
        )
    if arguments == asked:
        return Answer(DecisionKind.APPROVE)
    return Answer(DecisionKind.EDIT, text=json.dumps(arguments, indent=2, ensure_ascii=False))


def _question_answer(content: dict[str, Any]) -> Answer:
    answer = str(content.get("answer") or "").strip()
    if not answer:
        raise InvalidInputError("the answer is empty")
    return Answer(DecisionKind.EDIT, text=answer)
