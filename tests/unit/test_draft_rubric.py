"""The rubric bench/draft_quality.py scores drafts with: good and bad examples for each item."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The rubric is a bench module, beside the script that uses it.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import draft_rubric as rubric

GOOD_EMAIL = """Subject: Welcome aboard, Rahul!

Hi Rahul,

Welcome to our product! We are glad you joined us. A good first step is to
create your first project from the dashboard and invite a colleague. If you
have any questions, reply to this email and we will help.

Best regards,
The Team
"""


def test_a_good_onboarding_email_passes_every_item() -> None:
    scores = rubric.score(GOOD_EMAIL, rubric.onboarding_rubric("Rahul"))
    assert scores == dict.fromkeys(scores, True)


@pytest.mark.parametrize(
    ("text", "failed"),
    [
        (GOOD_EMAIL.replace("Subject: Welcome aboard, Rahul!", "Welcome aboard!"), "subject"),
        (GOOD_EMAIL.replace("Subject: Welcome aboard, Rahul!", "Subject: Welcome"), "subject"),
        (GOOD_EMAIL.replace("Rahul", "there"), "name"),
        (GOOD_EMAIL.replace("The Team", "[Your Name]"), "no_placeholders signed"),
        (GOOD_EMAIL.replace("our product", "{product}"), "no_placeholders"),
        (GOOD_EMAIL.replace("The Team\n", "The Team\nYour Name\n"), "no_placeholders signed"),
        ("Here is the revised version:\n" + GOOD_EMAIL, "subject no_meta_talk"),
        (GOOD_EMAIL.replace("We are glad", "In this email, we are glad"), "no_meta_talk"),
        (GOOD_EMAIL.replace("The Team", "Sarah"), "signed"),
        (GOOD_EMAIL.replace("The Team\n", "The Team\n\nP.S. See you soon.\n"), "signed"),
        (GOOD_EMAIL.replace("We are glad you joined us.", "We are glad. " * 60), "length"),
    ],
)
def test_an_onboarding_email_that_misses_an_item_fails_that_item(text: str, failed: str) -> None:
    scores = rubric.score(text, rubric.onboarding_rubric("Rahul"))
    assert [item for item, ok in scores.items() if not ok] == failed.split()


def test_markdown_around_the_subject_and_signature_is_allowed() -> None:
    text = GOOD_EMAIL.replace("Subject:", "**Subject:**").replace("The Team", "*The Team*")
    assert rubric.has_subject(text)
    assert rubric.signed_as(text, "The Team")


def test_a_markdown_link_is_not_a_placeholder() -> None:
    assert rubric.no_placeholders("See [the guide](https://example.com/guide).")
    assert not rubric.no_placeholders("See [link to the guide].")
    assert not rubric.no_placeholders("Dear <Customer Name>,")


def test_replying_to_this_email_is_not_talk_about_the_email() -> None:
    assert rubric.no_meta_talk("Just reply to this email if you need anything.")
    assert not rubric.no_meta_talk("This email welcomes you to the product.")
    assert not rubric.no_meta_talk("Sure! Hi Ana, thanks for writing.")
    assert not rubric.no_meta_talk("Hi Ana,\nThanks.\nNote: adjust the tone as needed.")


GOOD_REPLY = """Hi Maria,

Thank you for writing to us, and I'm sorry you can't log in. Please clear your
browser's cache and try the reset link again. If it still fails, reply with the
time you tried and we will look into your account.

Best regards,
Support
"""


def test_a_good_customer_reply_passes_every_item() -> None:
    scores = rubric.score(GOOD_REPLY, rubric.customer_rubric("Maria"))
    assert scores == dict.fromkeys(scores, True)


@pytest.mark.parametrize(
    "promise",
    [
        "We will refund the second charge.",
        "We'll be happy to refund you.",
        "You will receive a full refund.",
        "Your refund has been processed.",
        "You have been refunded.",
        "We will fix it by Friday.",
        "It will be released within 3 days.",
        "The outage will be over in two hours.",
        "We'll have it sorted out today.",
        "The feature ships on March 3.",
        "We will fix it by the end of the week.",
    ],
)
def test_a_promise_of_a_refund_or_a_date_fails(promise: str) -> None:
    assert not rubric.no_promise(GOOD_REPLY.replace("Please clear", f"{promise} Please clear"))


@pytest.mark.parametrize(
    "careful",
    [
        "I have passed your refund request to our billing team.",
        "I can't promise a date, but the team is working on it.",
        "Refunds are handled by our billing team.",
    ],
)
def test_talk_of_refunds_without_a_promise_passes(careful: str) -> None:
    assert rubric.no_promise(f"Hi John, {careful}")


def test_the_customer_is_greeted_by_name_on_the_first_line() -> None:
    assert rubric.greets_by_name(GOOD_REPLY, "Maria")
    assert not rubric.greets_by_name("Hello,\nMaria, thanks for writing.", "Maria")


POLICY = (
    "Employees get 25 days of paid leave per calendar year. Up to 5 unused days may be "
    "carried over to the next year."
)


def test_a_good_policy_answer_quotes_the_policy_in_two_or_three_sentences() -> None:
    answer = (
        "The policy says that employees get 25 days of paid leave per calendar year. "
        "Up to 5 unused days may be carried over."
    )
    scores = rubric.score(answer, rubric.policy_rubric(POLICY, answerable=True))
    assert scores == dict.fromkeys(scores, True)


def test_an_answer_that_says_the_policy_is_silent_is_grounded_only_when_it_is() -> None:
    silent = "The policy does not say whether long service earns extra leave. Ask HR."
    assert rubric.grounded(silent, POLICY, answerable=False)
    assert not rubric.grounded(silent, POLICY, answerable=True)
    assert not rubric.grounded("You get extra leave after five years.", POLICY, False)


def test_an_answer_that_does_not_use_the_policy_words_is_not_grounded() -> None:
    assert not rubric.grounded("You get plenty of holidays. Enjoy them.", POLICY, True)
    assert rubric.quotes_policy("You get 25 days of paid leave.", POLICY)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("One sentence.", 1),
        ("One. Two!", 2),
        ('It says "25 days." Then more. And 3.5 days is fine.', 3),
        ("Line one.\nLine two?\n", 2),
    ],
)
def test_sentences_are_counted(text: str, count: int) -> None:
    assert len(rubric.sentences(text)) == count


def test_a_policy_answer_of_one_or_four_sentences_fails_the_length() -> None:
    rubric_items = rubric.policy_rubric(POLICY, answerable=True)
    one = "Employees get 25 days of paid leave per calendar year."
    assert not rubric.score(one, rubric_items)["sentences"]
    assert not rubric.score(" ".join([one] * 4), rubric_items)["sentences"]


def test_a_revision_fixes_the_named_thing_only_when_it_is_still_a_draft() -> None:
    signed = GOOD_EMAIL.replace("The Team", "The Support Team")
    assert rubric.revision_fixes(signed, "signed_as", "The Support Team")
    assert not rubric.revision_fixes(GOOD_EMAIL, "signed_as", "The Support Team")
    talk = "Your revised version will include the HR team, as the reviewer asked."
    assert rubric.FEEDBACK_CHECKS["mentions"](talk, "HR team")
    assert not rubric.revision_fixes(talk, "mentions", "HR team")
    assert rubric.revision_fixes("Hi Ana, we are sorry.", "apologises", "")
    assert rubric.revision_fixes("According to the policy, yes.", "starts_with", "According to")
    assert not rubric.revision_fixes("Yes. Really.", "sentences_at_most", "1")
    assert rubric.revision_fixes("Short and sweet.", "at_most_words", "5")


def test_a_revision_that_echoes_the_feedback_fixes_nothing() -> None:
    echo = "Subject: Welcome!\n\nMention the mobile app.\n\nBest regards,\nThe Team"
    assert rubric.echoes(echo, "Mention the mobile app.")
    assert not rubric.revision_fixes(echo, "mentions", "mobile app", "Mention the mobile app.")
    real = GOOD_EMAIL.replace("invite a colleague.", "invite a colleague. Try our mobile app too.")
    assert rubric.revision_fixes(real, "mentions", "mobile app", "Mention the mobile app.")


def test_a_revision_keeps_every_item_but_the_one_its_feedback_overrides() -> None:
    items = rubric.onboarding_rubric("Rahul")
    signed = GOOD_EMAIL.replace("The Team", "The Support Team")
    assert rubric.revision_keeps(signed, "signed_as", items)  # "signed" no longer applies
    assert not rubric.revision_keeps(signed, "mentions", items)
    assert not rubric.revision_keeps(signed.replace("Rahul", "there"), "signed_as", items)
