"""The MCP server's rules, in process: the SDK's client connected to the server object.

Answering in place (decline, cancel, an answer that cannot be recorded, a
quorum, a kind's reviewers), the kinds a server offers, and what the agent is
told for every way a request can end: only an approval carries arguments.
The stdio and HTTP tests run the same server as the real command.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client
from mcp.types import ElicitResult

from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest, Engine
from placet.errors import ConfigError
from placet.integrations.mcp.desk import CallRequest, Desk
from placet.integrations.mcp.identity import LocalIdentity
from placet.integrations.mcp.in_place import DECLINED
from placet.integrations.mcp.server import Options, build_server
from placet.testing import person
from tests.conftest import Clock
from tests.integration.mcp_world import result

PASSWORD = "s3cret-pass"
HOUR = 3600.0
ARGUMENTS = {"to": "ann@example.com", "count": 1}
CALL = {"tool": "send_email", "arguments": ARGUMENTS}
Answerer = Callable[[Any, Any], Awaitable[ElicitResult]]


class Forms:
    """A person at the client answering each form in turn, keeping what they were shown."""

    def __init__(self, *answers: tuple[str, dict[str, Any] | None]) -> None:
        self.answers = list(answers)
        self.shown: list[str] = []

    async def __call__(self, _context: Any, params: Any) -> ElicitResult:
        self.shown.append(params.message)
        action, content = self.answers.pop(0)
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]


def client(engine: Engine, user: str, forms: Answerer | None, mode: str = "legacy") -> Client:
    server = build_server(Desk(engine), LocalIdentity(engine, user), Options(wait=5))
    return Client(server, mode=mode, elicitation_callback=forms)


def call(engine: Engine, forms: Forms, mode: str, **extra: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with client(engine, "agent", forms, mode) as agent:
            answer = await agent.call_tool("request_approval", {**CALL, **extra})
            seen["view"] = result(answer)

    anyio.run(scenario)
    return seen["view"]


@pytest.fixture(params=["legacy", "auto"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_declining_the_form_rejects_the_request(engine: Engine, mode: str) -> None:
    view = call(engine, Forms(("decline", None)), mode)
    assert view["status"] == "rejected" and view["approved"] is False
    assert "arguments" not in view and view["reason"] == DECLINED


def test_an_answer_that_cannot_be_recorded_is_asked_again_with_the_reason(
    engine: Engine, mode: str
) -> None:
    forms = Forms(
        ("accept", {"decision": "edit", "arguments": json.dumps({"to": "bob@example.com"})}),
        ("accept", {"decision": "edit", "arguments": json.dumps({**ARGUMENTS, "count": 9})}),
    )
    view = call(engine, forms, mode, timeout_seconds=10)
    assert len(forms.shown) == 2
    assert (
        "That answer was not recorded: argument 'count' of send_email is required"
        in (forms.shown[1])
    )
    assert view["status"] == "approved" and view["edited"] is True
    assert view["arguments"] == {**ARGUMENTS, "count": 9}


def test_after_three_answers_that_cannot_be_recorded_it_waits_in_the_queue(
    engine: Engine, mode: str
) -> None:
    forms = Forms(
        ("accept", {"decision": "approve", "arguments": json.dumps({**ARGUMENTS, "count": 9})}),
        ("accept", {"decision": "reject"}),
        ("accept", {"decision": "maybe"}),
    )
    view = call(engine, forms, mode, timeout_seconds=1)
    assert len(forms.shown) == 3
    assert "choose edit to run them as changed" in forms.shown[1]
    assert "a rejection needs a reason" in forms.shown[2]
    assert view["status"] == "pending" and "arguments" not in view


def test_a_form_still_open_at_the_timeout_is_withdrawn_and_the_call_says_pending(
    engine: Engine,
) -> None:
    opened = anyio.Event()

    async def slow_person(_context: Any, _params: Any) -> ElicitResult:
        opened.set()
        await anyio.sleep(60)  # still thinking when the call's time is up
        return ElicitResult(action="accept", content={"decision": "approve"})

    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with client(engine, "agent", slow_person) as agent:
            with anyio.fail_after(20):
                answer = await agent.call_tool("request_approval", {**CALL, "timeout_seconds": 1})
            seen["view"] = result(answer)

    anyio.run(scenario)
    assert opened.is_set()
    assert seen["view"]["status"] == "pending" and "arguments" not in seen["view"]
    assert engine.get(seen["view"]["task_id"]).status is TaskStatus.AWAITING_REVIEW


def test_a_waiting_call_reports_progress_so_clients_keep_waiting(engine: Engine) -> None:
    reports: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        reports.append((done, total, message))

    async def scenario() -> None:
        server = build_server(
            Desk(engine), LocalIdentity(engine, "agent"), Options(progress_every=0.1)
        )
        async with Client(server) as agent:
            ask = {**CALL, "timeout_seconds": 2.5}
            await agent.call_tool("request_approval", ask, progress_callback=progress)

    anyio.run(scenario)
    assert reports, "no progress while waiting"
    done, total, message = reports[0]
    assert 0 < done <= 2.5 and total == pytest.approx(2.5, abs=0.1)
    assert message is not None and "waiting for a person to decide task" in message


def test_a_question_is_answered_in_place(engine: Engine, mode: str) -> None:
    forms = Forms(("accept", {"answer": "  "}), ("accept", {"answer": "The main branch."}))
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with client(engine, "agent", forms, mode) as agent:
            ask = {"question": "Which branch?", "context": "release 1.4", "timeout_seconds": 10}
            seen["view"] = result(await agent.call_tool("ask_person", ask))

    anyio.run(scenario)
    assert "Which branch?" in forms.shown[0] and "Context: release 1.4" in forms.shown[0]
    assert "That answer was not recorded: the answer is empty" in forms.shown[1]
    assert seen["view"]["status"] == "answered" and seen["view"]["answer"] == "The main branch."


def test_a_cancelled_form_leaves_the_request_to_the_queue(engine: Engine) -> None:
    """Cancel is no decision: the call waits on, and a reviewer's decision reaches it."""
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with (
            client(engine, "agent", Forms(("cancel", None))) as agent,
            anyio.create_task_group() as group,
        ):

            async def reviewer() -> None:
                def decide() -> None:
                    task = _first_waiting(engine)
                    request = DecisionRequest(
                        task.id, DecisionKind.REJECT, person("rita"), reason="Not this week."
                    )
                    engine.decide(request)

                await anyio.to_thread.run_sync(decide)

            group.start_soon(reviewer)
            answer = await agent.call_tool("request_approval", {**CALL, "timeout_seconds": 10})
            seen["view"] = result(answer)

    anyio.run(scenario)
    assert seen["view"]["status"] == "rejected" and seen["view"]["decided_by"] == "rita"


def test_a_quorum_counts_the_answer_given_in_place_as_one_approval(engine: Engine) -> None:
    engine.register_kind(TaskKind("payments", template="", max_attempts=1, approvals=2))
    accounts = engine.accounts
    for name, roles in (("agent", "requester"), ("rita", "reviewer"), ("lena", "reviewer")):
        accounts.add_user(name, PASSWORD, roles)
    desk = Desk(engine, ["payments"])
    task = desk.request_approval(engine.local_principal("mcp", "agent"), _request())
    forms = Forms(("accept", {"decision": "approve"}))
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        server = build_server(desk, LocalIdentity(engine, "rita"), Options(wait=5))
        async with Client(server, mode="legacy", elicitation_callback=forms) as rita:
            ask = {"task_id": task.id, "timeout_seconds": 0.5}
            seen["after_rita"] = result(await rita.call_tool("wait_for_decision", ask))

    anyio.run(scenario)
    assert seen["after_rita"]["status"] == "pending" and len(forms.shown) == 1
    lena = engine.local_principal("cli", "lena")
    engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, lena))
    assert desk.view(task.id)["status"] == "approved"


def test_only_people_the_kind_allows_are_asked_in_place(engine: Engine) -> None:
    engine.register_kind(TaskKind("deploy", template="", max_attempts=1, reviewers=("lena",)))
    for name, roles in (("agent", "requester"), ("rita", "reviewer")):
        engine.accounts.add_user(name, PASSWORD, roles)
    desk = Desk(engine, ["deploy"])
    task = desk.request_approval(engine.local_principal("mcp", "agent"), _request())
    forms = Forms(("accept", {"decision": "approve"}))

    async def scenario() -> None:
        server = build_server(desk, LocalIdentity(engine, "rita"), Options(wait=5))
        async with Client(server, mode="legacy", elicitation_callback=forms) as rita:
            await rita.call_tool("wait_for_decision", {"task_id": task.id, "timeout_seconds": 0.2})

    anyio.run(scenario)
    assert forms.shown == [] and engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_a_kind_from_placet_toml_must_allow_one_attempt(engine: Engine) -> None:
    engine.register_kind(TaskKind("deploy", template="Deploy {service}.", max_attempts=3))
    with pytest.raises(ConfigError, match="kind 'deploy' in placet.toml allows 3 attempts"):
        Desk(engine, ["deploy"])


def test_no_way_of_ending_but_approval_carries_arguments(engine: Engine, clock: Clock) -> None:
    engine.register_kind(
        TaskKind("offer", template="", max_attempts=1, deadline=HOUR, on_deadline="expire")
    )
    desk = Desk(engine, ["tool_call", "offer"])
    agent = engine.local_principal("mcp", "agent")
    rita = person("rita")
    ended: dict[str, Any] = {}
    rejected = desk.request_approval(agent, _request())
    engine.decide(DecisionRequest(rejected.id, DecisionKind.REJECT, rita, reason="No."))
    revised = desk.request_approval(agent, _request(request_id="r2"))
    engine.decide(DecisionRequest(revised.id, DecisionKind.REVISE, rita, feedback="Ask Ann."))
    cancelled = desk.request_approval(agent, _request(request_id="r3"))
    engine.cancel(cancelled.id, "agent", "not needed")
    expired = desk.request_approval(agent, _request(kind="offer"))
    engine.fire_timers(clock.now + HOUR)
    for name, task in (("rejected", rejected), ("revised", revised), ("cancelled", cancelled)):
        ended[name] = desk.view(task.id)
    ended["expired"] = desk.view(expired.id)
    for name, view in ended.items():
        assert view["approved"] is False and "arguments" not in view, name
        assert "do not run send_email" in view["message"], name
    assert ended["rejected"]["status"] == "rejected"
    assert ended["revised"]["status"] == "rejected" and ended["revised"]["feedback"] == "Ask Ann."
    assert ended["cancelled"]["status"] == "cancelled"
    assert ended["cancelled"]["reason"] == "cancelled by agent: not needed"
    assert ended["expired"]["status"] == "expired"
    assert "nobody decided within the deadline" in ended["expired"]["reason"]


def test_an_approved_call_of_a_paused_kind_is_paused_until_resumed(engine: Engine) -> None:
    """The kill switch holds an approved call as it holds the SDK's: not to be run now."""
    desk = Desk(engine)
    agent = engine.local_principal("mcp", "agent")
    task = desk.request_approval(agent, _request())
    engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rita")))
    admin = engine.local_principal("cli", "ana")  # single-user mode: may pause
    engine.pause(admin, "the mailer sends twice", "tool_call")
    paused = desk.view(task.id)
    assert paused["status"] == "paused" and paused["approved"] is False
    assert "arguments" not in paused and "the mailer sends twice" in paused["message"]
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with (
            client(engine, "agent", None, "auto") as agent_client,
            anyio.create_task_group() as group,
        ):
            wait = {"task_id": task.id, "timeout_seconds": 20}

            async def resume_soon() -> None:
                await anyio.sleep(0.5)
                await anyio.to_thread.run_sync(lambda: engine.resume(admin, "tool_call"))

            group.start_soon(resume_soon)
            seen["view"] = result(await agent_client.call_tool("wait_for_decision", wait))

    anyio.run(scenario)
    assert seen["view"]["status"] == "approved" and seen["view"]["arguments"] == ARGUMENTS


def _request(kind: str | None = None, request_id: str | None = None) -> CallRequest:
    return CallRequest("send_email", dict(ARGUMENTS), kind, request_id=request_id)


def _first_waiting(engine: Engine) -> Task:
    deadline = time.monotonic() + 30
    while True:
        found = engine.list_tasks(TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,)))
        if found:
            return found[0]
        assert time.monotonic() < deadline
        time.sleep(0.02)
