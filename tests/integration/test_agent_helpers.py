"""The OpenAI Agents SDK and Pydantic AI helpers, in one process, on a real SQLite file.

What the scenario suite (``test_approval_scenarios.py``) does not look at:
the history the model reads after an edit holds the call as it ran, an edit
that passes the decision check but not the tool's whole JSON schema is
refused before the tool runs, a decision is handed over once, and a run that
waits for nothing cannot be resumed. People decide from another thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from agents import Agent as OpenAIAgent
from agents import function_tool
from pydantic import Field
from pydantic_ai import Agent, DeferredToolRequests, ToolApproved
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import placet
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest
from placet.errors import UsageError
from placet.integrations.agent_calls import AlreadyResumed
from placet.integrations.openai_agents import PlacetApprovals
from placet.integrations.pydantic_ai import PlacetDeferred
from placet.testing import person
from tests.integration.agent_programs import REQUESTER, scripted_openai_model

RITA = person("rita")
ran: list[tuple[str, float]] = []


def refund(customer: str, amount: Annotated[float, Field(ge=0, le=100)]) -> str:
    """Refund at most 100."""
    ran.append((customer, amount))
    return f"refunded {amount:g} to {customer}"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[placet.Client]:
    ran.clear()
    with placet.connect(
        f"sqlite:///{tmp_path / 'placet.db'}", directory=str(tmp_path), requester=REQUESTER,
        review_folder=False, quiet=True,
    ) as client:  # fmt: skip
        yield client


def deciding(client: placet.Client, kind: DecisionKind, **fields: Any) -> threading.Thread:
    """A person who decides the first call that waits, from another thread."""

    def decide() -> None:
        task = _first_waiting(client)
        request = DecisionRequest(task.id, kind, RITA, **fields)
        client.engine.decide(request)

    thread = threading.Thread(target=decide)
    thread.start()
    return thread


def _first_waiting(client: placet.Client) -> Task:
    waiting = TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), limit=1)
    while True:
        token = client.engine.change_token()  # read first, so no new task slips by unseen
        found = client.engine.list_tasks(waiting)
        if found:
            return found[0]
        client.engine.wait_for_change(token, 1.0)


# -- Pydantic AI ------------------------------------------------------------------------------


def pydantic_agent(amount: float) -> tuple[Agent[None, Any], list[list[ModelMessage]]]:
    seen: list[list[ModelMessage]] = []

    def model(messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
        seen.append(list(messages))
        if len(messages) == 1:
            args = {"customer": "A", "amount": amount}
            return ModelResponse(parts=[ToolCallPart("refund", args, tool_call_id="c1")])
        return ModelResponse(parts=[TextPart("done")])

    agent: Agent[None, Any] = Agent(FunctionModel(model), output_type=[str, DeferredToolRequests])
    agent.tool_plain(requires_approval=True)(refund)
    return agent, seen


def test_pydantic_ai_an_edit_runs_and_the_model_reads_the_call_as_it_ran(
    client: placet.Client,
) -> None:
    agent, seen = pydantic_agent(30)
    person_ = deciding(client, DecisionKind.EDIT, text=json.dumps({"customer": "A", "amount": 20}))
    result = asyncio.run(PlacetDeferred(client).run(agent, "go", run_id="r1"))
    person_.join()
    assert result.output == "done" and ran == [("A", 20)]
    calls = [p for m in seen[-1] if isinstance(m, ModelResponse) for p in m.parts]
    assert [p.args for p in calls if isinstance(p, ToolCallPart)] == [
        {"customer": "A", "amount": 20}
    ]


def test_pydantic_ai_an_edit_outside_the_tools_schema_is_refused_before_it_runs(
    client: placet.Client,
) -> None:
    agent, seen = pydantic_agent(30)
    # A float, as the decision check asks; above the schema's maximum of 100.
    person_ = deciding(client, DecisionKind.EDIT, text=json.dumps({"customer": "A", "amount": 900}))
    asyncio.run(PlacetDeferred(client).run(agent, "go", run_id="r1"))
    person_.join()
    assert ran == []
    said = str(seen[-1][-1].parts[0].content)  # type: ignore[union-attr]
    assert "do not fit the tool's schema" in said and "amount" in said


def test_pydantic_ai_your_own_loop_gets_the_results_once_and_the_history_as_edited(
    client: placet.Client,
) -> None:
    agent, _ = pydantic_agent(30)
    deferred = PlacetDeferred(client)
    first = asyncio.run(agent.run("go"))
    assert isinstance(first.output, DeferredToolRequests)
    tasks = deferred.request(first.output, "r1", first.all_messages(), agent)
    deciding(client, DecisionKind.EDIT, text='{"customer": "A", "amount": 5}').join()
    results = deferred.results(tasks)
    approval = results.approvals["c1"]
    assert isinstance(approval, ToolApproved)
    assert approval.override_args == {"customer": "A", "amount": 5}
    history = deferred.messages(tasks)
    calls = [p for m in history if isinstance(m, ModelResponse) for p in m.parts]
    assert [p.args for p in calls if isinstance(p, ToolCallPart)] == [
        {"customer": "A", "amount": 5}
    ]
    second = asyncio.run(agent.run(message_history=history, deferred_tool_results=results))
    assert second.output == "done" and ran == [("A", 5)]
    with pytest.raises(AlreadyResumed):
        deferred.results(tasks)
    with pytest.raises(UsageError, match="no tool call waiting"):
        asyncio.run(deferred.resume(agent, "r1"))


# -- the OpenAI Agents SDK ----------------------------------------------------------------------


def openai_agent(amount: float) -> tuple[OpenAIAgent[Any], list[Any]]:
    seen: list[Any] = []
    model = scripted_openai_model([[{"customer": "A", "amount": amount}]], seen.append)
    return OpenAIAgent(
        name="a", model=model, tools=[function_tool(refund, needs_approval=True)]
    ), seen


def function_calls(items: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(i["arguments"]) for i in items if i.get("type") == "function_call"]


def test_openai_agents_an_edit_runs_and_the_model_reads_the_call_as_it_ran(
    client: placet.Client,
) -> None:
    agent, seen = openai_agent(30)
    person_ = deciding(client, DecisionKind.EDIT, text=json.dumps({"customer": "A", "amount": 20}))
    result = asyncio.run(PlacetApprovals(client).run(agent, "go", run_id="r1"))
    person_.join()
    assert ran == [("A", 20)] and json.loads(result.final_output) == ["refunded 20 to A"]
    assert function_calls(seen[-1]) == [{"customer": "A", "amount": 20}]


def test_openai_agents_an_edit_outside_the_tools_schema_is_refused_before_it_runs(
    client: placet.Client,
) -> None:
    agent, _ = openai_agent(30)
    person_ = deciding(client, DecisionKind.EDIT, text=json.dumps({"customer": "A", "amount": 900}))
    result = asyncio.run(PlacetApprovals(client).run(agent, "go", run_id="r1"))
    person_.join()
    assert ran == []
    (said,) = json.loads(result.final_output)
    assert "do not fit the tool's schema" in said and "amount" in said


def test_openai_agents_a_run_waiting_for_nothing_cannot_be_resumed(client: placet.Client) -> None:
    agent, _ = openai_agent(30)
    with pytest.raises(UsageError, match="no tool call waiting"):
        asyncio.run(PlacetApprovals(client).resume(agent, "never-asked"))


# -- the SDK's guarded calls, resumed by task id -------------------------------------------------


def test_a_guarded_call_resumes_by_task_id_once_and_never_with_secrets(
    client: placet.Client,
) -> None:
    guarded = client.require_approval(kind="refund", blocking=False)(refund)
    pending = guarded("A", 30.0)
    deciding(client, DecisionKind.APPROVE).join()
    assert guarded.resume(pending.task_id) == "refunded 30 to A"
    with pytest.raises(placet.AlreadyExecuted):
        guarded.resume(pending.task_id)
    assert ran == [("A", 30.0)]

    def pay(customer: str, token: str) -> str:
        return customer

    secret = client.require_approval(kind="pay", redact=("token",), blocking=False)(pay)
    waiting = secret("A", token="tok_4242")
    with pytest.raises(UsageError, match="redacts token"):
        secret.resume(waiting.task_id)
    with pytest.raises(UsageError, match="is not a call to"):
        secret.resume(pending.task_id)


# -- the MCP server's go-ahead ------------------------------------------------------------------


def test_mcp_start_run_gives_the_go_ahead_once_and_finish_run_records_how_it_went(
    client: placet.Client,
) -> None:
    from placet.domain.executions import execution_of
    from placet.domain.policy import Role
    from placet.errors import ConflictError
    from placet.integrations.mcp.desk import CallRequest, Desk

    desk, asker = Desk(client.engine), person("agent", Role.REQUESTER)
    task = desk.request_approval(asker, CallRequest("refund", {"customer": "A", "amount": 30}))
    with pytest.raises(ConflictError, match="not an approved call"):
        desk.start_run(asker, task.id)
    client.engine.decide(
        DecisionRequest(task.id, DecisionKind.EDIT, RITA, text='{"customer": "A", "amount": 20}')
    )
    go = desk.start_run(asker, task.id)
    assert go["status"] == "started" and go["arguments"] == {"customer": "A", "amount": 20}
    again = desk.start_run(asker, task.id)
    assert again["status"] == "already_started" and "arguments" not in again
    desk.finish_run(asker, task.id, True, "refunded 20 to A")
    run = execution_of(client.engine.detail(task.id).events)
    assert run is not None and run.ok is True and not run.unfinished
