"""The supervisor's reading, pure: risk, flags, spans cut for showing in place, redaction."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from placet.domain.supervision import (
    IN_DRAFT,
    IN_INPUT,
    MAX_FINDINGS,
    Flag,
    reading,
    reading_of,
    row_values,
    segments,
    unavailable,
)

TEXT = "Card 4111111111111111, mail a@b.io"
CARD = Flag("card", "pii", IN_DRAFT, 5, 21, "a card number")
MAIL = Flag("email", "pii", IN_DRAFT, 28, 34, "an e-mail address")


def test_the_riskiest_finding_sets_the_risk_and_the_input_counts_for_half() -> None:
    assert reading([MAIL]).risk == 25
    assert reading([MAIL, CARD]).risk == 80
    in_input = Flag("card", "pii", IN_INPUT, 0, 16, "a card number", field="message")
    assert reading([in_input]).risk == 40
    assert reading([]).risk == 0


def test_the_reading_round_trips_through_its_event_payload() -> None:
    made = reading([MAIL, CARD])
    payload = {"supervisor": made.payload()}
    assert reading_of(payload) == made
    assert row_values(payload) == (80, "card,email")
    assert row_values({}) == (None, None)
    gone = {"supervisor": unavailable("boom").payload()}
    assert row_values(gone) == (None, "unavailable")
    assert reading_of(gone) == unavailable("boom")


def test_findings_are_cut_in_place() -> None:
    pieces = segments(TEXT, [MAIL, CARD])
    assert "".join(piece for piece, _ in pieces) == TEXT
    assert [(piece, flag.type) for piece, flag in pieces if flag] == [
        ("4111111111111111", "card"),
        ("a@b.io", "email"),
    ]


def test_a_flood_of_findings_is_kept_to_a_readable_record() -> None:
    many = [Flag("email", "pii", IN_DRAFT, i, i + 1, "x") for i in range(MAX_FINDINGS + 5)]
    made = reading(many)
    assert len(made.flags) == MAX_FINDINGS and made.dropped == 5


@given(
    st.text(max_size=60),
    st.lists(st.tuples(st.integers(0, 70), st.integers(0, 70)), max_size=6),
)
def test_cutting_never_loses_or_invents_text(text: str, spans: list[tuple[int, int]]) -> None:
    flags = [Flag("email", "pii", IN_DRAFT, a, b, "x") for a, b in spans]
    pieces = segments(text, flags)
    assert "".join(piece for piece, _ in pieces) == text
    for piece, flag in pieces:
        if flag is not None:
            assert piece == text[flag.start : flag.end]
