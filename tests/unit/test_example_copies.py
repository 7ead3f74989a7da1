"""Telling a draft that repeats an example it was shown nearly word for word."""

from __future__ import annotations

from placet.domain.examples import COPY_ALIKE, copy_of

REPLY = (
    "Hi Anna,\n\nYou can reset your password from the sign-in page: choose Forgot password "
    "and follow the link we send you.\n\nBest regards,\nThe Support Team"
)


def test_the_example_repeated_most_is_named_with_how_alike() -> None:
    again = REPLY.replace("Anna", "Ben")
    found = copy_of(again, [("t-other", "Hi Ben, your invoice is under Billing."), ("t-1", REPLY)])
    assert found is not None and found.task_id == "t-1"
    assert COPY_ALIKE <= found.alike < 1
    assert copy_of(REPLY, [("t-near", again), ("t-same", REPLY)]) == found.__class__("t-same", 1.0)


def test_a_draft_in_its_own_words_repeats_nothing() -> None:
    own = "Hello Ben, invoices are under Billing, then Documents. Write back if one is missing."
    assert copy_of(own, [("t-1", REPLY)]) is None
    assert copy_of(own, []) is None
    assert copy_of("", [("t-1", REPLY)]) is None


def test_a_long_draft_is_compared_in_bounded_time() -> None:
    long_text = "word " * 100_000
    assert copy_of(long_text, [("t-1", long_text)]) is not None  # the first 800 words
