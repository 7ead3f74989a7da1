"""Quotations held to a text: its sentences, and the grammar that holds a draft to them."""

from __future__ import annotations

import pytest

from placet.domain.quotes import MAX_QUOTABLE, quotable, quote_grammar

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
