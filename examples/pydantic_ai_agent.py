"""A Pydantic AI agent whose refund tool needs a person's approval through Placet.

    pip install 'placet[pydantic-ai]'
    python examples/pydantic_ai_agent.py                 # asks, waits, goes on
    python examples/pydantic_ai_agent.py --resume RUN_ID   # after a restart

The refund tool is registered with `requires_approval=True`, so the run ends
with `DeferredToolRequests`. Placet puts each approval in its review queue
(`placet ls`, `placet review`, the dashboard, human_feedback/pending/) and
continues the run with `DeferredToolResults` built from what a person decided:
`ToolApproved()`, `ToolApproved(override_args=...)` for edited arguments
(checked against the tool's schema), or `ToolDenied(message=reason)`. The
run's message history is kept in Placet (placet.db in this folder): stop this
script while it waits, decide, and `--resume` the printed run id.

The model is Pydantic AI's `FunctionModel` with a script, so that the example
runs with no key and no network; put your own model in `Agent(...)`.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import Any

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

import placet
from placet.integrations.pydantic_ai import PlacetDeferred

REFUNDS = [{"customer": "C-17", "amount": 30.0}, {"customer": "C-42", "amount": 500.0}]


def scripted_model(messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
    """Stands in for an LLM: asks for the refunds, then sums up what each call gave."""
    if len(messages) == 1:
        calls = [
            ToolCallPart("issue_refund", refund, tool_call_id=f"refund-{n}")
            for n, refund in enumerate(REFUNDS)
        ]
        return ModelResponse(parts=list(calls))
    parts = [
        part for message in messages if isinstance(message, ModelRequest) for part in message.parts
    ]
    said = [str(part.content) for part in parts if isinstance(part, ToolReturnPart)]
    return ModelResponse(parts=[TextPart("Done. " + " / ".join(said))])


agent: Agent[None, Any] = Agent(
    FunctionModel(scripted_model), output_type=[str, DeferredToolRequests]
)


@agent.tool_plain(requires_approval=True)
def issue_refund(customer: str, amount: float) -> str:
    """Refund a customer. Runs only once a person approves it, exactly once."""
    print(f"REFUNDED {amount:.2f} to {customer}")  # a real payment API here
    return f"refunded {amount:.2f} to {customer}"


async def main(argv: list[str]) -> int:
    with placet.connect(requester="refund-agent") as client:
        deferred = PlacetDeferred(client, kind="issue_refund")
        if argv[:1] == ["--resume"] and len(argv) == 2:
            result = await deferred.resume(agent, argv[1])
        else:
            run_id = uuid.uuid4().hex[:12]
            print(f"run {run_id}: stop me while I wait, then --resume {run_id}")
            result = await deferred.run(agent, "Refund the two open tickets", run_id=run_id)
    print(result.output)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
