"""``placet mcp`` over stdio, driven by the MCP SDK's own client, on SQLite and PostgreSQL.

The agent is the SDK's ``Client`` starting the real command as a desktop client
does; people decide through an engine of their own on the same database. With
no accounts the server runs in single-user mode as PLACET_USER ("agent").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp.types import ElicitRequestFormParams, ElicitResult

from placet.domain.models import DecisionKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.testing import person
from tests.integration.mcp_world import World, error_text, result, run

pytestmark = pytest.mark.slow
RITA = person("rita")
EVERY = TaskFilter(limit=100)
CALL = {"tool": "send_email", "arguments": {"to": "ann@example.com", "subject": "Hi", "count": 1}}


@pytest.fixture
def world(tmp_path: Path, url: str) -> Iterator[World]:
    world = World(tmp_path, url)
    yield world
    world.close()


def test_approve_edit_and_reject_reach_the_waiting_agent(world: World) -> None:
    """Each decision reaches the call waiting on it; only an approval carries arguments."""
    seen: dict[str, dict[str, Any]] = {}

    async def scenario() -> None:
        async with world.stdio() as agent:
            for verdict, fields in (
                (DecisionKind.APPROVE, {}),
                (DecisionKind.EDIT, {"text": json.dumps({**CALL["arguments"], "count": 3})}),
                (DecisionKind.REJECT, {"reason": "Not to customers on a Sunday."}),
            ):
                async with anyio.create_task_group() as group:

                    async def decide(verdict: DecisionKind = verdict, fields: Any = fields) -> None:
                        await anyio.to_thread.run_sync(
                            lambda: world.decide_when_waiting(RITA, verdict, **fields)
                        )

                    group.start_soon(decide)
                    call = await agent.call_tool(
                        "request_approval", {**CALL, "timeout_seconds": 30}
                    )
                seen[verdict.value] = result(call)

    run(scenario)
    approved, edited, rejected = seen["approve"], seen["edit"], seen["reject"]
    assert approved["status"] == "approved" and approved["approved"] is True
    assert approved["arguments"] == CALL["arguments"] and approved["edited"] is False
    assert approved["decided_by"] == "rita"
    assert edited["status"] == "approved" and edited["edited"] is True
    assert edited["arguments"] == {**CALL["arguments"], "count": 3}
    assert "not the ones you asked with" in edited["message"]
    assert rejected["status"] == "rejected" and rejected["approved"] is False
    assert "arguments" not in rejected
    assert rejected["reason"] == "Not to customers on a Sunday."
    assert "do not run send_email" in rejected["message"]
    task = world.engine.get(approved["task_id"])
    assert task.requester == "agent" and task.input["call"]["function"] == "send_email"


def test_a_timeout_says_pending_and_the_same_request_id_is_one_task(world: World) -> None:
    """Pending is never an approval; a retry with the same id finds the same task."""
    seen: dict[str, Any] = {}
    ask = {**CALL, "request_id": "mail-42", "timeout_seconds": 0.3}

    async def scenario() -> None:
        async with world.stdio() as agent:
            seen["first"] = result(await agent.call_tool("request_approval", ask))
            seen["again"] = result(await agent.call_tool("request_approval", ask))
            other = {**ask, "arguments": {**CALL["arguments"], "to": "bob@example.com"}}
            seen["reused"] = error_text(await agent.call_tool("request_approval", other))
            task_id = seen["first"]["task_id"]
            seen["checked"] = result(await agent.call_tool("check_request", {"task_id": task_id}))
            await anyio.to_thread.run_sync(
                lambda: world.decide(RITA, task_id, DecisionKind.APPROVE)
            )
            waited = await agent.call_tool(
                "wait_for_decision", {"task_id": task_id, "timeout_seconds": 10}
            )
            seen["waited"] = result(waited)
            seen["after"] = result(await agent.call_tool("request_approval", ask))

    run(scenario)
    first, again = seen["first"], seen["again"]
    assert first["status"] == "pending" and first["approved"] is False
    assert "arguments" not in first and first["request_id"] == "mail-42"
    assert "call wait_for_decision" in first["message"]
    assert again["task_id"] == first["task_id"]
    assert len(world.engine.list_tasks(EVERY)) == 1
    assert "request id 'mail-42' was already used for another request" in seen["reused"]
    assert seen["checked"]["status"] == "pending"
    assert seen["waited"]["status"] == "approved"
    assert seen["waited"]["arguments"] == CALL["arguments"]
    assert seen["after"]["task_id"] == first["task_id"]  # a late retry: the same decision
    assert seen["after"]["status"] == "approved"


def test_a_question_is_answered_by_a_person(world: World) -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with world.stdio() as agent, anyio.create_task_group() as group:

            async def answer() -> None:
                await anyio.to_thread.run_sync(
                    lambda: world.decide_when_waiting(RITA, DecisionKind.EDIT, text="main")
                )

            group.start_soon(answer)
            call = await agent.call_tool(
                "ask_person",
                {"question": "Which branch?", "context": "release", "timeout_seconds": 30},
            )
            seen["answer"] = result(call)

    run(scenario)
    assert seen["answer"]["status"] == "answered"
    assert seen["answer"]["answer"] == "main"
    assert seen["answer"]["question"] == "Which branch?"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_the_person_at_the_client_answers_in_place(world: World, mode: str) -> None:
    """Single-user mode: the one local person may decide, so the client is asked; the
    form's answer is a decision like any other, recorded with channel mcp."""
    forms: list[ElicitRequestFormParams] = []
    answers = iter(
        [
            {"decision": "edit", "arguments": json.dumps({**CALL["arguments"], "count": 2})},
            {"decision": "reject", "reason": "Wrong list."},
        ]
    )

    async def person_at_client(_context: Any, params: Any) -> ElicitResult:
        forms.append(params)
        return ElicitResult(action="accept", content=next(answers))

    seen: list[dict[str, Any]] = []

    async def scenario() -> None:
        async with world.stdio(mode=mode, elicitation=person_at_client) as agent:
            for _ in range(2):
                call = await agent.call_tool("request_approval", {**CALL, "timeout_seconds": 20})
                seen.append(result(call))

    run(scenario)
    edited, rejected = seen
    assert edited["status"] == "approved" and edited["edited"] is True
    assert edited["arguments"]["count"] == 2 and edited["decided_by"] == "agent"
    assert rejected["status"] == "rejected" and "arguments" not in rejected
    assert "send_email" in forms[0].message and "ann@example.com" in forms[0].message
    event = world.decision_event(edited["task_id"])
    assert event.payload["channel"] == "mcp" and event.payload["mode"] == "single_user"
    assert world.engine.get(rejected["task_id"]).status is TaskStatus.REJECTED


def test_a_kind_that_is_not_offered_is_refused(world: World) -> None:
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with world.stdio("--kind", "deploy") as agent:
            call = await agent.call_tool(
                "request_approval", {**CALL, "kind": "payments", "timeout_seconds": 0}
            )
            seen["error"] = error_text(call)

    run(scenario)
    assert "kind 'payments' is not offered by this server (it offers: deploy)" in seen["error"]
    assert world.engine.list_tasks(EVERY) == []
