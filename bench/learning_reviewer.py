"""The scripted reviewer of bench/learning.py: hidden rules, checked by code. Pure.

The team's rules for a support reply, which the kind's prompt does not state
(a reviewer knows them; the model has to learn them):

1. ``signed``: sign as "The Support Team": the last non-empty line, Markdown
   and trailing punctuation aside, ends with "The Support Team" (any case).
2. ``email``: give the address support@example.com (any case).
3. ``length``: at most 120 words (words are runs between spaces).
4. ``no_dear``: never "Dear" (as a word, any case).

The reviewer reads a draft and, like a busy person, names the first rule it
breaks, in the plain words of ``FEEDBACK``; a draft that breaks none is
approved. A lesson proposal is read line by line: a line is kept when it
states one of the rules correctly and misstates none (``states_a_rule``);
the reviewer edits the proposal down to the kept lines, approves it when
every line is kept, and rejects it when none is.

A line is read in clauses (split at punctuation followed by a space, " and ",
" - "). A clause about "Dear" is right when it says not to use it; one with an
e-mail address, when the address is support@example.com and it does not say to
leave it out; one about signing ("sign", "signature", "sign-off"), when it names
The Support Team and is not negated, as is one that ends or closes with The
Support Team (naming the team alone, "The Support Team is here to help", states
nothing); one with a number of words, when the number is at most 120 and it is a
limit ("under", "at most", "no more than", "fewer", "keep", ...), not a minimum.
Other clauses ("Be friendly") are neither right nor wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIGNATURE = "The Support Team"
ADDRESS = "support@example.com"
MAX_WORDS = 120

RULES = ("signed", "email", "length", "no_dear")
FEEDBACK = {
    "signed": "Please sign the reply as 'The Support Team'.",
    "email": f"Please include our address {ADDRESS} so they can write back.",
    "length": f"Keep it to {MAX_WORDS} words or fewer, please.",
    "no_dear": "Please don't use 'Dear' in our replies.",
}
# The rules as the reviewer would write them down (the bench's ``given`` arm).
RULE_LESSONS = (
    f"Sign the reply as '{SIGNATURE}'.",
    f"Include our address {ADDRESS}.",
    f"Keep it to {MAX_WORDS} words or fewer.",
    "Never use 'Dear'.",
)
NOTHING_RIGHT = "None of these lines is how we write replies."

_MARKUP = " \t*_#>`\"'.,;:!-"
_DEAR = re.compile(r"\bdear\b", re.IGNORECASE)
_NEGATED = re.compile(
    r"\b(never|not|no|don't|dont|do not|avoid|without|stop|remove|instead of|rather than)\b"
)
_NOT_NEGATED = re.compile(r"\b(don't|do not|never) forget\b|\bno more than\b|\bnot more than\b")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WORD_COUNT = re.compile(r"\b(\d+)\s*(?:-\s*)?words?\b")
_LIMIT = re.compile(
    r"\b(under|at most|no more than|not more than|fewer|less|within|maximum|max|up to|below|"
    r"limit|keep|short|shorter|exceed)\b"
)
_MINIMUM = re.compile(r"\b(at least|minimum|more than)\b")
_SIGNING = re.compile(r"\b(sign|signs|signed|signing|signature|sign-off|sign off)\b")
_ENDING = re.compile(r"\b(end|ends|ending|close|closes|closing|finish|finishes|from)\b")
_CLAUSES = re.compile(r"(?<=[;,.:!?])\s+|\s+and\s+|\s+-\s+")


def breaks(text: str) -> list[str]:
    """The rules a draft breaks, in the order of RULES."""
    broken = []
    if not signed(text):
        broken.append("signed")
    if ADDRESS not in text.lower():
        broken.append("email")
    if len(text.split()) > MAX_WORDS:
        broken.append("length")
    if _DEAR.search(text):
        broken.append("no_dear")
    return broken


def signed(text: str) -> bool:
    """The last non-empty line ends with the signature (Markdown and punctuation aside)."""
    lines = [line.strip(_MARKUP) for line in text.splitlines() if line.strip(_MARKUP)]
    return bool(lines) and lines[-1].lower().endswith(SIGNATURE.lower())


# A reviewer who fixes a draft by hand ends it the way the team always does.
CLOSING = f"You can write to us at {ADDRESS} any time.\n\nBest regards,\n{SIGNATURE}"
_SIGN_OFF = re.compile(
    r"^(best|kind|warm)?\s*(regards|wishes|thanks|thank you|cheers|sincerely|yours)\b.*$"
    r"|^\[.*\]$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def fixed(text: str) -> str:
    """The draft as the reviewer edits it when out of attempts: it keeps every rule.

    The body is kept as the model wrote it, short of its sign-off (the last short
    lines from a closing such as "Best regards," on), "Dear" becomes "Hi", and the
    body is cut at a sentence end until, with the team's closing, it is at most
    MAX_WORDS words. This is the text that is approved, so it is what a kind
    using examples learns from.
    """
    lines = [line.rstrip() for line in _DEAR.sub("Hi", text).strip().splitlines()]
    for at in range(len(lines) - 1, max(len(lines) - 5, -1), -1):
        if _SIGN_OFF.match(lines[at].strip(_MARKUP + " ")):
            lines = lines[:at]
            break
    body = "\n".join(lines).strip()
    room = MAX_WORDS - len(CLOSING.split())
    while len(body.split()) > room:
        ends = list(_SENTENCE_END.finditer(body))
        body = body[: ends[-1].start()].rstrip() if ends else " ".join(body.split()[:room])
    edited = f"{body}\n\n{CLOSING}" if body else CLOSING
    assert not breaks(edited), edited  # the edit keeps every rule, or the bench is wrong
    return edited


def feedback_for(text: str) -> str | None:
    """What the reviewer says to a draft: the first rule it breaks, or None (approve)."""
    broken = breaks(text)
    return FEEDBACK[broken[0]] if broken else None


@dataclass(frozen=True)
class Reading:
    """The rules a lesson line states rightly and those it misstates."""

    right: frozenset[str]
    wrong: frozenset[str]


def read_lesson(line: str) -> Reading:
    """Which rules a lesson line states, rightly or wrongly (see the module docstring)."""
    right: set[str] = set()
    wrong: set[str] = set()
    for clause in _CLAUSES.split(line):
        verdict = _clause(clause.lower())
        if verdict is not None:
            rule, ok = verdict
            (right if ok else wrong).add(rule)
    return Reading(frozenset(right), frozenset(wrong))


def _clause(clause: str) -> tuple[str, bool] | None:
    negated = _NEGATED.search(_NOT_NEGATED.sub(" ", clause)) is not None
    if _DEAR.search(clause):
        return "no_dear", negated
    addresses = _ADDRESS.findall(clause)
    if addresses:
        return "email", not negated and all(a.lower() == ADDRESS for a in addresses)
    count = _WORD_COUNT.search(clause)
    if count:
        limit = _LIMIT.search(clause) is not None
        minimum = _MINIMUM.search(_NOT_NEGATED.sub(" ", clause)) is not None
        return "length", int(count.group(1)) <= MAX_WORDS and limit and not minimum
    if _SIGNING.search(clause):
        return "signed", SIGNATURE.lower() in clause and not negated
    if SIGNATURE.lower() in clause and _ENDING.search(clause):
        return "signed", not negated
    return None


def states_a_rule(line: str) -> bool:
    """A lesson line a person who knows the rules would keep."""
    reading = read_lesson(line)
    return bool(reading.right) and not reading.wrong


def kept_lines(proposal: str) -> list[str]:
    """The lines of a lesson proposal the reviewer keeps."""
    return [line.strip() for line in proposal.splitlines() if states_a_rule(line)]


def rules_taught(lessons: list[str] | tuple[str, ...]) -> list[str]:
    """The rules a set of lessons states rightly, in the order of RULES."""
    taught = set().union(*(read_lesson(lesson).right for lesson in lessons)) if lessons else set()
    return [rule for rule in RULES if rule in taught]


# Forty support requests, fixed: (customer, message).
TASKS: tuple[tuple[str, str], ...] = (
    ("Anna", "How do I reset my password?"),
    ("Ben", "Can I change the email address on my account?"),
    ("Chloe", "The app logs me out every few minutes. What can I do?"),
    ("David", "Where can I download my invoices?"),
    ("Elena", "How do I add a colleague to my workspace?"),
    ("Farid", "I was charged twice this month. Can you look into it?"),
    ("Grace", "Is there a dark mode?"),
    ("Hiro", "How do I export my data to a spreadsheet?"),
    ("Ines", "I forgot which email I used to sign up. Can you help?"),
    ("Jonas", "The upload button does nothing when I click it."),
    ("Kemi", "Can I pause my subscription for two months?"),
    ("Liam", "How do I turn off the email notifications?"),
    ("Mara", "Do you offer a discount for non-profits?"),
    ("Nikhil", "My report shows the wrong time zone."),
    ("Olga", "How do I delete my account?"),
    ("Pablo", "Can I use the product offline?"),
    ("Quinn", "The mobile app crashes when I open the calendar."),
    ("Rosa", "How many people can join one workspace?"),
    ("Sami", "I can't find the settings page after the update."),
    ("Tara", "Can I change the language of the interface?"),
    ("Umar", "How do I connect my calendar?"),
    ("Vera", "Why was my card declined?"),
    ("Wei", "Can I move my projects to another workspace?"),
    ("Ximena", "The search does not find files I uploaded yesterday."),
    ("Yusuf", "How do I set up two-factor authentication?"),
    ("Zoe", "Can I get a copy of my data before I cancel?"),
    ("Aaron", "The page loads very slowly in the afternoon."),
    ("Bianca", "How do I rename a project?"),
    ("Carlos", "Can I print a project plan?"),
    ("Dana", "The export button does nothing when I click it."),
    ("Emil", "How do I change my billing address?"),
    ("Fatima", "I did not get the confirmation email."),
    ("Gus", "Can two people edit the same document at once?"),
    ("Hana", "How do I restore a file I deleted?"),
    ("Ivan", "Is my data stored in Europe?"),
    ("Julia", "The charts in my dashboard are empty."),
    ("Kofi", "How do I upgrade to the team plan?"),
    ("Lena", "Can I import tasks from a CSV file?"),
    ("Mateo", "I keep getting an error when I save a form."),
    ("Nora", "How do I change the owner of a workspace?"),
)


# -- what the rules do not see (reported beside the figures, never a verdict) -------------

_TOPIC_WORD = re.compile(r"[a-z][a-z-]{3,}")
_COMMON = (
    "what when where which there their this that with from your have does into about "
    "after before every keep keeps can't cannot could would should help something"
)
_NOT_A_TOPIC = frozenset(_COMMON.split())


def topic_words(message: str) -> set[str]:
    """The words of a customer's message that say what it is about ("password", "invoices")."""
    return {w for w in _TOPIC_WORD.findall(message.lower()) if w not in _NOT_A_TOPIC}


def on_topic(text: str, message: str) -> bool:
    """The reply names at least one word of what the customer asked about.

    A weak test (a reply can name the topic and still not answer), but a reply
    that fails it certainly does not answer.
    """
    words = topic_words(message)
    found = set(_TOPIC_WORD.findall(text.lower()))
    return not words or bool(words & found)


def near_copy(text: str, earlier: list[str], names: list[str], ratio: float = 0.8) -> bool:
    """The reply is an earlier approved reply again (at least ``ratio`` alike, customers'
    names aside): what a small model does with an example it is shown."""
    import difflib

    def plain(reply: str) -> str:
        for name in names:
            reply = reply.replace(name, "NAME")
        return reply

    mine = plain(text)
    return any(
        difflib.SequenceMatcher(None, mine, plain(other), autojunk=False).ratio() >= ratio
        for other in earlier
    )
