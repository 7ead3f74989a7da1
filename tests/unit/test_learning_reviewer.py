"""The scripted reviewer of bench/learning.py: its hidden rules judge known drafts and
lesson lines as a person who knows them would."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from placet.domain import lessons

# The reviewer is a bench module, beside the script that uses it.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import learning_reviewer as reviewer

GOOD = """Hi Anna,

Thank you for writing. You can reset your password from the sign-in page: choose
"Forgot password" and follow the link we send you. If the link does not arrive,
write to support@example.com and we will help.

Best regards,
The Support Team
"""


def test_a_reply_keeping_every_rule_is_approved() -> None:
    assert reviewer.breaks(GOOD) == []
    assert reviewer.feedback_for(GOOD) is None


@pytest.mark.parametrize(
    ("text", "broken"),
    [
        (GOOD.replace("The Support Team", "Sam"), ["signed"]),
        (GOOD.replace("Team\n", "Team\nP.S. Have a nice day\n"), ["signed"]),
        (GOOD.replace("The Support Team", "[Your Name]"), ["signed"]),
        (GOOD.replace("support@example.com", "our help desk"), ["email"]),
        (GOOD.replace("support@example.com", "help@example.com"), ["email"]),
        (GOOD.replace("Thank you for writing.", "Thank you for writing. " * 30), ["length"]),
        (GOOD.replace("Hi Anna", "Dear Anna"), ["no_dear"]),
        (GOOD.replace("Hi Anna", "DEAR ANNA"), ["no_dear"]),
        (
            GOOD.replace("Hi Anna", "Dear Anna").replace("support@example.com", "us"),
            ["email", "no_dear"],
        ),
        ("", ["signed", "email"]),
    ],
)
def test_each_rule_a_draft_breaks_is_found(text: str, broken: list[str]) -> None:
    assert reviewer.breaks(text) == broken


def test_the_signature_may_be_marked_up_and_the_address_in_any_case() -> None:
    text = GOOD.replace("The Support Team\n", "**The Support Team.**\n")
    assert reviewer.breaks(text.replace("support@example.com", "Support@Example.com")) == []
    assert reviewer.breaks(GOOD.replace("Best regards,\nThe", "Best regards, the")) == []


def test_at_most_120_words() -> None:
    words = GOOD.split()
    filler = ["word"] * (reviewer.MAX_WORDS - len(words))
    exactly = GOOD.replace("Thank you", " ".join(filler) + " Thank you")
    assert len(exactly.split()) == reviewer.MAX_WORDS
    assert reviewer.breaks(exactly) == []
    assert reviewer.breaks(exactly.replace("Thank you", "Thank you very")) == ["length"]
    assert reviewer.breaks(GOOD.replace("Anna", "Endear")) == []  # "Dear" as a word only


def test_the_feedback_names_the_first_rule_broken_in_plain_words() -> None:
    text = GOOD.replace("The Support Team", "Sam").replace("Hi Anna", "Dear Anna")
    assert reviewer.feedback_for(text) == "Please sign the reply as 'The Support Team'."
    assert reviewer.feedback_for(GOOD.replace("Hi", "Dear")) == reviewer.FEEDBACK["no_dear"]


@pytest.mark.parametrize(
    "line",
    [
        "Sign as 'The Support Team'",
        "Sign every reply as The Support Team, not with your own name",
        "End every reply with 'The Support Team'",
        "Never start with 'Dear'",
        "Use 'Hi' instead of 'Dear'",
        "Include support@example.com in every reply",
        "Don't forget to give support@example.com",
        "Keep replies under 120 words",
        "No more than 100 words",
        "Sign as The Support Team and include support@example.com",
        "Be friendly, and never write Dear",
    ],
)
def test_a_lesson_stating_a_rule_is_kept(line: str) -> None:
    assert reviewer.states_a_rule(line)


@pytest.mark.parametrize(
    "line",
    [
        "Sign as 'Sam'",
        "Never sign as The Support Team",
        "Start with 'Dear' and the customer's name",
        "Include help@example.com",
        "Never share support@example.com",
        "Write at least 120 words",
        "Keep it under 200 words",
        "The Support Team is here to help you improve your writing",
        '"The Support Team."',
        "Be friendly",
        "Never use Dear and sign as Sam",
        lessons.NOTHING_NEW,
        "",
    ],
)
def test_a_lesson_misstating_or_stating_no_rule_is_dropped(line: str) -> None:
    assert not reviewer.states_a_rule(line)


def test_a_proposal_is_edited_down_to_the_lines_stating_a_rule() -> None:
    proposal = "Sign as 'The Support Team'\nBe friendly\nKeep it under 200 words\nNo 'Dear'"
    assert reviewer.kept_lines(proposal) == ["Sign as 'The Support Team'", "No 'Dear'"]
    assert reviewer.rules_taught(reviewer.kept_lines(proposal)) == ["signed", "no_dear"]
    assert reviewer.rules_taught([]) == []


def test_placets_own_distillation_of_the_feedback_states_every_rule() -> None:
    said = [lessons.Said("revise", text, at) for at, text in enumerate(reviewer.FEEDBACK.values())]
    proposal = lessons.from_feedback(said, ())
    assert reviewer.kept_lines(proposal) == proposal.splitlines()
    assert reviewer.rules_taught(proposal.splitlines()) == list(reviewer.RULES)
    for rule, text in reviewer.FEEDBACK.items():
        assert reviewer.read_lesson(text).right == {rule}
    for rule, text in zip(reviewer.RULES, reviewer.RULE_LESSONS, strict=True):
        assert reviewer.read_lesson(text) == reviewer.Reading(frozenset({rule}), frozenset())


def test_forty_fixed_tasks() -> None:
    assert len(reviewer.TASKS) == 40
    assert len({customer for customer, _ in reviewer.TASKS}) == 40


@pytest.mark.parametrize(
    "draft",
    [
        GOOD,
        GOOD.replace("Hi Anna", "Dear Anna").replace("The Support Team", "Sam"),
        GOOD.replace("Best regards,\nThe Support Team\n", "[Your Name]\n"),
        "Dear Ben,\n\n" + "We are looking into it. " * 40 + "\n\nKind regards,\nAlex\nSupport",
        "Dear Chloe, " + "word " * 300,
        "",
    ],
)
def test_the_reviewers_own_edit_keeps_every_rule_and_the_body(draft: str) -> None:
    edited = reviewer.fixed(draft)
    assert reviewer.breaks(edited) == []
    assert edited.endswith("Best regards,\nThe Support Team")
    assert "Sam" not in edited and "[Your Name]" not in edited and "Alex" not in edited
    if draft == GOOD:
        assert edited.startswith("Hi Anna,\n\nThank you for writing.")
        assert "follow the link we send you." in edited


def test_what_the_rules_do_not_see_topic_and_copies() -> None:
    assert reviewer.on_topic(GOOD, "How do I reset my password?")
    assert not reviewer.on_topic(
        "Hi Anna,\nHow can I help?\nThe Support Team", "Reset my password?"
    )
    earlier = [GOOD]
    again = GOOD.replace("Anna", "Ben")
    assert reviewer.near_copy(again, earlier, ["Anna", "Ben"])
    assert not reviewer.near_copy("Hi Ben,\nYour invoice is under Billing.", earlier, ["Ben"])
