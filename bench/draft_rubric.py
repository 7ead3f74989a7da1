"""The rubric bench/draft_quality.py scores drafts with: small checks, each written down here.

Fixed before any prompt was tuned; a check is never loosened to make a figure.
Every check takes the draft's text (and what the input asked for) and answers
True (passes) or False. A draft passes its kind's rubric when every item passes.

Shared items
------------
- ``no_placeholders``: no bracketed stand-in left for someone to fill: no text
  in square brackets (``[Your Name]``; a Markdown link ``[text](url)`` is not
  one), in curly braces (``{name}``) or in angle brackets starting with a
  letter (``<Company>``), and no ``XXX``, ``TBD``, ``Your Name``,
  ``Company Name`` or ``Product Name``.
- ``no_meta_talk``: the draft is the thing itself, not talk about it: no line
  that opens with "Here is", "Here's" or "Here are", and no first line that
  opens with "Sure", "Certainly" or "Of course" (an assistant's answer); no
  "revised version" / "revised email" / "updated version" / "rewritten",
  "this draft", "the draft", "email template", "the email above", "this
  email" (except after "reply to", "replying to" or "respond to"), "feel
  free to modify/adjust/customize/customise/edit/tailor", "as an AI",
  "language model", "I have / I've revised / rewritten / updated /
  incorporated", "the reviewer", "reviewer's", "feedback from the reviewer",
  and no line opening with "Note:" or "(Note".

onboarding_email (input: name; the starter template asks for a short email signed "The Team")
-------------------------------------------------------------------------------------------------
- ``subject``: the first non-empty line (Markdown ``#``, ``*`` and ``_`` aside)
  is "Subject: " followed by at least two words.
- ``name``: the person's name appears (whole word, any case).
- ``no_placeholders``, ``no_meta_talk``: as above.
- ``signed``: the last non-empty line, Markdown and trailing punctuation
  aside, ends with "The Team" (any case): the signature asked for, and the
  email is finished (a draft cut off by the token limit fails here).
- ``length``: 30 to 150 words (a short email, as asked; the subject line counts).

customer_reply (input: customer, message; the system prompt forbids promising refunds or dates)
-------------------------------------------------------------------------------------------------
- ``greets_by_name``: the customer's name appears in the first non-empty line.
- ``no_promise``: no promise of a refund ("we will/we'll/I will/I'll/we can/
  we are going to ... refund|reimburse" within four words, "you will/you'll
  get/receive ... refund", "refund has been/will be/is being",
  "refunded") and no promise of a date or a time ("by" or "on" a weekday,
  "by tomorrow/tonight/next week/the end of the day/week/month", "within N
  hours/days/weeks", "in N hours/days/weeks", "today" after "will/'ll", a
  month name followed by a number).
- ``no_placeholders``, ``no_meta_talk``: as above.
- ``length``: 25 to 180 words.

policy_answer (input: policy, question; each input says whether the policy answers it)
---------------------------------------------------------------------------------------
- ``sentences``: two or three sentences (split after ".", "!" or "?"
  followed by a space and a capital letter, a quote or a digit, or the end).
- ``no_placeholders``, ``no_meta_talk``: as above.
- ``grounded``: when the policy answers the question, the answer repeats at
  least four consecutive words of the policy (case and punctuation aside);
  when it does not, the answer says so ("does not say/mention/specify/cover/
  address/state", "doesn't ...", "is not mentioned/specified/covered",
  "no information", "not stated", "not covered", "silent on").

Revisions: a feedback names one concrete thing, and the revision fixes it when
that thing is done (FEEDBACK_CHECKS) and the revision is still a draft: it
passes ``no_meta_talk`` and ``no_placeholders`` too, and does not repeat the
feedback's own words (a reply that only talks about the feedback, "I have
added the HR team as requested", or echoes it, "Mention the mobile app.",
fixes nothing). The bench also reports, beside it, the revisions that fix
the named thing and pass every other item of the kind's rubric (all but the
item the feedback overrides: ``signed`` for ``signed_as``, ``length`` for
``at_most_words``, ``sentences`` for ``sentences_at_most``).
- ``signed_as X``: the last non-empty line ends with X (as ``signed``).
- ``mentions X``: X appears (any case).
- ``at_most_words N``: N words or fewer.
- ``apologises``: "sorry", "apologise", "apologize" or "apologies" appears.
- ``starts_with X``: the text (Markdown aside) starts with X (any case).
- ``sentences_at_most N``: N sentences or fewer (as ``sentences``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Check = Callable[[str], bool]

# -- shared --------------------------------------------------------------------------------

_SQUARE = re.compile(r"\[[^\]\n]{1,60}\](?!\()")
_CURLY = re.compile(r"\{[^}\n]{1,60}\}")
_ANGLE = re.compile(r"<[A-Za-z][^>\n]{0,60}>")
_STAND_INS = re.compile(r"\b(XXX+|TBD|your name|company name|product name)\b", re.IGNORECASE)

_META_LINE_START = re.compile(
    r"^\W*(here is|here's|here are|note:|\(note)", re.IGNORECASE | re.MULTILINE
)
_META_FIRST_LINE = re.compile(r"^\W*(sure|certainly|of course)\b", re.IGNORECASE)
_META_PHRASES = re.compile(
    r"revised (version|email|draft|reply|answer)|updated version|rewritten"
    r"|\bthis draft\b|\bthe draft\b|email template|the email above"
    r"|feel free to (modify|adjust|customi[sz]e|edit|tailor)"
    r"|\bas an ai\b|language model"
    r"|\b(i have|i've) (revised|rewritten|updated|incorporated)"
    r"|\bthe reviewer\b|reviewer's|feedback from the reviewer",
    re.IGNORECASE,
)
_THIS_EMAIL = re.compile(
    r"(?<!reply to )(?<!replying to )(?<!respond to )\bthis email\b", re.IGNORECASE
)
_MARKDOWN = re.compile(r"[*_#>`]")


def words(text: str) -> list[str]:
    """The words of a text, as a reader counts them."""
    return re.findall(r"[\w'’.@-]+", text)


def lines(text: str) -> list[str]:
    """The non-empty lines, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def plain(line: str) -> str:
    """A line without Markdown marks and outer spaces."""
    return _MARKDOWN.sub("", line).strip()


def no_placeholders(text: str) -> bool:
    """No bracketed stand-in (``[Your Name]``, ``{name}``, ``<Company>``) and no XXX/TBD."""
    patterns = (_SQUARE, _CURLY, _ANGLE, _STAND_INS)
    return not any(pattern.search(text) for pattern in patterns)


def no_meta_talk(text: str) -> bool:
    """The draft is the thing itself: no preamble, no talk about the draft or the revision."""
    patterns = (_META_LINE_START, _META_PHRASES, _THIS_EMAIL)
    if any(pattern.search(text) for pattern in patterns):
        return False
    found = lines(text)
    return not (found and _META_FIRST_LINE.match(found[0]))


def has_name(text: str, name: str) -> bool:
    """The name appears as a whole word, any case."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def signed_as(text: str, signature: str) -> bool:
    """The last non-empty line ends with the signature (Markdown and punctuation aside)."""
    found = lines(text)
    if not found:
        return False
    last = plain(found[-1]).rstrip(".,!;: ").casefold()
    return last.endswith(signature.casefold())


def word_count_within(text: str, low: int, high: int) -> bool:
    """Between low and high words, both included."""
    return low <= len(words(text)) <= high


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]”’]*\s+(?=[A-Z\"'“‘0-9])")


def sentences(text: str) -> list[str]:
    """The sentences of a text (Markdown aside), split after . ! or ? and a space."""
    flat = " ".join(plain(line) for line in lines(text))
    return [part for part in _SENTENCE_END.split(flat) if part.strip()]


# -- onboarding_email ----------------------------------------------------------------------

_SUBJECT = re.compile(r"^subject:\s*\S+\s+\S+", re.IGNORECASE)


def has_subject(text: str) -> bool:
    """The first non-empty line is "Subject: " and at least two words."""
    found = lines(text)
    return bool(found) and _SUBJECT.match(plain(found[0])) is not None


def onboarding_rubric(name: str, signature: str = "The Team") -> dict[str, Check]:
    """The onboarding email's items for one person."""
    return {
        "subject": has_subject,
        "name": lambda text: has_name(text, name),
        "no_placeholders": no_placeholders,
        "no_meta_talk": no_meta_talk,
        "signed": lambda text: signed_as(text, signature),
        "length": lambda text: word_count_within(text, 30, 150),
    }


# -- customer_reply ------------------------------------------------------------------------

_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december)"
_REFUND_PROMISE = re.compile(
    r"\b(we will|we'll|i will|i'll|we can|we are going to|we're going to)\s+(\w+\s+){0,4}"
    r"(refund|reimburse)"
    r"|\byou('ll| will)\s+(get|receive)\s+(\w+\s+){0,3}refund"
    r"|\brefund (has been|will be|is being)"
    r"|\brefunded\b",
    re.IGNORECASE,
)
_DATE_PROMISE = re.compile(
    rf"\b(by|on) {_WEEKDAY}\b"
    r"|\bby (tomorrow|tonight|next week|the end of (the )?(day|week|month))"
    r"|\b(within|in) (\d+|one|two|three|four|five|a few|24|48) (business )?(hours?|days?|weeks?)"
    r"|\b(will|'ll)\s+(\w+\s+){0,4}today\b"
    rf"|\b{_MONTH}\s+\d",
    re.IGNORECASE,
)


def no_promise(text: str) -> bool:
    """No refund promised and no date or time promised."""
    return _REFUND_PROMISE.search(text) is None and _DATE_PROMISE.search(text) is None


def greets_by_name(text: str, name: str) -> bool:
    """The customer's name is in the first non-empty line."""
    found = lines(text)
    return bool(found) and has_name(found[0], name)


def customer_rubric(customer: str) -> dict[str, Check]:
    """The customer reply's items for one customer."""
    return {
        "greets_by_name": lambda text: greets_by_name(text, customer),
        "no_promise": no_promise,
        "no_placeholders": no_placeholders,
        "no_meta_talk": no_meta_talk,
        "length": lambda text: word_count_within(text, 25, 180),
    }


# -- policy_answer -------------------------------------------------------------------------

_SAYS_NOT = re.compile(
    r"(does not|doesn't|do not|don't) (say|mention|specify|cover|address|state)"
    r"|\bis not (mentioned|specified|covered|addressed|stated)"
    r"|\bno information\b|\bnot stated\b|\bnot covered\b|\bsilent on\b",
    re.IGNORECASE,
)


def _normal_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold().replace(",", ""))


def quotes_policy(text: str, policy: str, run: int = 4) -> bool:
    """The text repeats at least ``run`` consecutive words of the policy."""
    source = _normal_words(policy)
    grams = {tuple(source[i : i + run]) for i in range(len(source) - run + 1)}
    answer = _normal_words(text)
    return any(tuple(answer[i : i + run]) in grams for i in range(len(answer) - run + 1))


def says_policy_silent(text: str) -> bool:
    """The text says the policy does not answer."""
    return _SAYS_NOT.search(text) is not None


def grounded(text: str, policy: str, answerable: bool) -> bool:
    """Quotes the policy when it answers; says it does not when it does not."""
    return quotes_policy(text, policy) if answerable else says_policy_silent(text)


def quotations(text: str) -> list[str]:
    """What a text puts in double quotes, each without its final full stop."""
    return [
        q.strip().rstrip(".!?") for q in re.findall(r"[\"\u201c]([^\"\u201d]+)[\"\u201d]", text)
    ]


def policy_sentences(policy: str) -> list[str]:
    """A policy's sentences, each without its final full stop."""
    return [s.strip().rstrip(".!?") for s in re.split(r"(?<=[.!?])\s+", policy) if s.strip()]


def quotes_from(text: str, sentence_start: str) -> bool:
    """A quotation in the text holds the first words of the given sentence."""
    start = _normal_words(sentence_start)
    return any(
        _normal_words(quoted)[: len(start)] == start
        or " ".join(start) in " ".join(_normal_words(quoted))
        for quoted in quotations(text)
    )


def policy_rubric(policy: str, answerable: bool) -> dict[str, Check]:
    """The policy answer's items for one question."""
    return {
        "sentences": lambda text: 2 <= len(sentences(text)) <= 3,
        "no_placeholders": no_placeholders,
        "no_meta_talk": no_meta_talk,
        "grounded": lambda text: grounded(text, policy, answerable),
    }


# -- revisions -----------------------------------------------------------------------------


def apologises(text: str) -> bool:
    """An apology is in the text."""
    return re.search(r"\b(sorry|apologi[sz]e|apologies)", text, re.IGNORECASE) is not None


def starts_with(text: str, opening: str) -> bool:
    """The text (Markdown aside) starts with the opening, any case."""
    found = lines(text)
    return bool(found) and plain(found[0]).casefold().startswith(opening.casefold())


FEEDBACK_CHECKS: dict[str, Callable[[str, str], bool]] = {
    "signed_as": signed_as,
    "mentions": lambda text, what: what.casefold() in text.casefold(),
    "at_most_words": lambda text, n: len(words(text)) <= int(n),
    "apologises": lambda text, _: apologises(text),
    "starts_with": starts_with,
    "sentences_at_most": lambda text, n: len(sentences(text)) <= int(n),
}


# The rubric item a feedback of this kind overrides: asked for, it no longer applies.
OVERRIDES = {"signed_as": "signed", "at_most_words": "length", "sentences_at_most": "sentences"}


def echoes(text: str, feedback: str) -> bool:
    """The text repeats the feedback's words (its final full stop aside), any case."""
    said = feedback.strip().rstrip(".").casefold()
    return bool(said) and said in text.casefold()


def revision_fixes(text: str, check: str, arg: str, feedback: str = "") -> bool:
    """The revision did the named thing and is a draft, not talk about one or an echo."""
    done = FEEDBACK_CHECKS[check](text, arg)
    return done and no_meta_talk(text) and no_placeholders(text) and not echoes(text, feedback)


def revision_keeps(text: str, check: str, rubric: dict[str, Check]) -> bool:
    """The revision passes every rubric item the feedback did not override."""
    skipped = OVERRIDES.get(check)
    return all(ok for item, ok in score(text, rubric).items() if item != skipped)


def score(text: str, rubric: dict[str, Check]) -> dict[str, bool]:
    """Each item's verdict on the text."""
    return {item: check(text) for item, check in rubric.items()}
