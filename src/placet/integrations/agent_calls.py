"""Agents' tool calls as Placet review items: what the Agents SDK and Pydantic AI helpers share.

A framework pauses a run on tool calls that need approval; each call becomes
a task whose draft is the call, as a guarded call's (``domain/toolcalls.py``):
its tool, its arguments, and parameters read off the tool's JSON schema, so
that every channel refuses an edit that drops a required argument, adds an
unknown one or changes a type. The task also keeps the run: its id, the
call's id and the framework's serialized state, so that a new process can
resume the run from Placet alone.

Each decision is handed to the framework once: ``claim`` marks it
(``execution_started``, a compare-and-set on the task) before the run
resumes, and ``record`` notes how the resumed run ended (``executed``). A
crash between the two leaves the call unrun rather than run twice; ``placet
show`` then says the outcome was never recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import jsonschema

from placet.domain import jsontext
from placet.domain.executions import EXECUTED, STARTED
from placet.domain.models import DecisionKind, JsonObject, Task, TaskKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.domain.toolcalls import parameters_of
from placet.engine.worker import worker_name
from placet.errors import ConflictError, InvalidInputError, PlacetError, UsageError
from placet.sdk.client import Client

T = TypeVar("T")

RUN_KEY = "agent_run"  # the task input's part that names the run, the call and the state
_DECIDED = (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.CANCELLED, TaskStatus.EXPIRED)
_SCHEMA_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}
_PAGE = 200


class AlreadyResumed(ConflictError):
    """This decision was already handed to the agent's run (or is being handed); never twice."""


@dataclass(frozen=True)
class ToolCall:
    """One tool call a run paused on."""

    call_id: str
    tool: str
    arguments: JsonObject
    schema: JsonObject | None = None  # the tool's JSON schema for its arguments, if known


@dataclass(frozen=True)
class CallDecision:
    """What people decided about one call, as the agent's run is to receive it."""

    task_id: str
    call_id: str
    tool: str
    approved: bool
    arguments: JsonObject  # to run with: as a person edited them, when they did
    edited: bool = False
    message: str = ""  # for a refusal: the reason the agent is given
    reviewer: str | None = None


class AgentCalls:
    """The Placet side of an agent framework's approvals: propose, find, decide, claim, record."""

    def __init__(self, client: Client, kind: str, framework: str, description: str) -> None:
        self.client = client
        self.kind = kind
        self.framework = framework
        self.actor = worker_name(framework)
        client.engine.register_kind(
            TaskKind(kind, template="", description=description, max_attempts=1)
        )

    # -- asking -----------------------------------------------------------------------

    def propose(self, run_id: str, call: ToolCall, state: str, title: str | None = None) -> Task:
        """The review item for one call (the same one again for the same run and call)."""
        jsontext.require_json(call.arguments, f"the arguments of {call.tool}")
        values: JsonObject = {"title": title} if title else {}
        values["call"] = {
            "function": call.tool,
            "parameters": parameters_of_schema(call.schema, call.arguments),
            "arguments": call.arguments,
            "redacted": [],
        }
        values[RUN_KEY] = {
            "framework": self.framework,
            "run_id": run_id,
            "call_id": call.call_id,
            "schema": call.schema,
            "state": state,
        }
        text = json.dumps(call.arguments, indent=2, ensure_ascii=False)
        return self.client.engine.propose(
            self.kind, values, self.client.requester, text, self._key(run_id, call.call_id)
        )

    def _key(self, run_id: str, call_id: str) -> str:
        # Hashed: run and call ids are the frameworks' and may be long; the column holds 200.
        digest = hashlib.sha256(f"{self.kind}\x1f{run_id}\x1f{call_id}".encode()).hexdigest()
        return f"{self.framework}:{digest}"

    # -- finding a run's calls ----------------------------------------------------------

    def waiting_calls(self, run_id: str) -> list[Task]:
        """The run's calls whose decisions were not yet handed to it, oldest first."""
        return [task for task in self._tasks_of(run_id) if not self._claimed(task.id)]

    def to_resume(self, run_id: str) -> list[Task]:
        """``waiting_calls``, or a UsageError saying there is nothing to resume."""
        tasks = self.waiting_calls(run_id)
        if not tasks:
            raise UsageError(
                f"run {run_id!r} has no tool call waiting in Placet under kind "
                f"{self.kind!r} (never asked, or already resumed)"
            )
        return tasks

    def _tasks_of(self, run_id: str) -> Iterator[Task]:
        engine, after = self.client.engine, None
        while True:
            page = engine.list_tasks(TaskFilter(kinds=(self.kind,), after_id=after, limit=_PAGE))
            yield from (task for task in page if run_of(task)["run_id"] == run_id)
            if len(page) < _PAGE:
                return
            after = page[-1].id

    def _claimed(self, task_id: str) -> bool:
        return any(event.type == STARTED for event in self.client.engine.detail(task_id).events)

    # -- waiting and deciding ------------------------------------------------------------

    def wait(self, tasks: Sequence[Task], timeout: float | None) -> list[CallDecision]:
        """Wait until every call is decided (in any order); the decisions, in the calls' order."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for task in tasks:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            self.client.wait(task.id, remaining)
        return [self.decision(task.id) for task in tasks]

    def decision(self, task_id: str) -> CallDecision:
        """What the decision on a call means for the run (the task must have ended)."""
        detail = self.client.engine.detail(task_id)
        task = detail.task
        run = run_of(task)
        call_id, tool = str(run["call_id"]), str(task.input["call"]["function"])
        asked: JsonObject = task.input["call"]["arguments"]
        last = detail.decisions[-1] if detail.decisions else None
        who = last.actor if last else None
        if task.status is TaskStatus.APPROVED:
            edited = last is not None and last.kind is DecisionKind.EDIT
            arguments = json.loads(task.final_output or "{}") if edited else asked
            problem = schema_problem(run.get("schema"), arguments)
            if problem is None:
                return CallDecision(task.id, call_id, tool, True, arguments, edited, reviewer=who)
            # Checked at decision time for names and types; a finer rule (a range, an
            # enum) is the schema's: the call is refused rather than run outside it.
            why = f"the edited arguments do not fit the tool's schema: {problem}"
            return CallDecision(task.id, call_id, tool, False, asked, message=why, reviewer=who)
        if task.status is TaskStatus.REJECTED and last is not None:
            why = last.reason or last.feedback or "rejected"
            return CallDecision(task.id, call_id, tool, False, asked, message=why, reviewer=who)
        if task.status in _DECIDED:
            why = f"the request was {task.status.value}"
            return CallDecision(task.id, call_id, tool, False, asked, message=why)
        raise PlacetError(f"task {task.id} is still {task.status.value}: nobody decided yet")

    # -- handing decisions to the run once --------------------------------------------------

    def claim(self, decisions: Sequence[CallDecision]) -> None:
        """Mark each decision as handed to the run; one handed before raises AlreadyResumed."""
        for decision in decisions:
            try:
                self.client.engine.start_execution(
                    decision.task_id, self.actor, _resume_key(decision.task_id)
                )
            except ConflictError:
                raise AlreadyResumed(
                    f"the decision on {decision.task_id} was already handed to the agent's run; "
                    "it is never handed twice"
                ) from None

    async def resumed(self, decisions: Sequence[CallDecision], run: Awaitable[T]) -> T:
        """The framework's resumed run, awaited, with how it ended noted on each call's task."""
        try:
            result = await run
        except Exception as exc:
            outcome: JsonObject = {"ok": False, "error": repr(exc)[:2000]}
            await asyncio.to_thread(self.record, decisions, outcome)
            raise
        await asyncio.to_thread(self.record, decisions, {"ok": True})
        return result

    def record(self, decisions: Sequence[CallDecision], outcome: JsonObject) -> None:
        """Note how the resumed run ended, on each call's task."""
        for decision in decisions:
            payload = {
                "idempotency_key": _resume_key(decision.task_id),
                "resumed": self.framework,
                "approved": decision.approved,
                **outcome,
            }
            self.client.engine.record(decision.task_id, self.actor, EXECUTED, payload)


def run_of(task: Task) -> JsonObject:
    """The run part of a call's task input."""
    run = task.input.get(RUN_KEY)
    if not isinstance(run, dict):
        return {"run_id": None}
    return run


def parameters_of_schema(schema: JsonObject | None, arguments: JsonObject) -> list[JsonObject]:
    """The tool's parameters as Placet's edit check reads them, from its JSON schema.

    Without a schema they are read off the arguments (each required, its JSON type).
    """
    properties = (schema or {}).get("properties")
    if not isinstance(properties, dict):
        return parameters_of(arguments)
    required = set((schema or {}).get("required", ()))
    return [
        {
            "name": name,
            "type": _SCHEMA_TYPES.get(str(spec.get("type")), "any")
            if isinstance(spec, dict)
            else "any",
            "required": name in required,
            "variadic": False,
        }
        for name, spec in properties.items()
    ]


def schema_problem(schema: Any, arguments: JsonObject) -> str | None:
    """Why the arguments do not fit the tool's JSON schema; None when they do (or no schema)."""
    if not isinstance(schema, dict):
        return None
    try:
        jsonschema.validate(arguments, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "the arguments"
        return f"{where}: {exc.message}"
    except jsonschema.SchemaError:
        return None  # the framework's schema is its own business; its own check still runs
    return None


def json_arguments(arguments: Any) -> JsonObject:
    """Arguments as a JSON object, or a clear refusal."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"the tool call's arguments are not JSON: {exc}") from exc
    if not isinstance(arguments, dict):
        raise InvalidInputError("the tool call's arguments must be a JSON object of name: value")
    return arguments


def _resume_key(task_id: str) -> str:
    return f"placet:{task_id}:resume"
