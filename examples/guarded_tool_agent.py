"""A plain Python agent loop whose risky tool needs a person's approval.

    python examples/guarded_tool_agent.py

The agent works through support tickets. Looking a customer up is safe and runs
at once; issuing a refund is guarded: each call waits in Placet's queue
(`placet review`, `placet ls`, the dashboard) until a person approves it (maybe
after editing the amount) or rejects it. A rejection comes back to the agent as
`placet.Rejected` with the reviewer's reason, which it records and moves on.
"""

from __future__ import annotations

import sys

import placet

client = placet.connect(requester="support-agent")

CUSTOMERS = {"C-17": {"name": "Ada", "plan": "pro"}, "C-42": {"name": "Linus", "plan": "free"}}
TICKETS = [
    {"customer": "C-17", "ask": "refund", "amount": 30.0, "why": "double charge"},
    {"customer": "C-42", "ask": "refund", "amount": 500.0, "why": "did not like it"},
]


def look_up_customer(customer_id: str) -> dict[str, str]:
    """Safe: read-only."""
    return CUSTOMERS[customer_id]


@client.require_approval(kind="issue_refund", redact=("card_token",))
def issue_refund(customer_id: str, amount: float, reason: str, card_token: str = "") -> str:
    """Risky: moves money. Runs only once a person approves, exactly once."""
    key = placet.current_idempotency_key()  # hand this to the payment API
    return f"refunded {amount:.2f} to {customer_id} (idempotency key {key})"


def agent() -> int:
    for ticket in TICKETS:
        customer = look_up_customer(ticket["customer"])
        print(f"{customer['name']} asks for a refund of {ticket['amount']}: waiting for approval")
        try:
            print(
                issue_refund(
                    ticket["customer"], ticket["amount"], ticket["why"], card_token="tok_visa_4242"
                )
            )
        except placet.Rejected as rejection:
            # A real agent hands this back to its model as the tool's result.
            print(f"refund refused: {rejection.reason}")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(agent())
