"""One approval scenario suite, run against every way an agent asks Placet for approval.

The ways: the SDK's ``@require_approval``, the LangGraph integration, the MCP
server (``placet mcp`` over stdio), the OpenAI Agents SDK helper and the
Pydantic AI helper. Each agent is a real program on the real package with its
own scripted model (``agent_programs.py``), run as a subprocess; people
decide from this process through an engine of their own, as any channel
does. On SQLite, then PostgreSQL. The seven scenarios:

1. approve runs the action once; reject never runs it, and the agent gets the reason;
2. three approvals pending in one run, decided out of order: each reaches its own call;
3. the process dies while waiting; a new process resumes and gets the decision;
   nothing runs twice;
4. an approval for an older call never runs a newer one with other arguments;
5. edited arguments run as edited, and the agent does not retry the original;
6. a second decision on the same request is refused;
7. a requester cannot approve their own request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.errors import PermissionDeniedError, PlacetError
from placet.testing import person
from tests.integration.mcp_world import World

pytestmark = pytest.mark.slow
WAYS = ("sdk", "langgraph", "mcp", "openai_agents", "pydantic_ai")
ROOT = Path(__file__).resolve().parents[2]
RITA, RAJ = person("rita"), person("raj")
SECONDS = 120.0
A30 = {"customer": "A", "amount": 30}


class Program:
    """One agent process of a way, on the world's database."""

    def __init__(self, world: World, way: str, run_id: str, plan: list[list[dict[str, Any]]]):
        self.world, self.way, self.run_id, self.plan = world, way, run_id, plan
        self.process: subprocess.Popen[str] | None = None

    def start(self, mode: str = "start") -> Program:
        source = f"{ROOT / 'src'}{os.pathsep}{ROOT}"
        env = {**self.world.env, "PYTHONPATH": source, "PLACET_QUIET": "1"}
        command = [sys.executable, "-m", "tests.integration.agent_programs", self.way,
                   str(self.world.folder), self.run_id, mode, json.dumps(self.plan)]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        return self

    def outputs(self) -> list[str]:
        """Wait for the agent's end; what it got for each call."""
        out, err, code = self._ended()
        assert code == 0, f"{self.way} agent exited with {code}:\n{err[-3000:]}"
        return list(json.loads(out.strip().splitlines()[-1])["outputs"])

    def failure(self) -> str:
        """Wait for the agent's end, which must be a failure; its stderr."""
        out, err, code = self._ended()
        assert code != 0, f"{self.way} agent should have refused, but said {out!r}"
        return err

    def _ended(self) -> tuple[str, str, int]:
        assert self.process is not None
        try:
            out, err = self.process.communicate(timeout=SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return out, err, self.process.returncode

    def kill(self) -> None:
        """SIGKILL the agent and whatever it started (a stdio MCP server), as a crash does."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.communicate()


@pytest.fixture
def world(tmp_path: Path, url: str) -> Iterator[World]:
    """A folder and a database (SQLite, then PostgreSQL) that agents and people share."""
    world = World(tmp_path, url)
    yield world
    world.close()


@pytest.fixture(params=WAYS)
def way(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def agent(world: World, way: str, *batches: list[dict[str, Any]]) -> Program:
    return Program(world, way, uuid.uuid4().hex[:12], list(batches)).start()


def ledger(world: World) -> list[dict[str, Any]]:
    """Every run of the tool, in order, from every process."""
    path = world.folder / "ledger.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def ran(world: World) -> list[tuple[str, float]]:
    return [(line["customer"], line["amount"]) for line in ledger(world)]


def waiting_for(program: Program, **arguments: Any) -> Task:
    """The task waiting for review with these arguments, once the agent asked for it."""
    world, deadline = program.world, time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        if program.process is not None and program.process.poll() is not None:
            _, err = program.process.communicate()
            raise AssertionError(f"the {program.way} agent ended before asking:\n{err[-3000:]}")
        for task in world.engine.list_tasks(
            TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), limit=100)
        ):
            if task.input["call"]["arguments"] == arguments:
                return task
        time.sleep(0.05)
    raise AssertionError(f"no call with {arguments} waited for review")


def approve(world: World, task: Task, who: Any = RITA) -> Task:
    return world.decide(who, task.id, DecisionKind.APPROVE)


def reject(world: World, task: Task, reason: str) -> Task:
    return world.decide(RITA, task.id, DecisionKind.REJECT, reason=reason)


def edit(world: World, task: Task, **arguments: Any) -> Task:
    return world.decide(RITA, task.id, DecisionKind.EDIT, text=json.dumps(arguments))


# -- 1 --------------------------------------------------------------------------------------


def test_1_approve_runs_once_and_reject_never_runs_with_the_reason(world: World, way: str) -> None:
    approved = agent(world, way, [A30])
    approve(world, waiting_for(approved, **A30))
    assert approved.outputs() == ["refunded 30 to A"]
    assert ran(world) == [("A", 30)]

    refused = agent(world, way, [{"customer": "B", "amount": 70}])
    reject(world, waiting_for(refused, customer="B", amount=70), "B was refunded last week")
    (said,) = refused.outputs()
    assert "B was refunded last week" in said
    assert ran(world) == [("A", 30)]


# -- 2 --------------------------------------------------------------------------------------


def test_2_three_pending_decided_out_of_order_each_reach_their_own_call(
    world: World, way: str
) -> None:
    calls = [A30, {"customer": "B", "amount": 40}, {"customer": "C", "amount": 50}]
    program = agent(world, way, calls)
    a, b, c = (waiting_for(program, **call) for call in calls)
    reject(world, c, "C is not a customer")
    edit(world, a, customer="A", amount=25)
    approve(world, b)
    first, second, third = program.outputs()
    assert (first, second) == ("refunded 25 to A", "refunded 40 to B")
    assert "C is not a customer" in third
    assert sorted(ran(world)) == [("A", 25), ("B", 40)]


# -- 3 --------------------------------------------------------------------------------------


def test_3_a_new_process_resumes_after_a_crash_and_nothing_runs_twice(
    world: World, way: str
) -> None:
    first = agent(world, way, [A30])
    task = waiting_for(first, **A30)
    first.kill()  # dies while it waits
    approve(world, task)
    second = Program(world, way, first.run_id, first.plan).start("resume")
    assert second.outputs() == ["refunded 30 to A"]
    (line,) = ledger(world)
    assert second.process is not None and line["pid"] == second.process.pid

    third = Program(world, way, first.run_id, first.plan).start("resume")
    if way == "mcp":
        # The server told a third process the request is approved, as it tells any
        # retry; its start_run said the call had already started, so it did not run.
        (said,) = third.outputs()
        assert "already started" in said
    elif way == "sdk":
        assert third.outputs() == []  # nothing of the run waits any more
    else:
        assert "already" in third.failure() or "no " in third.failure()
    assert len(ledger(world)) == 1


# -- 4 --------------------------------------------------------------------------------------


def test_4_an_approval_for_an_older_call_never_runs_a_newer_one(world: World, way: str) -> None:
    program = agent(world, way, [A30], [{"customer": "A", "amount": 500}])
    approve(world, waiting_for(program, **A30))
    newer = waiting_for(program, customer="A", amount=500)
    assert ran(world) == [("A", 30)]  # the approval ran its own call only
    assert newer.status is TaskStatus.AWAITING_REVIEW
    reject(world, newer, "500 is too much")
    older, refused = program.outputs()
    assert older == "refunded 30 to A" and "500 is too much" in refused
    assert ran(world) == [("A", 30)]


# -- 5 --------------------------------------------------------------------------------------


def test_5_edited_arguments_run_as_edited_and_the_original_never_runs(
    world: World, way: str
) -> None:
    program = agent(world, way, [A30])
    edit(world, waiting_for(program, **A30), customer="A", amount=12.5)
    assert program.outputs() == ["refunded 12.5 to A"]
    assert ran(world) == [("A", 12.5)]


def test_5_an_edit_that_does_not_fit_the_tool_is_refused_when_made(world: World, way: str) -> None:
    program = agent(world, way, [A30])
    task = waiting_for(program, **A30)
    with pytest.raises(PlacetError, match="amount"):
        edit(world, task, customer="A", amount="lots")
    with pytest.raises(PlacetError, match="colour"):
        edit(world, task, customer="A", amount=30, colour="red")
    approve(world, task)
    assert program.outputs() == ["refunded 30 to A"]


# -- 6 --------------------------------------------------------------------------------------


def test_6_a_second_decision_on_the_same_request_is_refused(world: World, way: str) -> None:
    program = agent(world, way, [A30])
    task = waiting_for(program, **A30)
    approve(world, task)
    with pytest.raises(PlacetError):
        world.decide(RAJ, task.id, DecisionKind.REJECT, reason="changed my mind")
    assert program.outputs() == ["refunded 30 to A"]
    assert world.engine.get(task.id).status is TaskStatus.APPROVED
    assert ran(world) == [("A", 30)]


# -- 7 --------------------------------------------------------------------------------------


def test_7_a_requester_cannot_approve_their_own_request(world: World, way: str) -> None:
    program = agent(world, way, [A30])
    task = waiting_for(program, **A30)
    assert task.requester == "agent"
    with pytest.raises(PermissionDeniedError, match="cannot decide"):
        approve(world, task, who=person("agent"))
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    assert ran(world) == []
    approve(world, task)
    assert program.outputs() == ["refunded 30 to A"]
    assert ran(world) == [("A", 30)]
