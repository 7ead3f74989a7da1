"""React to decisions in a long-running service: send each approved onboarding email once.

From the repository root (so the service shares the tasks in ./placet.db):

    placet worker --app examples.onboarding_handlers:client   # drafts, and runs the handlers
    python examples/onboarding_handlers.py                     # only the handlers, no CLI

Then, in another terminal: `placet submit onboarding_email --input name=Rahul`, and
`placet approve ID` (or reject it) once it is drafted. The handler runs after the
decision commits, whoever made it (the CLI, the dashboard, another program), also if
it was made while the service was down. It runs at least once: after a crash it runs
again with the same `key`, which is what a mail API's idempotency key is for.
`placet show ID` lists how each handler fared.
"""

from __future__ import annotations

import sys
from pathlib import Path

import placet

client = placet.connect()
OUTBOX = Path("sent_emails.log")  # stands in for an email provider


# An explicit name keeps the handler the same one under both commands above
# (by default it is module.qualname, and the module is named differently by each).
@client.on_approved("onboarding_email", name="onboarding.send_welcome")
def send_welcome(outcome: placet.Outcome, key: str) -> None:
    """Send the approved text; `key` is the same on every retry of this delivery."""
    with OUTBOX.open("a", encoding="utf-8") as outbox:
        outbox.write(f"{key}\t{outcome.input.get('name')}\t{outcome.text!r}\n")
    print(f"sent the welcome email for {outcome.task_id} (key {key})", file=sys.stderr)


@client.on_rejected("onboarding_email", name="onboarding.note_rejection")
async def note_rejection(outcome: placet.Outcome, key: str) -> None:
    """Async handlers work too; a handler that raises is retried with backoff."""
    print(f"not sending {outcome.task_id}: {outcome.reason}", file=sys.stderr)


if __name__ == "__main__":
    print("running the onboarding handlers; Ctrl-C to stop", file=sys.stderr)
    try:
        client.run_handlers()
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
