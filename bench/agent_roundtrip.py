"""An approval round trip through each way an agent asks Placet, beside the SDK's own.

One round trip: the agent asks to run ``refund`` (a review item is made), a
person in another process approves it, and the agent is resumed and the
tool runs. The ways: the SDK's ``@require_approval`` (the baseline), the
LangGraph integration (``PlacetInterrupts`` on a ``SqliteSaver``), the MCP
server (``placet mcp`` over stdio, the ``mcp`` SDK's client, with
``start_run`` and ``finish_run`` around the tool), the OpenAI
Agents SDK helper (a scripted ``Model``) and the Pydantic AI helper (a
``FunctionModel``). The person is a decider process started once, which
approves every waiting task as soon as it sees it (``wait_for_change``).

All ways share one SQLite file (WAL, Placet's default FULL synchronous) and
run interleaved, one round trip of each per round, so they see the same
machine. Reported: p50 and p99 of the round trip in milliseconds, and each
way's p50 over the SDK's p50 in the same run.

    .venv/bin/python bench/agent_roundtrip.py [--rounds N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from common import SRC, machine_info, median, percentile, print_table, require_extras, scratch_dir

NEEDS = ("langgraph", "mcp", "agents", "pydantic_ai")
WARMUP = 3
Trip = Callable[[int], Awaitable[None]]
ran: list[int] = []


def refund(customer: str, amount: float) -> str:
    """The tool every way guards."""
    ran.append(1)
    return f"refunded {amount:g} to {customer}"


# -- the decider: a person in another process --------------------------------------------


def decider(url: str) -> None:
    """Approve every task waiting for review, as soon as it is seen, until stdin closes."""
    import threading

    import placet
    from placet.domain.models import TaskStatus
    from placet.domain.queries import TaskFilter
    from placet.engine import DecisionRequest
    from placet.testing import person

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    rita = person("rita")
    waiting = TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), limit=50)
    with placet.connect(url, review_folder=False, quiet=True) as client:
        engine = client.engine
        print("ready", flush=True)
        while not stop.is_set():
            token = engine.change_token()
            for task in engine.list_tasks(waiting):
                engine.decide(DecisionRequest(task.id, _approve(), rita))
            engine.wait_for_change(token, 0.5)


def _approve() -> Any:
    from placet.domain.models import DecisionKind

    return DecisionKind.APPROVE


# -- the ways -------------------------------------------------------------------------------


def sdk_way(client: Any) -> Trip:
    guarded = client.require_approval(kind="refund_sdk")(refund)

    async def trip(n: int) -> None:
        await asyncio.to_thread(guarded, "A", float(n))

    return trip


def langgraph_way(client: Any, folder: Path) -> Trip:
    import sqlite3
    from typing import TypedDict

    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph

    from placet.integrations.langgraph import PlacetInterrupts

    reviews = PlacetInterrupts(client, kind="refund_langgraph")

    class State(TypedDict, total=False):
        amount: float
        said: str

    def node(state: State) -> State:
        review = reviews.interrupt({"customer": "A", "amount": state["amount"]})
        return {"said": refund(**review.value)}

    builder = StateGraph(State)
    builder.add_node("refund", node)
    builder.add_edge(START, "refund")
    builder.add_edge("refund", END)
    conn = sqlite3.connect(folder / "langgraph.db", check_same_thread=False)
    graph = builder.compile(checkpointer=SqliteSaver(conn))

    def once(n: int) -> None:
        config: Any = {"configurable": {"thread_id": uuid.uuid4().hex}}
        graph.invoke({"amount": float(n)}, config)
        reviews.resume(graph, config)

    async def trip(n: int) -> None:
        await asyncio.to_thread(once, n)

    return trip


def openai_agents_way(client: Any) -> Trip:
    from agents import Agent, ModelResponse, function_tool, set_tracing_disabled
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    from placet.integrations.openai_agents import PlacetApprovals

    set_tracing_disabled(True)

    class OneCall(Model):
        async def get_response(
            self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
        ) -> ModelResponse:
            items = [dict(i) for i in input if isinstance(i, dict)]
            if not any(i.get("type") == "function_call" for i in items):
                call = ResponseFunctionToolCall(
                    type="function_call", call_id="c1", name="refund",
                    arguments=json.dumps({"customer": "A", "amount": 1.0}), id="fc1",
                    status="completed",
                )  # fmt: skip
                return ModelResponse(output=[call], usage=Usage(), response_id=None)
            text = ResponseOutputText(type="output_text", text="done", annotations=[])
            message = ResponseOutputMessage(
                id="m", type="message", role="assistant", status="completed", content=[text]
            )
            return ModelResponse(output=[message], usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    agent = Agent(name="a", model=OneCall(), tools=[function_tool(refund, needs_approval=True)])
    approvals = PlacetApprovals(client, kind="refund_openai_agents")

    async def trip(n: int) -> None:
        await approvals.run(agent, "go", run_id=uuid.uuid4().hex)

    return trip


def pydantic_ai_way(client: Any) -> Trip:
    from pydantic_ai import Agent, DeferredToolRequests
    from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    from placet.integrations.pydantic_ai import PlacetDeferred

    def model(messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            args = {"customer": "A", "amount": 1.0}
            return ModelResponse(parts=[ToolCallPart("refund", args, tool_call_id="c1")])
        return ModelResponse(parts=[TextPart("done")])

    agent: Agent[None, Any] = Agent(FunctionModel(model), output_type=[str, DeferredToolRequests])
    agent.tool_plain(requires_approval=True)(refund)
    deferred = PlacetDeferred(client, kind="refund_pydantic_ai")

    async def trip(n: int) -> None:
        await deferred.run(agent, "go", run_id=uuid.uuid4().hex)

    return trip


def mcp_way(session: Any) -> Trip:
    async def trip(n: int) -> None:
        request = {
            "tool": "refund",
            "arguments": {"customer": "A", "amount": float(n)},
            "kind": "refund_mcp",
            "timeout_seconds": 60,
        }
        answer = (await session.call_tool("request_approval", request)).structured_content
        if answer["status"] != "approved":
            raise SystemExit(f"the MCP round trip was not approved: {answer}")
        go = (
            await session.call_tool("start_run", {"task_id": answer["task_id"]})
        ).structured_content
        said = refund(**go["arguments"])  # the go-ahead, once, as the server's instructions ask
        done = {"task_id": answer["task_id"], "ok": True, "result": said}
        await session.call_tool("finish_run", done)

    return trip


# -- the run ----------------------------------------------------------------------------------


async def measure(folder: Path, url: str, rounds: int) -> dict[str, list[float]]:
    from mcp import Client, StdioServerParameters

    import placet

    env = {**os.environ, "PLACET_DATABASE_URL": url, "PLACET_USER": "agent", "PLACET_QUIET": "1"}
    env["PYTHONPATH"] = str(SRC)
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "placet", "mcp", "--kind", "refund_mcp", "--no-ask-in-place"],
        env=env,
        cwd=str(folder),
    )
    with placet.connect(url, requester="agent", review_folder=False, quiet=True) as client:
        async with Client(server) as session:
            ways: dict[str, Trip] = {
                "SDK @require_approval (baseline)": sdk_way(client),
                "LangGraph PlacetInterrupts": langgraph_way(client, folder),
                "MCP server (stdio)": mcp_way(session),
                "OpenAI Agents SDK PlacetApprovals": openai_agents_way(client),
                "Pydantic AI PlacetDeferred": pydantic_ai_way(client),
            }
            times: dict[str, list[float]] = {name: [] for name in ways}
            for n in range(WARMUP + rounds):
                for name, trip in ways.items():
                    started = time.perf_counter()
                    await trip(n)
                    if n >= WARMUP:
                        times[name].append((time.perf_counter() - started) * 1000)
    return times


def report(times: dict[str, list[float]], rounds: int) -> None:
    base = median(times["SDK @require_approval (baseline)"])
    rows = [
        [name, len(values), median(values), percentile(values, 99), median(values) / base]
        for name, values in times.items()
    ]
    print_table(
        f"Approval round trip, {rounds} per way, interleaved (ms; ratio of p50s to the SDK's)",
        ["way in", "trips", "p50 ms", "p99 ms", "p50 / SDK p50"],
        rows,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="10 rounds: a fast check")
    parser.add_argument("--decider", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.decider:
        decider(args.decider)
        return 0
    require_extras("bench/agent_roundtrip.py", *NEEDS)
    rounds = 10 if args.quick else args.rounds
    print(machine_info())
    with scratch_dir("placet-bench-agents-") as folder:
        url = f"sqlite:///{folder / 'placet.db'}"
        env = {**os.environ, "PYTHONPATH": str(SRC), "PLACET_QUIET": "1"}
        person = subprocess.Popen(
            [sys.executable, __file__, "--decider", url], env=env, cwd=folder,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert person.stdout is not None and person.stdin is not None
        if person.stdout.readline().strip() != "ready":
            raise SystemExit("the decider process did not start")
        try:
            times = asyncio.run(measure(folder, url, rounds))
        finally:
            person.stdin.close()
            person.wait(timeout=30)
    report(times, rounds)
    expected = (WARMUP + rounds) * len(times)
    print(f"\ntools run: {len(ran)} of {expected} round trips (each exactly once)")
    return 0 if len(ran) == expected else 1


if __name__ == "__main__":
    sys.exit(main())
