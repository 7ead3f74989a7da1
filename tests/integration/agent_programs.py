"""The approval scenario suite's agents: one program, five ways into Placet.

    python -m tests.integration.agent_programs WAY FOLDER RUN_ID start|resume PLAN_JSON

Each way drives its real package: the SDK's ``@require_approval`` in a plain
loop, a LangGraph graph (a SqliteSaver on a file), ``placet mcp`` over stdio
with the ``mcp`` SDK's client (``start_run`` before the tool runs), the OpenAI
Agents SDK with a scripted ``Model``, Pydantic AI with a ``FunctionModel``. The plan is a list of
batches; each batch is the tool calls the agent makes in one turn (all
pending at once), the next batch comes once the agent has the answers. The
tool is ``refund(customer, amount)``; each run of it appends a line to
``ledger.jsonl`` in the folder, so the test sees what ran, in any process.
``resume`` goes on with a run after its first process died (a restart).

The program prints one JSON line: ``{"outputs": [...]}``, what the agent got
for each call in order (the tool's output, or the reason it was refused).
The scripted models are stateless: they read the conversation to know which
batch comes next, so a resumed run in a new process goes on where it was.
"""

from __future__ import annotations

import asyncio
import json
import operator
import os
import sys
from pathlib import Path
from typing import Annotated, Any, TypedDict

REQUESTER = "agent"
Plan = list[list[dict[str, Any]]]
FOLDER = Path(".")


class State(TypedDict, total=False):
    """The LangGraph agent's state: the round it is in, and what each call gave."""

    round: int
    outputs: Annotated[list[list[Any]], operator.add]


def refund(customer: str, amount: float) -> str:
    """The risky tool: every run is a line in the ledger."""
    line = {"customer": customer, "amount": amount, "pid": os.getpid()}
    with (FOLDER / "ledger.jsonl").open("a") as ledger:
        ledger.write(json.dumps(line) + "\n")
    return f"refunded {amount:g} to {customer}"


def call_id(batch: int, index: int) -> str:
    return f"call-{batch}-{index}"


def next_batch(plan: Plan, asked: set[str]) -> int:
    """The first batch the agent has not asked yet (len(plan): all asked)."""
    for number, batch in enumerate(plan):
        if any(call_id(number, i) not in asked for i in range(len(batch))):
            return number
    return len(plan)


def in_order(plan: Plan, said: dict[str, Any]) -> str:
    """The model's last word: what each call of the plan gave, in order, as JSON."""
    return json.dumps([str(said[call_id(n, i)]) for n, b in enumerate(plan) for i in range(len(b))])


def connect() -> Any:
    import placet

    return placet.connect(
        os.environ["PLACET_DATABASE_URL"], directory=str(FOLDER), requester=REQUESTER, quiet=True
    )


# -- the SDK's @require_approval ----------------------------------------------------------


def run_sdk(run_id: str, mode: str, plan: Plan) -> list[str]:
    """A plain loop; after a restart, ``guarded.resume`` takes up the run's waiting calls."""
    client = connect()
    guarded = client.require_approval(kind=f"refund-{run_id}", blocking=False)(refund)
    outputs: list[str] = []
    try:
        if mode == "resume":
            for task in _sdk_waiting(client, f"refund-{run_id}"):
                outputs.append(_sdk_outcome(lambda task=task: guarded.resume(task.id)))
            return outputs
        for batch in plan:
            pending = [guarded(**call) for call in batch]
            outputs += [_sdk_outcome(lambda p=p: p.result()) for p in pending]
        return outputs
    finally:
        client.close()


def _sdk_waiting(client: Any, kind: str) -> list[Any]:
    from placet.domain.executions import execution_of
    from placet.domain.queries import TaskFilter

    tasks = client.engine.list_tasks(TaskFilter(kinds=(kind,), limit=100))
    return [t for t in tasks if execution_of(client.engine.detail(t.id).events) is None]


def _sdk_outcome(run: Any) -> str:
    import placet

    try:
        return str(run())
    except placet.Rejected as rejection:
        return rejection.reason


# -- LangGraph ----------------------------------------------------------------------------


def run_langgraph(run_id: str, mode: str, plan: Plan) -> list[str]:
    import sqlite3
    from contextlib import closing

    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    from placet.integrations.langgraph import PlacetInterrupts

    client = connect()
    reviews = PlacetInterrupts(client, kind="refund")

    def next_round(state: State) -> State:
        return {"round": state.get("round", 0) + 1}

    def fan_out(state: State) -> Any:
        number = state["round"] - 1
        if number >= len(plan):
            return END
        return [
            Send("refund", {"call": call, "at": [number, index]})
            for index, call in enumerate(plan[number])
        ]

    def refund_node(job: dict[str, Any]) -> State:
        review = reviews.interrupt(job["call"], title="Refund?")
        said = refund(**review.value) if review.approved else str(review.reason)
        return {"outputs": [[*job["at"], said]]}

    builder = StateGraph(State)
    builder.add_node("plan", next_round)
    builder.add_node("refund", refund_node)  # type: ignore[arg-type]
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", fan_out, ["refund", END])
    builder.add_edge("refund", "plan")
    config: Any = {"configurable": {"thread_id": run_id}}
    with closing(sqlite3.connect(FOLDER / "langgraph.db", check_same_thread=False)) as conn:
        graph = builder.compile(checkpointer=SqliteSaver(conn))
        if mode == "resume":
            result = reviews.resume(graph, config)
        else:
            result = graph.invoke({"round": 0}, config)
        while "__interrupt__" in result:
            result = reviews.resume(graph, config)
    client.close()
    return [said for *_, said in sorted(result.get("outputs", []))]


# -- the MCP server ---------------------------------------------------------------------------


def run_mcp(run_id: str, mode: str, plan: Plan) -> list[str]:
    import anyio
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "placet", "mcp", "--kind", "refund"],
        env={k: v for k, v in os.environ.items()},
        cwd=str(FOLDER),
    )
    outputs: list[str] = []

    async def ask(agent: Any, number: int, index: int, call: Any, into: list[str]) -> None:
        arguments = {
            "tool": "refund",
            "arguments": call,
            "request_id": f"{run_id}:{call_id(number, index)}",
            "timeout_seconds": 120,
        }
        while True:
            answer = (await agent.call_tool("request_approval", arguments)).structured_content
            if answer["status"] != "pending":
                break
        if answer["status"] != "approved":
            into[index] = str(answer.get("reason") or answer["message"])
            return
        # The go-ahead, once per approval: a process resumed after a crash is told
        # "already_started" for a call another process ran.
        start = await agent.call_tool("start_run", {"task_id": answer["task_id"]})
        go = start.structured_content
        if go["status"] != "started":
            into[index] = str(go["message"])
            return
        into[index] = refund(**go["arguments"])
        finish = {"task_id": answer["task_id"], "ok": True, "result": into[index]}
        await agent.call_tool("finish_run", finish)

    async def agent_run() -> None:
        async with Client(params) as agent:
            # A resumed agent asks again with the same request ids: the same requests.
            for number, batch in enumerate(plan):
                answers = [""] * len(batch)
                async with anyio.create_task_group() as group:
                    for index, call in enumerate(batch):
                        group.start_soon(ask, agent, number, index, call, answers)
                outputs.extend(answers)

    anyio.run(agent_run)
    return outputs


# -- the OpenAI Agents SDK ------------------------------------------------------------------


def scripted_openai_model(plan: Plan, on_input: Any = None) -> Any:
    """An Agents SDK ``Model`` that asks for each batch in turn, then says what each call gave."""
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    class Scripted(Model):
        async def get_response(
            self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
        ) -> ModelResponse:
            items = [dict(i) for i in input if isinstance(i, dict)]
            if on_input is not None:
                on_input(items)
            asked = {i["call_id"] for i in items if i.get("type") == "function_call"}
            number = next_batch(plan, asked)
            if number < len(plan):
                output: list[Any] = [
                    ResponseFunctionToolCall(
                        type="function_call", call_id=call_id(number, index), name="refund",
                        arguments=json.dumps(call), id=f"fc-{number}-{index}", status="completed",
                    )
                    for index, call in enumerate(plan[number])
                ]  # fmt: skip
            else:
                outs = [i for i in items if i.get("type") == "function_call_output"]
                text = in_order(plan, {i["call_id"]: i["output"] for i in outs})
                output = [
                    ResponseOutputMessage(
                        id="msg", type="message", role="assistant", status="completed",
                        content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
                    )
                ]  # fmt: skip
            return ModelResponse(output=output, usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    return Scripted()


def run_openai_agents(run_id: str, mode: str, plan: Plan) -> list[str]:
    from agents import Agent, function_tool

    from placet.integrations.openai_agents import PlacetApprovals

    tool = function_tool(refund, needs_approval=True)
    agent = Agent(name="support", model=scripted_openai_model(plan), tools=[tool])
    client = connect()
    approvals = PlacetApprovals(client, kind="refund")
    try:
        if mode == "resume":
            result = asyncio.run(approvals.resume(agent, run_id))
        else:
            result = asyncio.run(approvals.run(agent, "refund them", run_id=run_id))
    finally:
        client.close()
    return [str(said) for said in json.loads(result.final_output)]


# -- Pydantic AI ------------------------------------------------------------------------------


def run_pydantic_ai(run_id: str, mode: str, plan: Plan) -> list[str]:
    from pydantic_ai import Agent, DeferredToolRequests
    from pydantic_ai.messages import (
        ModelMessage,
        ModelRequest,
        ModelResponse,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
    )
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    from placet.integrations.pydantic_ai import PlacetDeferred

    def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls = [p for m in messages if isinstance(m, ModelResponse) for p in m.parts]
        asked = {p.tool_call_id for p in calls if isinstance(p, ToolCallPart)}
        number = next_batch(plan, asked)
        if number < len(plan):
            return ModelResponse(
                parts=[
                    ToolCallPart("refund", dict(call), tool_call_id=call_id(number, index))
                    for index, call in enumerate(plan[number])
                ]
            )
        returns = [p for m in messages if isinstance(m, ModelRequest) for p in m.parts]
        said = {p.tool_call_id: p.content for p in returns if isinstance(p, ToolReturnPart)}
        return ModelResponse(parts=[TextPart(in_order(plan, said))])

    model = FunctionModel(scripted)
    agent: Agent[None, Any] = Agent(model, output_type=[str, DeferredToolRequests])
    agent.tool_plain(requires_approval=True)(refund)
    client = connect()
    deferred = PlacetDeferred(client, kind="refund")
    try:
        if mode == "resume":
            result = asyncio.run(deferred.resume(agent, run_id))
        else:
            result = asyncio.run(deferred.run(agent, "refund them", run_id=run_id))
    finally:
        client.close()
    return [str(said) for said in json.loads(result.output)]


WAYS = {
    "sdk": run_sdk,
    "langgraph": run_langgraph,
    "mcp": run_mcp,
    "openai_agents": run_openai_agents,
    "pydantic_ai": run_pydantic_ai,
}


def main(argv: list[str]) -> int:
    global FOLDER
    way, folder, run_id, mode, plan = argv
    FOLDER = Path(folder)
    outputs = WAYS[way](run_id, mode, json.loads(plan))
    print(json.dumps({"outputs": outputs}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
