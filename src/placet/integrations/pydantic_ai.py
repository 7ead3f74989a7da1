"""Pydantic AI deferred tool approvals reviewed in Placet, and runs continued with the decisions.

A tool registered with ``requires_approval=True`` (or raising
``ApprovalRequired``) ends an agent's run with ``DeferredToolRequests``;
``PlacetDeferred`` puts each approval in Placet's review queue and builds the
``DeferredToolResults`` from what people decided, so the run continues::

    deferred = PlacetDeferred(placet.connect(requester="refund-agent"))
    agent = Agent(model, output_type=[str, DeferredToolRequests])

    @agent.tool_plain(requires_approval=True)
    def issue_refund(customer: str, amount: float) -> str: ...

    result = await deferred.run(agent, "Refund Ada 30 euros", run_id="ticket-17")
    # or, in a new process after a restart:
    result = await deferred.resume(agent, "ticket-17")

    # by hand, with your own loop:
    tasks = deferred.request(result.output, run_id, result.all_messages(), agent)
    results = deferred.results(tasks)            # waits; DeferredToolResults

What the run receives for each call: approve is ``ToolApproved()``; an edit is
``ToolApproved(override_args=...)`` with the edited arguments, checked against
the tool's JSON schema when the person decides (names and types, by every
channel) and again here (the whole schema), and the message history shows the
call as it ran, so the model does not ask again for the original; reject (or a
request cancelled or expired) is ``ToolDenied(message=reason)``.

Durable: the run's message history is kept with each call's task, so
``resume`` in any process continues the run by its id. Once: each decision
is claimed in Placet before it is handed over, so a second ``results`` for
the same calls raises ``AlreadyResumed``, and no tool runs twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic_ai import (
    Agent,
    DeferredToolRequests,
    DeferredToolResults,
    ModelMessagesTypeAdapter,
    ToolApproved,
    ToolDenied,
)
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.toolsets import FunctionToolset

from placet.domain.models import JsonObject, Task
from placet.errors import UsageError
from placet.integrations.agent_calls import (
    AgentCalls,
    AlreadyResumed,
    CallDecision,
    ToolCall,
    json_arguments,
    run_of,
)
from placet.sdk.client import Client

DEFAULT_KIND = "agent_tool_call"
FRAMEWORK = "pydantic-ai"

__all__ = ["DEFAULT_KIND", "AlreadyResumed", "CallDecision", "PlacetDeferred"]


class PlacetDeferred:
    """Pydantic AI's deferred tool approvals, decided by people in Placet."""

    def __init__(
        self,
        client: Client,
        kind: str = DEFAULT_KIND,
        description: str = "A tool call a Pydantic AI run waits to make",
    ) -> None:
        self.client = client
        self.calls = AgentCalls(client, kind, FRAMEWORK, description)

    # -- the whole loop -----------------------------------------------------------------

    async def run(
        self,
        agent: Agent[Any, Any],
        prompt: str | None,
        *,
        run_id: str | None = None,
        timeout: float | None = None,
        **options: Any,
    ) -> AgentRunResult[Any]:
        """``agent.run`` with every approval the run defers decided in Placet.

        The agent's ``output_type`` must include ``DeferredToolRequests``.
        ``run_id`` names the run for ``resume`` (a fresh one when not given);
        ``timeout`` bounds each wait for people; other keywords (``deps``...)
        go to ``agent.run``.
        """
        run_id = run_id or uuid.uuid4().hex
        result = await agent.run(prompt, **options)
        return await self._settle(agent, run_id, result, timeout, options)

    async def resume(
        self, agent: Agent[Any, Any], run_id: str, *, timeout: float | None = None, **options: Any
    ) -> AgentRunResult[Any]:
        """Continue a run whose calls wait in Placet (after a restart: any process)."""
        tasks = await asyncio.to_thread(self.calls.to_resume, run_id)
        result = await self._continue(agent, tasks, timeout, options)
        return await self._settle(agent, run_id, result, timeout, options)

    async def _settle(
        self,
        agent: Agent[Any, Any],
        run_id: str,
        result: AgentRunResult[Any],
        timeout: float | None,
        options: dict[str, Any],
    ) -> AgentRunResult[Any]:
        # A continued run may defer again on new calls: each round is asked anew.
        while isinstance(result.output, DeferredToolRequests):
            requests = result.output
            if requests.calls:
                raise UsageError(
                    "the run also deferred external tool calls, which Placet does not make: "
                    "handle them with your own loop (request / results)"
                )
            tasks = await asyncio.to_thread(
                self.request, requests, run_id, result.all_messages(), agent
            )
            result = await self._continue(agent, tasks, timeout, options)
        return result

    async def _continue(
        self,
        agent: Agent[Any, Any],
        tasks: list[Task],
        timeout: float | None,
        options: dict[str, Any],
    ) -> AgentRunResult[Any]:
        decisions = await asyncio.to_thread(self._decided, tasks, timeout)
        history = with_edits(saved_messages(tasks[0]), decisions)
        run = agent.run(
            message_history=history, deferred_tool_results=results_of(decisions), **options
        )
        return await self.calls.resumed(decisions, run)

    # -- the parts, for a loop of your own ------------------------------------------------

    def request(
        self,
        requests: DeferredToolRequests,
        run_id: str,
        messages: Sequence[ModelMessage],
        agent: Agent[Any, Any] | None = None,
    ) -> list[Task]:
        """Put the run's approvals in Placet's queue; nothing waits (the tasks).

        ``messages`` is the run's history (``result.all_messages()``), kept to
        continue the run; with ``agent``, edits are checked against its tools'
        JSON schemas.
        """
        state = ModelMessagesTypeAdapter.dump_json(list(messages)).decode()
        schemas = schemas_of(agent) if agent is not None else {}
        return [
            self.calls.propose(
                run_id,
                ToolCall(
                    part.tool_call_id,
                    part.tool_name,
                    json_arguments(part.args),
                    schemas.get(part.tool_name),
                ),
                state,
                title=f"Run {part.tool_name}?",
            )
            for part in requests.approvals
        ]

    def results(self, tasks: Sequence[Task], timeout: float | None = None) -> DeferredToolResults:
        """Wait for every decision; the ``DeferredToolResults`` to continue the run with.

        Each decision is claimed for this caller: asking again for the same
        calls raises ``AlreadyResumed``. Pass the history from ``messages``
        below as ``message_history``, so that edits show as they ran.
        """
        return results_of(self._decided(tasks, timeout))

    def messages(self, tasks: Sequence[Task]) -> list[ModelMessage]:
        """The run's message history kept with the tasks, with people's edits in place."""
        decisions = [self.calls.decision(task.id) for task in tasks]
        return with_edits(saved_messages(tasks[0]), decisions)

    def _decided(self, tasks: Sequence[Task], timeout: float | None) -> list[CallDecision]:
        decisions = self.calls.wait(tasks, timeout)
        self.calls.claim(decisions)
        return decisions


def results_of(decisions: Sequence[CallDecision]) -> DeferredToolResults:
    """The decisions as Pydantic AI's approvals, by tool call id."""
    approvals: dict[str, bool | ToolApproved | ToolDenied] = {}
    for decision in decisions:
        if not decision.approved:
            approvals[decision.call_id] = ToolDenied(message=decision.message)
        elif decision.edited:
            approvals[decision.call_id] = ToolApproved(override_args=decision.arguments)
        else:
            approvals[decision.call_id] = ToolApproved()
    return DeferredToolResults(approvals=approvals)


def saved_messages(task: Task) -> list[ModelMessage]:
    """The message history kept with a call's task."""
    return list(ModelMessagesTypeAdapter.validate_json(str(run_of(task)["state"])))


def with_edits(
    messages: list[ModelMessage], decisions: Sequence[CallDecision]
) -> list[ModelMessage]:
    """The history with each edited call's arguments as they ran (the model sees no other)."""
    edits = {d.call_id: d.arguments for d in decisions if d.approved and d.edited}
    if not edits:
        return messages
    for message in messages:
        if isinstance(message, ModelResponse):
            for part in message.parts:
                if isinstance(part, ToolCallPart) and part.tool_call_id in edits:
                    part.args = dict(edits[part.tool_call_id])
    return messages


def schemas_of(agent: Agent[Any, Any]) -> dict[str, JsonObject]:
    """The JSON schemas of the agent's function tools, by name."""
    schemas: dict[str, JsonObject] = {}
    for toolset in agent.toolsets:
        if isinstance(toolset, FunctionToolset):
            for name, tool in toolset.tools.items():
                schemas[name] = dict(tool.tool_def.parameters_json_schema)
    return schemas
