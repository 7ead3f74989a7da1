"""Quotations held to a text: its sentences, and the grammar that holds a draft to them."""

from __future__ import annotations

import pytest

from placet.domain import choice
from placet.domain.models import TaskKind
from placet.domain.quotes import MAX_QUOTABLE, bearing, quotable, quote_grammar

POLICY = (
    "Employees get 25 days of paid leave per year. Up to 5 days may be carried over! "
    'Requests go through the "HR portal".\nAsk your manager first'
)


def test_an_inputs_sentences_are_quotable_without_their_final_punctuation() -> None:
    assert quotable(POLICY) == (
        "Employees get 25 days of paid leave per year",
        "Up to 5 days may be carried over",
        'Requests go through the "HR portal"',
        "Ask your manager first",
    )


@pytest.mark.parametrize("text", ["", "   ", "Yes.", "OK! Fine."])
def test_a_text_without_a_sentence_of_two_words_gives_nothing_to_quote(text: str) -> None:
    assert quotable(text) == ()


def test_a_repeated_sentence_is_quotable_once_and_too_many_are_left_free() -> None:
    assert quotable("Be kind. Be kind. Be brief.") == ("Be kind", "Be brief")
    many = " ".join(f"Rule number {n} applies." for n in range(MAX_QUOTABLE + 1))
    assert quotable(many) == ()


def test_the_grammar_holds_every_quotation_to_a_sentence_and_bars_curly_quotes() -> None:
    grammar = quote_grammar(("Be kind", 'Say "hi" twice'))
    lines = grammar.splitlines()
    assert lines[0] == "root ::= outside"
    assert lines[1] == 'outside ::= ([^"\\u201c\\u201d] | "\\"" quoted "\\"")*'
    assert lines[2] == 'quoted ::= ("Be kind" [.!?]?) | ("Say \\"hi\\" twice" [.!?]?)'


def test_an_opening_that_opens_a_quotation_starts_the_answer_inside_it() -> None:
    assert quote_grammar(("Be kind",), 'The policy says: "').startswith(
        'root ::= quoted "\\"" outside'
    )
    # A quotation the opening closed, or none: the answer starts outside.
    assert quote_grammar(("Be kind",), 'It says "Be kind" and').startswith("root ::= outside")
    # One the opening leaves part-written cannot be held: no grammar.
    assert quote_grammar(("Be kind",), 'It says "Be') == ""
    assert quote_grammar((), 'It says "') == ""


SECURITY = (
    "Laptops must be locked when left unattended. Passwords must be at least 12 characters "
    "long and are changed every 180 days."
)


def test_a_quotation_bears_on_the_question_by_the_words_it_shares_with_it() -> None:
    asked = "How long must my password be?"
    right = 'It says: "Passwords must be at least 12 characters long." So 12.'
    wrong = 'It says: "Laptops must be locked when left unattended." So lock it.'
    made_up = 'It says: "Passwords must be long." So long.'  # not the policy's words
    assert bearing(right, SECURITY, asked) == 1.0
    assert bearing(wrong, SECURITY, asked) == 0.0
    assert bearing(made_up, SECURITY, asked) == 0.0
    assert bearing(right, SECURITY, "What is it?") == 0.0  # nothing of substance asked
    assert bearing("No quotation at all.", SECURITY, asked) == 0.0


def test_a_first_draft_that_quotes_what_was_asked_about_is_chosen() -> None:
    kind = TaskKind(name="policy", template="{policy} {question}", quote_from="policy")
    values = {"policy": SECURITY, "question": "How long must my password be?"}
    reading = choice.reading_for(kind, values, None)
    assert reading.source == SECURITY and reading.asked == values["question"]
    candidates = [
        'The policy says: "Laptops must be locked when left unattended." So lock it.',
        'The policy says: "Passwords must be at least 12 characters long." So 12.',
    ]
    assert choice.best(candidates, reading) == 1
    # A kind that quotes nothing reads no bearing: the earliest of equals.
    plain = choice.reading_for(TaskKind(name="p", template="{policy} {question}"), values, None)
    assert plain.source == "" and choice.best(candidates, plain) == 0
