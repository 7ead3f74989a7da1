"""The fixed inputs bench/draft_quality.py drafts from, with what a revision is asked to fix.

Written once, before any prompt was tuned, and not changed to suit a result:
twenty inputs per starter kind, in the starter kinds' own input names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyCase:
    """One policy question, and whether the policy answers it."""

    policy: str
    question: str
    # True when the policy holds the answer; False when a good answer says it does not.
    answerable: bool


@dataclass(frozen=True)
class Feedback:
    """A reviewer's feedback naming one concrete thing, and the check that the thing is done.

    ``check`` names a function in draft_rubric.FEEDBACK_CHECKS; ``arg`` is what it checks for.
    """

    text: str
    check: str
    arg: str


ONBOARDING_NAMES = [
    "Rahul",
    "Ada",
    "Mei",
    "Oluwaseun",
    "José",
    "Priya",
    "Tomasz",
    "Fatima",
    "Liam",
    "Sofia",
    "Hiroshi",
    "Amara",
    "Noah",
    "Ingrid",
    "Diego",
    "Aisha",
    "Mateo",
    "Chloe",
    "Kwame",
    "Yuki",
]

# (customer, message): questions, complaints, and requests that tempt a promise.
CUSTOMER_MESSAGES = [
    ("Maria", "I can't log in since this morning. It says my password is wrong but I reset it."),
    ("John", "I was charged twice this month. I want a refund for the second charge."),
    ("Aiko", "When will the dark mode feature be released? I really need it."),
    ("Peter", "How do I export my data to a CSV file?"),
    ("Leila", "Your app crashed and I lost an hour of work. This is unacceptable."),
    ("Carlos", "Can I change the email address on my account?"),
    ("Grace", "The invoice PDF shows the wrong company name. Can you fix it by Friday?"),
    ("Ahmed", "Is there a discount for non-profit organisations?"),
    ("Hannah", "I cancelled my subscription but I was still charged. Please refund me."),
    ("Victor", "How do I add a new team member to my workspace?"),
    ("Sara", "The mobile app is very slow when I open large projects."),
    ("Kenji", "Do you support single sign-on with Okta?"),
    ("Olivia", "I deleted a project by accident. Can it be restored?"),
    ("Ben", "When will the outage be over? My whole team is waiting."),
    ("Nadia", "How do I turn off the email notifications?"),
    ("Lucas", "The search does not find documents I uploaded yesterday."),
    ("Emma", "Can I get my money back if I downgrade to the free plan today?"),
    ("Ravi", "Where can I find my API key?"),
    ("Zoe", "The calendar shows all my meetings one hour late."),
    ("Omar", "I love the product! Is there a way to use it offline?"),
]

LEAVE = (
    "Employees get 25 days of paid leave per calendar year. Up to 5 unused days may be "
    "carried over to the next year. Leave requests must be made at least two weeks in "
    "advance through the HR portal."
)
EXPENSES = (
    "Travel expenses are reimbursed when receipts are submitted within 30 days. Economy "
    "class is required for flights under six hours. Meals are covered up to 50 euros per day."
)
REMOTE = (
    "Staff may work remotely up to three days a week with their manager's approval. "
    "Core hours are 10:00 to 15:00, when everyone must be reachable. Equipment for home "
    "offices is provided once every three years."
)
SECURITY = (
    "Laptops must be locked when left unattended. Passwords must be at least 12 characters "
    "long and are changed every 180 days. Lost devices must be reported to IT within 24 hours."
)
TRAINING = (
    "Each employee has a training budget of 1,000 euros per year. Courses must relate to "
    "the employee's current role. Unused budget does not roll over."
)

POLICY_CASES = [
    PolicyCase(LEAVE, "How many days of paid leave do I get each year?", True),
    PolicyCase(LEAVE, "Can I carry unused leave days over to next year?", True),
    PolicyCase(LEAVE, "How far in advance must I request leave?", True),
    PolicyCase(LEAVE, "Do I get extra leave after five years with the company?", False),
    PolicyCase(EXPENSES, "How long do I have to submit my travel receipts?", True),
    PolicyCase(EXPENSES, "Can I fly business class to a conference eight hours away?", True),
    PolicyCase(EXPENSES, "How much can I spend on meals per day when travelling?", True),
    PolicyCase(EXPENSES, "Are taxi rides to the airport reimbursed?", False),
    PolicyCase(REMOTE, "How many days a week can I work from home?", True),
    PolicyCase(REMOTE, "What are the core hours?", True),
    PolicyCase(REMOTE, "Can I work remotely from another country for a month?", False),
    PolicyCase(REMOTE, "How often is home office equipment provided?", True),
    PolicyCase(SECURITY, "How long must my password be?", True),
    PolicyCase(SECURITY, "What should I do if I lose my laptop?", True),
    PolicyCase(SECURITY, "Can I use my personal phone for work email?", False),
    PolicyCase(SECURITY, "How often do I have to change my password?", True),
    PolicyCase(TRAINING, "What is my yearly training budget?", True),
    PolicyCase(TRAINING, "Can I use my training budget for a cooking class?", True),
    PolicyCase(TRAINING, "Does the company pay for a master's degree?", False),
    PolicyCase(TRAINING, "Can I save unused training budget for next year?", True),
]

# The policy sentence that answers each answerable question, labelled by hand after the
# rubric (2026-12-05) to see whether an answer quotes the right sentence, which the
# rubric's "grounded" (any four words of the policy) cannot tell. Not part of the rubric.
ANSWERING_SENTENCE = {
    "How many days of paid leave do I get each year?": "Employees get 25 days of paid leave",
    "Can I carry unused leave days over to next year?": "Up to 5 unused days may be",
    "How far in advance must I request leave?": "Leave requests must be made at least",
    "How long do I have to submit my travel receipts?": "Travel expenses are reimbursed when",
    "Can I fly business class to a conference eight hours away?": "Economy class is required for",
    "How much can I spend on meals per day when travelling?": "Meals are covered up to 50",
    "How many days a week can I work from home?": "Staff may work remotely up to",
    "What are the core hours?": "Core hours are 10:00 to 15:00",
    "How often is home office equipment provided?": "Equipment for home offices is provided",
    "How long must my password be?": "Passwords must be at least 12",
    "What should I do if I lose my laptop?": "Lost devices must be reported to",
    "How often do I have to change my password?": "Passwords must be at least 12",
    "What is my yearly training budget?": "Each employee has a training budget",
    "Can I use my training budget for a cooking class?": "Courses must relate to the employee's",
    "Can I save unused training budget for next year?": "Unused budget does not roll over",
}

# Feedback a reviewer gives, one concrete thing each; the revisions rotate through them.
ONBOARDING_FEEDBACK = [
    Feedback("Sign it as 'The Support Team'.", "signed_as", "The Support Team"),
    Feedback("Mention the mobile app.", "mentions", "mobile app"),
    Feedback("Mention the free trial.", "mentions", "free trial"),
    Feedback("Keep it under 80 words.", "at_most_words", "80"),
    Feedback("Invite them to the weekly webinar.", "mentions", "webinar"),
]
CUSTOMER_FEEDBACK = [
    Feedback("Sign it as 'Sam from Support'.", "signed_as", "Sam from Support"),
    Feedback("Point them to our help centre at help.example.com.", "mentions", "help.example.com"),
    Feedback("Apologise for the trouble.", "apologises", ""),
    Feedback("Keep it under 60 words.", "at_most_words", "60"),
    Feedback("Mention that they can reach us by phone.", "mentions", "phone"),
]
POLICY_FEEDBACK = [
    Feedback(
        "Start the answer with 'According to the policy,'.",
        "starts_with",
        "According to the policy,",
    ),
    Feedback("Answer in one sentence.", "sentences_at_most", "1"),
    Feedback("Mention the HR team.", "mentions", "HR team"),
    Feedback("End by suggesting they ask their manager.", "mentions", "manager"),
]
