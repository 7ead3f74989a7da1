"""The starter ``placet.toml``: what ``placet init`` writes and what runs without one."""

from __future__ import annotations

import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

STARTER_TOML = '''\
# Placet configuration. Every setting here can be overridden by an environment
# variable (see .env.example); a kind needs no code, only a table below.

[placet]
# Where tasks, drafts, decisions and the audit trail live.
database = "sqlite:///placet.db"
# The review folder: drafts appear in <review_dir>/pending/.
review_dir = "human_feedback"
# The model every kind uses unless it names its own. Leave it out to use
# groq:llama-3.3-70b-versatile when GROQ_API_KEY is set, else local:smollm2.
# model = "local:smollm2"

# A kind: `template` fills {named} inputs from `placet run KIND --input name=value`
# ({{ and }} are literal braces). `placet config check` checks this file.
# Optional: system, description, model, max_attempts (drafts before a
# revision request ends the task), max_tokens, temperature.

[kinds.onboarding_email]
description = "A warm welcome email for a new customer"
system = "You are a friendly customer success manager at a software company."
template = """Write a short, warm onboarding email welcoming {name} to our product. \\
Mention one helpful first step and offer help. Sign it as "The Team"."""
max_attempts = 3

[kinds.customer_reply]
description = "A reply to a customer's support message"
system = "You are a patient, precise support agent. Never promise refunds or dates."
template = """Customer {customer} wrote:

{message}

Write a helpful, polite reply that answers their message."""
max_attempts = 3

[kinds.policy_answer]
description = "An answer to an employee's question, grounded in a policy text"
system = """You answer questions using only the policy you are given. \\
If the policy does not say, reply that it does not."""
template = """Policy:
{policy}

Question: {question}

Answer in two or three sentences, quoting the policy where you can."""
max_attempts = 2
'''

STARTER_KINDS: dict[str, dict[str, Any]] = tomllib.loads(STARTER_TOML)["kinds"]
