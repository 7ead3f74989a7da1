"""``placet mcp --http``: streamable HTTP on loopback, each caller a Placet API token's account.

The server is the real command; agents and reviewers are the MCP SDK's client
over HTTP with their own tokens; the separation of duties and the kinds'
reviewers are the engine's, as for every door.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import pytest
from mcp.types import ElicitRequestFormParams, ElicitResult

from placet.domain.models import TaskStatus
from tests.integration.mcp_world import World, error_text, http_client, result, run

pytestmark = pytest.mark.slow
PASSWORD = "s3cret-pass"
CALL = {"tool": "deploy", "arguments": {"service": "billing", "version": "1.4.2"}}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}


class People:
    """Accounts and their tokens: an agent that asks, reviewers, a viewer."""

    def __init__(self, world: World) -> None:
        accounts = world.engine.accounts
        self.tokens: dict[str, str] = {}
        self.token_ids: dict[str, str] = {}
        for name, roles in (
            ("agent", "requester"),
            ("rita", "reviewer"),
            ("lena", "reviewer"),
            ("vera", "viewer"),
            ("bob", "requester"),
        ):
            accounts.add_user(name, PASSWORD, roles)
            self.tokens[name], token = accounts.create_token(name, "mcp")
            self.token_ids[name] = token.id


@pytest.fixture
def world(tmp_path: Path, url: str) -> Iterator[World]:
    world = World(tmp_path, url)
    yield world
    world.close()


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path, f"sqlite:///{tmp_path / 'placet.db'}")
    yield world
    world.close()


def status_without(url: str, headers: dict[str, str]) -> httpx2.Response:
    """A bare MCP request with these headers, as any HTTP client could send it."""
    accept = {"Accept": "application/json, text/event-stream", **headers}
    return httpx2.post(url, json=INITIALIZE, headers=accept, timeout=30)


def test_only_a_live_token_of_an_enabled_account_gets_in(sqlite_world: World) -> None:
    world = sqlite_world
    people = People(world)
    seen: dict[str, Any] = {}
    with world.http_server() as url:
        nobody = status_without(url, {})
        wrong = status_without(url, {"Authorization": "Bearer plc_not-a-token"})
        world.engine.accounts.revoke_token(people.token_ids["bob"])
        revoked = status_without(url, {"Authorization": f"Bearer {people.tokens['bob']}"})
        world.engine.accounts.set_disabled("lena", True)
        disabled = status_without(url, {"Authorization": f"Bearer {people.tokens['lena']}"})
        live = status_without(url, {"Authorization": f"Bearer {people.tokens['agent']}"})

        async def scenario() -> None:
            with pytest.raises(Exception, match="unhandled errors"):  # the SDK's client: refused
                async with http_client(url, "plc_not-a-token"):
                    pass
            async with http_client(url, people.tokens["rita"]) as rita:
                first = await rita.call_tool("check_request", {"task_id": "01NOSUCHTASK"})
                seen["before"] = error_text(first)
                world.engine.accounts.revoke_token(people.token_ids["rita"])
                with pytest.raises(Exception):  # noqa: B017 - refused mid-session, at once
                    await rita.call_tool("check_request", {"task_id": "01NOSUCHTASK"})

        run(scenario)
    for refused in (nobody, wrong, revoked, disabled):
        assert refused.status_code == 401, refused.text
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert live.status_code == 200
    assert "no task 01NOSUCHTASK" in seen["before"]
    refusals = [
        event
        for event in world.engine.accounts.security_events("anonymous")
        if event.action == "authenticate" and event.target == "mcp"
    ]
    assert len(refusals) >= 4
    assert all(event.outcome == "refused" for event in refusals)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_a_reviewer_answers_in_place_and_a_requester_never_approves_their_own(
    world: World, mode: str
) -> None:
    """The agent's own client is never asked (separation of duties); a reviewer's client
    waiting on the same request is, and their answer is their decision, through the
    one decision path, with channel mcp."""
    people = People(world)
    asked: dict[str, list[ElicitRequestFormParams]] = {"agent": [], "rita": []}

    def at_client(name: str, content: dict[str, Any]) -> Any:
        async def answer(_context: Any, params: Any) -> ElicitResult:
            asked[name].append(params)
            return ElicitResult(action="accept", content=content)

        return answer

    edited = {**CALL["arguments"], "version": "1.4.3"}
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        agent_form = at_client("agent", {"decision": "approve"})
        rita_form = at_client("rita", {"decision": "edit", "arguments": json.dumps(edited)})
        async with (
            http_client(url, people.tokens["agent"], mode, agent_form) as agent,
            http_client(url, people.tokens["rita"], mode, rita_form) as rita,
        ):
            asked = await agent.call_tool("request_approval", {**CALL, "timeout_seconds": 1})
            seen["first"] = first = result(asked)
            wait = {"task_id": first["task_id"], "timeout_seconds": 10}
            seen["rita"] = result(await rita.call_tool("wait_for_decision", wait))
            seen["agent"] = result(await agent.call_tool("wait_for_decision", wait))

    with world.http_server() as url:
        run(scenario)
    assert seen["first"]["status"] == "pending" and asked["agent"] == []
    assert len(asked["rita"]) == 1 and "agent asks to run deploy" in asked["rita"][0].message
    for view in (seen["rita"], seen["agent"]):
        assert view["status"] == "approved" and view["edited"] is True
        assert view["arguments"] == edited and view["decided_by"] == "rita"
    task = world.engine.get(seen["first"]["task_id"])
    assert task.requester == "agent" and task.status is TaskStatus.APPROVED
    event = world.decision_event(task.id)
    assert event.actor == "rita" and event.payload["channel"] == "mcp"
    assert "mode" not in event.payload  # an account's decision, not single-user mode


def test_who_may_ask_and_who_sees_what(world: World) -> None:
    people = People(world)
    seen: dict[str, Any] = {}

    async def pending_of(name: str) -> list[dict[str, Any]]:
        async with http_client(url, people.tokens[name]) as client:
            read = await client.read_resource("placet://pending")
            return list(json.loads(read.contents[0].text))  # type: ignore[union-attr]

    async def scenario() -> None:
        async with http_client(url, people.tokens["agent"]) as agent:
            ask = {**CALL, "timeout_seconds": 0, "summary": "Ship the invoice fix."}
            seen["asked"] = result(await agent.call_tool("request_approval", ask))
        async with http_client(url, people.tokens["bob"]) as bob:
            ask = {"question": "Lunch?", "timeout_seconds": 0}
            seen["bob"] = result(await bob.call_tool("ask_person", ask))
            hidden = await bob.call_tool("check_request", {"task_id": seen["asked"]["task_id"]})
            seen["hidden"] = error_text(hidden)
            with pytest.raises(Exception, match="no task"):
                await bob.read_resource(f"placet://tasks/{seen['asked']['task_id']}")
        async with http_client(url, people.tokens["vera"]) as vera:
            seen["viewer"] = error_text(await vera.call_tool("request_approval", CALL))
        for name in ("agent", "rita", "vera"):
            seen[name] = await pending_of(name)
        async with http_client(url, people.tokens["agent"]) as agent:
            read = await agent.read_resource(f"placet://tasks/{seen['asked']['task_id']}")
            seen["task"] = json.loads(read.contents[0].text)  # type: ignore[union-attr]

    with world.http_server() as url:
        run(scenario)
    assert seen["asked"]["status"] == "pending" and seen["bob"]["status"] == "pending"
    assert f"no task {seen['asked']['task_id']}" in seen["hidden"]
    assert "vera lacks the permission to submit" in seen["viewer"]
    own = seen["agent"]
    assert [item["task_id"] for item in own] == [seen["asked"]["task_id"]]
    assert own[0]["tool"] == "deploy" and own[0]["summary"] == "Ship the invoice fix."
    assert seen["task"]["status"] == "pending" and seen["task"]["tool"] == "deploy"
    for name in ("rita", "vera"):  # people who see the queue see every waiting request
        assert {item["requester"] for item in seen[name]} == {"agent", "bob"}


def test_a_decision_made_in_another_process_reaches_the_agent_over_http(world: World) -> None:
    """A reviewer's `placet reject` in a terminal wakes the agent's waiting call."""
    people = People(world)
    seen: dict[str, Any] = {}

    def reject_in_a_terminal() -> None:
        task = world.waiting()[0]
        done = world.cli("reject", task.id, "--reason", "Freeze until Monday.", user="lena")
        assert done.returncode == 0, done.stderr

    async def scenario() -> None:
        async with (
            http_client(url, people.tokens["agent"]) as agent,
            anyio.create_task_group() as group,
        ):
            group.start_soon(anyio.to_thread.run_sync, reject_in_a_terminal)
            call = await agent.call_tool("request_approval", {**CALL, "timeout_seconds": 60})
            seen["view"] = result(call)

    with world.http_server() as url:
        run(scenario)
    view = seen["view"]
    assert view["status"] == "rejected" and view["approved"] is False
    assert "arguments" not in view and view["reason"] == "Freeze until Monday."
    assert view["decided_by"] == "lena"
    assert world.decision_event(view["task_id"]).payload["channel"] == "cli"


def test_http_needs_accounts_and_stdio_needs_an_account_once_there_are_some(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    no_accounts = world.cli("mcp", "--http", "--port", "0")
    assert no_accounts.returncode == 1
    assert "placet mcp --http needs Placet accounts" in no_accounts.stderr
    world.engine.accounts.add_user("rita", PASSWORD, "reviewer")
    stranger = world.cli("mcp")  # PLACET_USER is agent, who has no account
    assert stranger.returncode == 1
    assert "agent has no Placet account" in stranger.stderr
    assert stranger.stdout == ""  # stdout is the wire: nothing but MCP goes there
