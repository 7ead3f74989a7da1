"""Reading a reviewer's feedback, and telling which candidate revision shows it."""

from __future__ import annotations

import pytest

from placet.domain import revisions


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
    assert revisions.best(candidates, feedback) == chosen
