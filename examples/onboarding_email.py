"""The original Placet script, on the SDK: draft an onboarding email, wait for a person.

    python examples/onboarding_email.py Rahul

The local model drafts (no key, no network; with GROQ_API_KEY set, Groq's
llama-3.3-70b-versatile does). The draft waits in human_feedback/pending/ and in
`placet ls`; approve it with `placet approve ID`, ask for a revision with
`placet revise ID --feedback "..."`, or move the file to approved/ or rejected/.
"""

from __future__ import annotations

import sys

import placet


def main(name: str) -> int:
    with placet.connect() as client:  # says on stderr what it waits for, and how to decide
        outcome = client.submit("onboarding_email", name=name).wait()
    if outcome.approved:
        print(outcome.text)
        return 0
    print(f"rejected by {outcome.decided_by}: {outcome.reason}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "Rahul"))
