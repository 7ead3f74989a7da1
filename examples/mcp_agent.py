"""An MCP client agent whose email-sending tool needs a person's approval through Placet.

    pip install 'placet[mcp]'
    python examples/mcp_agent.py ada@example.com "Your trial ends Friday"

The agent is scripted (no model): it starts `placet mcp` over stdio, as a
desktop or IDE client does, and asks request_approval to run send_email. The
request waits in `placet ls`, `placet review`, the dashboard and the review
folder; this terminal is asked too (MCP elicitation), since with no accounts
you are the one local person who may decide. The email is "sent" only when the
answer's status is approved, with the arguments as approved (a person may have
edited them); anything else is reported and nothing is sent. A request that is
still pending is waited on again with wait_for_decision, under the same
request id, so a retry never makes a second request.
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

import anyio
import anyio.to_thread
from mcp import Client, StdioServerParameters
from mcp.types import ElicitResult


async def answer_here(_context: Any, params: Any) -> ElicitResult:
    """The person at this client: shown the request, answers approve, reject or skip."""
    print(f"\n{params.message}")
    said = await anyio.to_thread.run_sync(input, "approve / reject / skip (leave it to others)? ")
    if said.strip().lower().startswith("a"):
        return ElicitResult(action="accept", content={"decision": "approve"})
    if said.strip().lower().startswith("r"):
        reason = await anyio.to_thread.run_sync(input, "why? ")
        return ElicitResult(action="accept", content={"decision": "reject", "reason": reason})
    return ElicitResult(action="cancel")


def send_email(to: str, subject: str) -> None:
    print(f"\nSENT to {to}: {subject}")  # a real mailer here


async def main(to: str, subject: str) -> None:
    # The server runs as you, here, with your PLACET_* settings (a client passes few by itself).
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "placet", "mcp"], env=dict(os.environ)
    )
    request = {
        "tool": "send_email",
        "arguments": {"to": to, "subject": subject},
        "summary": "A reminder that the free trial ends",
        "request_id": f"email-{uuid.uuid4()}",
        "timeout_seconds": 60,
    }
    async with Client(server, mode="legacy", elicitation_callback=answer_here) as placet:
        answer = (await placet.call_tool("request_approval", request)).structured_content or {}
        while answer.get("status") == "pending":
            print(f"still waiting for a person (task {answer['task_id']})")
            wait = {"task_id": answer["task_id"], "timeout_seconds": 60}
            answer = (await placet.call_tool("wait_for_decision", wait)).structured_content or {}
    if answer.get("status") == "approved":
        send_email(**answer["arguments"])
    else:
        print(f"\nnot sent: {answer.get('status')}: {answer.get('message')}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit('usage: python examples/mcp_agent.py TO "SUBJECT"')
    anyio.run(main, sys.argv[1], sys.argv[2])
