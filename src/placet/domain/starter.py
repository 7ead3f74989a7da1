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
# revision request ends the task), max_tokens, temperature, and three that
# help a small model most (the built-in local:smollm2 has 135M parameters):
#   [[kinds.NAME.examples]]  a worked example: `input` fills the template and
#       `output` is the answer; sent before the request, so the model sees the
#       shape of a good answer instead of being told about it.
#   stop = ["..."]  up to four texts that end the draft where the model starts
#       one (the text itself is left out): no rambling past the answer.
#   revise_from = "draft" (the default: the model sees its previous draft and
#       the feedback) or "request" (it is asked again, with the feedback as a
#       requirement of the request: a small model follows a new instruction far
#       better than it edits a text).
#   revision_candidates = N  (1 to 8; default 1) a revision is written N times,
#       each with its own seed, and the one that shows most of the reviewer's
#       words (a phrase they quoted, what they named, a limit in words or
#       sentences) is the draft: a small model that ignores feedback one time
#       in two rarely does so N times. The last is asked without the worked
#       examples, whose shape the model would otherwise copy over the feedback.
#       A revision takes N times as long. An opening the reviewer quotes ("start
#       with 'Hi Ana,'") is the start of the revision, and a limit in sentences
#       ("in one sentence") ends it there, with or without candidates.
#   opening = "..."  the words every draft starts with ({inputs} filled in);
#       the model writes on from them.
#   quote_from = "INPUT"  what a draft puts in "double quotes" must be a
#       sentence of that input, word for word (on a local model a grammar
#       holds it to them): quotations that are real, if not always the apt one.
#   draft_candidates = N  (1 to 8; default 1) the same for first drafts: the
#       one with the fewest plain defects (a "[placeholder]", talk about the
#       draft, a quotation that is not in the inputs) is the draft.
# The kinds below are written for the built-in local:smollm2: plain
# instructions that state the exact shape of the answer, a low temperature and
# worked examples (Placet's bench/draft_quality.py scores their drafts). A model
# this small still gets facts wrong: review what a draft says, not only its shape.

[kinds.onboarding_email]
description = "A warm welcome email for a new customer"
system = """You write short welcome emails for new customers of a software product. \\
Write only the email: a first line "Subject: ...", a greeting with the person's name, \\
three or four short sentences, then "Best regards," and "The Team" on the last line."""
template = """Write a short, warm onboarding email welcoming {name} to our product. \\
Mention one helpful first step and offer help. Sign it as "The Team"."""
max_attempts = 3
temperature = 0.4
# An email of 30 to 150 words is 50 to 220 tokens: room to finish, none to ramble.
max_tokens = 300
stop = ["\\n\\n\\n"]
revise_from = "request"
revision_candidates = 3

[[kinds.onboarding_email.examples]]
input = { name = "Maya" }
output = """Subject: Welcome aboard, Maya!

Hi Maya,

Welcome to our product! We are glad to have you with us.

A good first step is to create your first project from the dashboard: it takes two minutes.

If you have any questions, just reply to this email and we will help.

Best regards,
The Team"""

[kinds.customer_reply]
description = "A reply to a customer's support message"
system = """You are a patient, precise support agent. Never promise refunds or dates. \\
Write only the reply: start with "Hi" and the customer's name, answer in three to five \\
short sentences, and end with "Best regards," and "The Support Team"."""
# Every reply starts with the greeting: the model writes on from it.
opening = "Hi {customer},"
template = """Customer {customer} wrote:

{message}

Write a helpful, polite reply that answers their message."""
max_attempts = 3
temperature = 0.4
max_tokens = 300
# The model sometimes goes on to write the customer's next message: stop there.
stop = ["\\n\\n\\n", "\\nCustomer "]
revise_from = "request"
revision_candidates = 3

[[kinds.customer_reply.examples]]
input = { customer = "Dana", message = "The export button does nothing when I click it." }
output = """Hi Dana,

Thank you for telling us, and sorry for the trouble. Please try the export again after \\
refreshing the page. If the button still does nothing, reply with the name of your browser \\
and we will look into it for you.

Best regards,
The Support Team"""

[kinds.policy_answer]
description = "An answer to an employee's question, grounded in a policy text"
system = """You answer questions using only the policy you are given. \\
Answer in two sentences: first quote the sentence of the policy closest to the question, \\
word for word, then say what it means for the question. If that sentence does not answer \\
the question, say "The policy does not say" in the second sentence."""
# Every answer starts by quoting the policy, and the quotation can only be one of
# its sentences: the small model otherwise quotes sentences the policy does not hold.
opening = "The policy says: \\""
quote_from = "policy"
template = """Policy:
{policy}

Question: {question}

Answer in two or three sentences, quoting the policy where you can."""
max_attempts = 2
temperature = 0.4
max_tokens = 150
stop = ["\\n\\n", "Question:", "Policy:"]
revise_from = "request"
revision_candidates = 3

[[kinds.policy_answer.examples]]
input.policy = """Parking spaces are assigned by the facilities team. \\
Visitors may park in the front row for up to two hours."""
input.question = "How long can a visitor park?"
output = """The policy says: "Visitors may park in the front row for up to two hours." \\
So a visitor can park for two hours."""

[[kinds.policy_answer.examples]]
input.policy = """Parking spaces are assigned by the facilities team. \\
Visitors may park in the front row for up to two hours."""
input.question = "Can visitors charge electric cars?"
output = """The policy says: "Visitors may park in the front row for up to two hours." \\
The policy does not say whether visitors can charge electric cars."""
'''

STARTER_KINDS: dict[str, dict[str, Any]] = tomllib.loads(STARTER_TOML)["kinds"]
