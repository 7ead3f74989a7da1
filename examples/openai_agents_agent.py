"""An OpenAI Agents SDK agent whose refund tool needs a person's approval through Placet.

    pip install 'placet[openai-agents]'
    python examples/openai_agents_agent.py              # asks, waits, goes on
    python examples/openai_agents_agent.py --resume RUN_ID   # after a restart

The refund tool is marked `needs_approval=True`, as the SDK has it. Placet
turns each pending approval into a review item (`placet ls`, `placet review`,
the dashboard, human_feedback/pending/) and resumes the run with what a person
decided: approve runs the tool, reject hands the model the reason, and an edit
of the arguments (which the SDK alone does not offer) runs the tool with the
edited ones, checked against the tool's schema. The run's state is kept in
Placet (placet.db in this folder): stop this script while it waits, decide,
and `--resume` the printed run id in a new process; nothing runs twice.

The model is scripted so that the example runs with no key and no network
(it asks for two refunds, then reports); put your own model in `Agent(...)`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

from agents import Agent, ModelResponse, function_tool, set_tracing_disabled
from agents.models.interface import Model
from agents.usage import Usage
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

import placet
from placet.integrations.openai_agents import PlacetApprovals

REFUNDS = [{"customer": "C-17", "amount": 30.0}, {"customer": "C-42", "amount": 500.0}]


@function_tool(needs_approval=True)
def issue_refund(customer: str, amount: float) -> str:
    """Refund a customer. Runs only once a person approves it, exactly once."""
    print(f"REFUNDED {amount:.2f} to {customer}")  # a real payment API here
    return f"refunded {amount:.2f} to {customer}"


class ScriptedModel(Model):
    """Stands in for an LLM: asks for the refunds, then sums up what each call gave."""

    async def get_response(
        self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        items = [dict(item) for item in input if isinstance(item, dict)]
        outputs = [item["output"] for item in items if item.get("type") == "function_call_output"]
        if not any(item.get("type") == "function_call" for item in items):
            calls: list[Any] = [
                ResponseFunctionToolCall(
                    type="function_call", call_id=f"refund-{n}", name="issue_refund",
                    arguments=json.dumps(refund), id=f"fc-{n}", status="completed",
                )
                for n, refund in enumerate(REFUNDS)
            ]  # fmt: skip
            return ModelResponse(output=calls, usage=Usage(), response_id=None)
        text = "Done. " + " / ".join(str(output) for output in outputs)
        message = ResponseOutputMessage(
            id="msg", type="message", role="assistant", status="completed",
            content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
        )  # fmt: skip
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the example's model answers in one piece")


async def main(argv: list[str]) -> int:
    set_tracing_disabled(True)  # the SDK's tracing goes to OpenAI; this example has no key
    agent = Agent(name="support", model=ScriptedModel(), tools=[issue_refund])
    with placet.connect(requester="refund-agent") as client:
        approvals = PlacetApprovals(client, kind="issue_refund")
        if argv[:1] == ["--resume"] and len(argv) == 2:
            result = await approvals.resume(agent, argv[1])
        else:
            run_id = uuid.uuid4().hex[:12]
            print(f"run {run_id}: stop me while I wait, then --resume {run_id}")
            result = await approvals.run(agent, "Refund the two open tickets", run_id=run_id)
    print(result.final_output)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
