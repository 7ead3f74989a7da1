"""Reading a reviewer's feedback, and telling which candidate revision shows it."""

from __future__ import annotations

import pytest

from placet.domain import choice, revisions


def test_a_feedback_is_read_for_quoted_phrases_words_and_limits() -> None:
    ask = revisions.read_feedback("Sign it as 'Sam from Support' and keep it under 80 words.")
    assert ask.phrases == ("sam from support",)
    assert ask.max_words == 80 and ask.max_sentences is None
    assert "sam" not in ask.words and "sign" not in ask.words
    assert revisions.read_feedback("Answer in one sentence.").max_sentences == 1
    invite = revisions.read_feedback("Invite them to the weekly webinar.")
    assert invite.words == {"invite", "weekly", "webinar"}


@pytest.mark.parametrize(
    ("feedback", "candidates", "chosen"),
    [
        ("Sign it as 'The Support Team'.", ["Hi.\nSam", "Hi.\nThe Support Team"], 1),
        ("Mention the mobile app.", ["Welcome!", "Welcome! Try our mobile app."], 1),
        ("Keep it under 5 words.", ["One two three four five six", "One two three."], 1),
        ("Answer in one sentence.", ["Yes. It is. Fine.", "Yes, it is fine."], 1),
        ("Apologise for the trouble.", ["Hi.", "Hi, sorry for the trouble."], 1),
        # Talk about the revision, or the feedback copied in, loses to a plain draft.
        ("Mention the webinar.", ["Here is the revised version: the webinar.", "Hi."], 1),
        ("Mention the webinar", ["Mention the webinar. Hi.", "Join the webinar on Friday."], 1),
        # Nothing tells them apart: the first, the draft one sampling would have made.
        ("Make it better.", ["one", "two", "three"], 0),
        ("Mention the webinar.", ["", "Hi."], 1),
    ],
)
def test_the_candidate_showing_most_of_the_ask_is_chosen(
    feedback: str, candidates: list[str], chosen: int
) -> None:
    assert choice.best(candidates, choice.Reading("", feedback)) == chosen


@pytest.mark.parametrize(
    ("feedback", "opening"),
    [
        ("Start the answer with 'According to the policy,'.", "According to the policy,"),
        ('Begin with "Hi Ana," and keep it short.', "Hi Ana,"),
        ("Please open it with \u201cGood news:\u201d", "Good news:"),
        ("Start with 'Here's what we found' then list it.", "Here's what we found"),
        # Asked for the opposite, or for no words in particular: no opening.
        ("Don't start with 'Dear'.", ""),
        ("Do not begin the email with 'Hello there'.", ""),
        ("Start with the answer.", ""),
        ("Mention 'the HR team' and start over.", ""),
        ("Sign it as 'Sam'. It should start with a greeting.", ""),
    ],
)
def test_an_opening_is_read_only_when_quoted_and_asked_for(feedback: str, opening: str) -> None:
    assert revisions.asked_opening(feedback) == opening
    assert revisions.read_feedback(feedback).opening == opening


def test_the_candidate_with_the_opening_asked_for_is_chosen() -> None:
    feedback = "Start the answer with 'According to the policy,'."
    candidates = ["The policy says you get 25 days.", "According to the policy, you get 25 days."]
    assert choice.best(candidates, choice.Reading("", feedback)) == 1


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("Yes.", 1),
        ("Yes. No! Maybe?", 3),
        ('The policy says: "You get 25 days." So you get 25.', 2),
        ("Subject: Welcome\n\nHi Ana,\nWelcome aboard. See you soon", 2),
        ("Version 2.5 is out.", 1),
    ],
)
def test_sentences_are_counted_with_closing_quotes_and_an_unended_last_one(
    text: str, count: int
) -> None:
    assert revisions.sentence_count(text) == count


def test_a_text_is_cut_at_a_sentence_end_only_once_the_end_is_certain() -> None:
    streamed = 'The policy says: "You get 25 days." So plan ahead. Thanks.'
    cuts = [revisions.cut_after_sentences(streamed[:n], 1) for n in range(len(streamed) + 1)]
    first = next(i for i, cut in enumerate(cuts) if cut is not None)
    # Not at the full stop, nor at the closing quote: only when a space shows the end.
    assert streamed[:first].endswith('days." ')
    assert cuts[first] == 'The policy says: "You get 25 days."'
    two = revisions.cut_after_sentences(streamed, 2)
    assert two == 'The policy says: "You get 25 days." So plan ahead.'
    assert revisions.cut_after_sentences(streamed, 3) is None  # the text ends there anyway


def test_a_revision_is_chosen_by_what_was_asked_not_by_first_draft_defects() -> None:
    # Counting defects too chose fewer revisions that did as asked (BENCHMARKS §15).
    candidates = ["Hi Ana, thanks.\nThe Support Team", "Hi [Name], thanks.\nSam from Support"]
    assert choice.best(candidates, choice.Reading("", "Sign it as 'Sam from Support'.")) == 1
    assert choice.best(candidates, choice.Reading("")) == 0  # a first draft: the defect counts
