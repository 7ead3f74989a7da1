"""The Placet side of the MCP server: requests, questions, reading, waiting, answers.

An agent's call becomes a task whose draft is the call, as a guarded call's in
the SDK (``domain/toolcalls.py``): its tool, its arguments as the reviewer sees
them, and parameters read off the arguments, so that every channel refuses an
edit that drops an argument or changes its type. A question becomes a task of
the SDK's ``question`` kind. An answer given at the MCP client is a
``DecisionRequest`` carrying the principal the MCP door established, handed to
``Engine.decide`` like every other channel's. Nothing here speaks MCP
(``server.py`` does): it is the engine's, called from worker threads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from placet.domain import jsontext
from placet.domain.controls import Pause
from placet.domain.decisions import DecisionRequest
from placet.domain.executions import EXECUTED, STARTED
from placet.domain.limits import MAX_NAME, MAX_NOTE
from placet.domain.models import DecisionKind, JsonObject, Task, TaskKind, TaskStatus
from placet.domain.policy import Permission, Principal, may
from placet.domain.queries import TaskFilter
from placet.domain.toolcalls import parameters_of
from placet.engine import Engine
from placet.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from placet.integrations.mcp import views
from placet.sdk.client import ANSWER_PLACEHOLDER, QUESTION_KIND, question_kind

CALL_KIND = "tool_call"  # the kind of an agent's call when the server is given none
PENDING_SHOWN = 100  # the most waiting tasks the pending resource lists


@dataclass(frozen=True)
class CallRequest:
    """An agent asks to run a tool with these arguments."""

    tool: str
    arguments: JsonObject
    kind: str | None = None  # None: the server's first kind
    summary: str = ""  # what the call does and why, for the reviewer
    request_id: str | None = None  # the client's own id: the same id is the same request


@dataclass(frozen=True)
class Answer:
    """What a person said at the MCP client, as the decision to record."""

    kind: DecisionKind
    text: str | None = None
    reason: str | None = None


class Desk:
    """Agents' requests and questions in Placet's queue, through the engine only."""

    def __init__(self, engine: Engine, kinds: Sequence[str] = (CALL_KIND,)) -> None:
        if not kinds:
            raise ConfigError("the MCP server needs at least one kind for agents' calls")
        self.engine = engine
        self.kinds = tuple(dict.fromkeys(kinds))
        for name in self.kinds:
            self._offer(name)
        engine.register_kind(question_kind())

    def _offer(self, name: str) -> None:
        """Make a kind ready for calls: registered here, or checked if placet.toml has it."""
        known = self.engine.kinds.get(name)
        if known is None:
            self.engine.register_kind(
                TaskKind(
                    name,
                    template="",
                    description="A call an agent asks to run (MCP)",
                    max_attempts=1,
                )
            )
        elif known.max_attempts != 1:
            raise ConfigError(
                f"kind {name!r} in placet.toml allows {known.max_attempts} attempts, but "
                "an agent's call has one draft, the agent's own: set max_attempts = 1 "
                "(feedback then ends the request as rejected, with the feedback, and the "
                "agent asks again)"
            )

    # -- asking ---------------------------------------------------------------------

    def request_approval(self, principal: Principal, request: CallRequest) -> Task:
        """The task that asks people to approve the call (the same one again for a known id)."""
        self._check_may_ask(principal)
        kind = self._kind_of(request)
        _check_text("tool name", request.tool, MAX_NAME, required=True)
        _check_text("summary", request.summary, MAX_NOTE)
        jsontext.require_json(request.arguments, "the arguments")
        if not isinstance(request.arguments, dict):
            raise InvalidInputError("the arguments must be a JSON object of name: value")
        values = _call_input(request)
        text = json.dumps(request.arguments, indent=2, ensure_ascii=False)
        task = self.engine.propose(
            kind, values, principal.name, text, _key(principal, request.request_id)
        )
        if task.kind != kind or _call_of(task) != _call_of_input(values):
            raise _reused(request.request_id, task)
        return task

    def ask(
        self, principal: Principal, question: str, context: str = "", request_id: str | None = None
    ) -> Task:
        """The task that asks a person a question (the same one again for a known id)."""
        self._check_may_ask(principal)
        _check_text("question", question, MAX_NOTE, required=True)
        _check_text("context", context, MAX_NOTE)
        values: JsonObject = {"question": question, **({"context": context} if context else {})}
        if request_id is not None:
            values["mcp"] = {"request_id": request_id}
        task = self.engine.propose(
            QUESTION_KIND, values, principal.name, ANSWER_PLACEHOLDER, _key(principal, request_id)
        )
        if task.kind != QUESTION_KIND or task.input.get("question") != question:
            raise _reused(request_id, task)
        return task

    def _check_may_ask(self, principal: Principal) -> None:
        verdict = may(principal, Permission.SUBMIT)
        if not verdict.allowed:
            self.engine.accounts.record(
                principal.name, Permission.SUBMIT.value, "refused", "mcp", verdict.reason
            )
            raise PermissionDeniedError(f"{verdict.reason}; nothing was asked")

    def _kind_of(self, request: CallRequest) -> str:
        kind = request.kind or self.kinds[0]
        if kind not in self.kinds:
            offered = ", ".join(self.kinds)
            raise InvalidInputError(
                f"kind {kind!r} is not offered by this server (it offers: {offered}); "
                "leave kind out for the first"
            )
        return kind

    # -- reading and waiting ----------------------------------------------------------

    def task_for(self, principal: Principal, task_id: str) -> Task:
        """The task, if this principal may see it; otherwise as if there were none."""
        try:
            task = self.engine.get(task_id)
        except NotFoundError:
            raise NotFoundError(f"no task {task_id}") from None
        verdict = may(principal, Permission.VIEW_TASK, task)
        if not verdict.allowed:
            self.engine.accounts.record(
                principal.name, Permission.VIEW_TASK.value, "refused", task.id, verdict.reason
            )
            raise NotFoundError(f"no task {task_id}")  # the same answer as for no such task
        return task

    def wait(self, task_id: str, timeout: float) -> bool:
        """Wait until the task has ended (an approved call: and may run); False on timeout."""
        return self.ended(self.engine.wait(task_id, self.ended, timeout))

    def ended(self, task: Task) -> bool:
        """True when the agent can be told how it ended: final, and no pause holds its call."""
        if not (task.status.is_final or task.status is TaskStatus.FAILED):
            return False
        return self._pause_holding(task) is None

    def view(self, task_id: str) -> JsonObject:
        """What the agent is told about a task: its status, and what to do now."""
        detail = self.engine.detail(task_id)
        return views.view_of(detail, self._pause_holding(detail.task))

    def _pause_holding(self, task: Task) -> Pause | None:
        """The kill switch's pause that holds an approved call of this task's kind, if any."""
        if task.status is not TaskStatus.APPROVED or "call" not in task.input:
            return None
        return self.engine.controls.paused(task.kind)

    def pending(self, principal: Principal) -> list[JsonObject]:
        """The tasks waiting for people that this principal may see, oldest first."""
        mine = None if principal.has(Permission.VIEW_QUEUE) else principal.name
        found = self.engine.list_tasks(
            TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), requester=mine, limit=PENDING_SHOWN)
        )
        return [views.summary_of(task) for task in found]

    # -- running an approved call once -------------------------------------------------------

    def start_run(self, principal: Principal, task_id: str) -> JsonObject:
        """The go-ahead to run an approved call, given once: later asks are told it started.

        The same compare-and-set as a guarded call's (``Engine.start_execution``), so
        of two agent processes (or one retried after a restart) exactly one runs it.
        """
        task = self.task_for(principal, task_id)
        if task.status is not TaskStatus.APPROVED or "call" not in task.input:
            raise ConflictError(
                f"task {task.id} is not an approved call ({views.status_of(task)}): "
                "do not run it; check_request says where it stands"
            )
        view = self.view(task.id)
        if view["status"] != "approved":  # a pause holds it: the view says so
            return view
        tool = view["tool"]
        try:
            self.engine.start_execution(task.id, principal.name, _run_key(task.id))
        except ConflictError:
            return {
                "status": "already_started", "run": False, "task_id": task.id, "tool": tool,
                "message": f"{tool} for task {task.id} was already started: do not run it again.",
            }  # fmt: skip
        return {
            "status": "started", "run": True, "task_id": task.id, "tool": tool,
            "arguments": view["arguments"],
            "message": f"Run {tool} now, once, with exactly these arguments; then call "
            "finish_run with how it went.",
        }  # fmt: skip

    def finish_run(self, principal: Principal, task_id: str, ok: bool, result: str) -> JsonObject:
        """Record how the run of an approved call went, in its audit trail."""
        _check_text("result", result, MAX_NOTE)
        task = self.task_for(principal, task_id)
        if not any(event.type == STARTED for event in self.engine.detail(task.id).events):
            raise ConflictError(f"task {task.id} was never started: call start_run first")
        outcome = {"result": result} if ok else {"error": result or "failed"}
        payload: JsonObject = {"idempotency_key": _run_key(task.id), "ok": ok, **outcome}
        self.engine.record(task.id, principal.name, EXECUTED, payload)
        return {"status": "recorded", "task_id": task.id, "message": "Recorded."}

    # -- answering in place -------------------------------------------------------------

    def may_answer(self, principal: Principal, task: Task) -> bool:
        """True when this person may decide the task now (the engine's rule, as for any door)."""
        if task.status is not TaskStatus.AWAITING_REVIEW:
            return False
        return self.engine.may_decide(principal, task).allowed

    def answer(self, principal: Principal, task: Task, answer: Answer) -> Task:
        """Record the person's answer: the one decision path, with the draft they saw."""
        request = DecisionRequest(
            task.id,
            answer.kind,
            principal,
            draft_id=task.current_draft_id,
            text=answer.text,
            reason=answer.reason,
        )
        return self.engine.decide(request)


def _call_input(request: CallRequest) -> JsonObject:
    call: JsonObject = {
        "function": request.tool,
        "parameters": parameters_of(request.arguments),
        "arguments": request.arguments,
        "redacted": [],
    }
    values: JsonObject = {"title": request.summary} if request.summary else {}
    values["call"] = call
    values["mcp"] = {"tool": request.tool, "request_id": request.request_id}
    return values


def _call_of(task: Task) -> str:
    return _call_of_input(task.input)


def _call_of_input(values: JsonObject) -> str:
    """What must match for a request id to name the same call: the tool and its arguments."""
    call = values.get("call")
    if not isinstance(call, dict):
        return ""
    return jsontext.canonical({"tool": call.get("function"), "arguments": call.get("arguments")})


def _key(principal: Principal, request_id: str | None) -> str | None:
    """The idempotency key of a client's request id: its own per person, hashed to fit."""
    if request_id is None:
        return None
    _check_text("request id", request_id, MAX_NAME, required=True)
    digest = hashlib.sha256(f"{principal.name}\x1f{request_id}".encode()).hexdigest()
    return f"mcp:{digest}"


def _run_key(task_id: str) -> str:
    return f"placet:{task_id}:execute"  # a guarded call's key: one run per approval, whoever runs


def _reused(request_id: str | None, task: Task) -> ConflictError:
    return ConflictError(
        f"request id {request_id!r} was already used for another request (task {task.id}); "
        "nothing was asked: use a new request id for a new request"
    )


def _check_text(what: str, value: str, limit: int, required: bool = False) -> None:
    if required and not value.strip():
        raise InvalidInputError(f"the {what} is empty")
    if len(value) > limit:
        raise InvalidInputError(
            f"the {what} is too long: {len(value):,} characters, at most {limit:,}"
        )
    if "\x00" in value:
        raise InvalidInputError(f"the {what} contains a NUL character")
