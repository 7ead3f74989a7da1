"""OpenAI Agents SDK tool approvals reviewed in Placet, and runs resumed with the decisions.

A tool marked ``needs_approval`` pauses the SDK's run with interruptions;
``PlacetApprovals`` turns each into a Placet review item (the dashboard,
``placet ls`` / ``placet approve``, the review folder), waits for people and
resumes the run from its ``RunState`` with what they decided::

    approvals = PlacetApprovals(placet.connect(requester="refund-agent"))

    @function_tool(needs_approval=True)
    def issue_refund(customer: str, amount: float) -> str: ...

    agent = Agent(name="support", tools=[issue_refund], model=...)
    result = await approvals.run(agent, "Refund Ada 30 euros", run_id="ticket-17")
    # or, in a new process after a restart:
    result = await approvals.resume(agent, "ticket-17")

What the run receives for each call:

- approve: ``RunState.approve``; the tool runs with the arguments as asked.
- edit (which the SDK itself does not offer): the edited arguments, checked
  against the tool's JSON schema when the person decides (names and types, by
  every channel) and again before the run resumes (the whole schema), replace
  the call's arguments in the saved run state, so the tool runs with them and
  the model sees the call as it ran, not the one it asked for.
- reject (or a request cancelled or expired): ``RunState.reject`` with the
  reason as the message the model gets instead of the tool's output.

Durable: the run's serialized state is kept with each call's task, so
``resume`` in any process finds the run by its id and goes on from there.
Once: each decision is claimed in Placet before the run resumes, so a second
resume (another process, a retry) raises ``AlreadyResumed`` and nothing runs
twice. The state carries the run's context only when it is JSON (as the SDK's
``to_json`` says); pass ``context=`` again on resume for anything else.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from typing import Any

from agents import Agent, FunctionTool, Runner, RunResult, RunState
from agents.items import ToolApprovalItem

from placet.domain.models import JsonObject, Task
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
FRAMEWORK = "openai-agents"

__all__ = ["DEFAULT_KIND", "AlreadyResumed", "CallDecision", "PlacetApprovals"]


class PlacetApprovals:
    """The Agents SDK's tool approvals, decided by people in Placet."""

    def __init__(
        self,
        client: Client,
        kind: str = DEFAULT_KIND,
        description: str = "A tool call an OpenAI Agents SDK run waits to make",
    ) -> None:
        self.client = client
        self.calls = AgentCalls(client, kind, FRAMEWORK, description)

    async def run(
        self,
        agent: Agent[Any],
        input: str | list[Any],
        *,
        run_id: str | None = None,
        timeout: float | None = None,
        **runner: Any,
    ) -> RunResult:
        """``Runner.run`` with every approval the run pauses on decided in Placet.

        ``run_id`` names the run for ``resume`` (a fresh one when not given);
        ``timeout`` bounds each wait for people (TimeoutError, the run kept
        waiting in Placet); other keywords go to ``Runner.run``.
        """
        run_id = run_id or uuid.uuid4().hex
        result = await Runner.run(agent, input, **runner)
        return await self._settle(agent, run_id, result, timeout, runner)

    async def resume(
        self, agent: Agent[Any], run_id: str, *, timeout: float | None = None, **runner: Any
    ) -> RunResult:
        """Go on with a run whose calls wait in Placet (after a restart: any process)."""
        tasks = await asyncio.to_thread(self.calls.to_resume, run_id)
        result = await self._round(agent, tasks, timeout, runner)
        return await self._settle(agent, run_id, result, timeout, runner)

    def request(self, result: RunResult, run_id: str) -> list[Task]:
        """Put a paused run's interruptions in Placet's queue; nothing waits (the tasks)."""
        state = json.dumps(result.to_state().to_json())
        return [
            self.calls.propose(run_id, _tool_call(item), state, title=f"Run {item.tool_name}?")
            for item in result.interruptions
        ]

    async def _settle(
        self,
        agent: Agent[Any],
        run_id: str,
        result: RunResult,
        timeout: float | None,
        runner: dict[str, Any],
    ) -> RunResult:
        # A resumed run may pause again on new calls: each round is asked anew.
        while result.interruptions:
            tasks = self.request(result, run_id)
            result = await self._round(agent, tasks, timeout, runner)
        return result

    async def _round(
        self, agent: Agent[Any], tasks: list[Task], timeout: float | None, runner: dict[str, Any]
    ) -> RunResult:
        decisions = await asyncio.to_thread(self.calls.wait, tasks, timeout)
        await asyncio.to_thread(self.calls.claim, decisions)
        saved = json.loads(str(run_of(tasks[0])["state"]))
        state = await RunState.from_json(agent, _with_edits(saved, decisions))
        by_call = {decision.call_id: decision for decision in decisions}
        for item in state.get_interruptions():
            decision = by_call.get(str(item.call_id))
            if decision is None:
                continue  # not one of these tasks' calls: the run pauses on it again
            if decision.approved:
                state.approve(item)
            else:
                state.reject(item, rejection_message=decision.message)
        return await self.calls.resumed(decisions, Runner.run(agent, state, **runner))


def _tool_call(item: ToolApprovalItem) -> ToolCall:
    name = str(item.tool_name or "")
    schema: JsonObject | None = None
    for tool in getattr(item.agent, "tools", ()):
        if isinstance(tool, FunctionTool) and tool.name == name:
            schema = dict(tool.params_json_schema)
    return ToolCall(str(item.call_id), name, json_arguments(item.arguments), schema)


def _with_edits(saved: JsonObject, decisions: list[CallDecision]) -> JsonObject:
    """The saved run state with edited arguments in place of the asked ones.

    The call is rewritten wherever the state holds it (the model's response,
    the pending step), so the tool runs with the edit and the model sees it;
    the SDK's record of the call's first fingerprint is dropped, as it names
    the arguments that were asked.
    """
    edits = {d.call_id: json.dumps(d.arguments) for d in decisions if d.approved and d.edited}
    if not edits:
        return saved
    state = copy.deepcopy(saved)
    _rewrite(state, edits)
    invocations = (state.get("context") or {}).get("tool_invocations") or {}
    for call_id in edits:
        invocations.pop(call_id, None)
    return state


def _rewrite(node: Any, edits: dict[str, str]) -> None:
    if isinstance(node, dict):
        call_id = node.get("call_id")
        if call_id in edits and isinstance(node.get("arguments"), str):
            node["arguments"] = edits[call_id]
        for value in node.values():
            _rewrite(value, edits)
    elif isinstance(node, list):
        for value in node:
            _rewrite(value, edits)
