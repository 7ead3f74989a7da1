"""Quotations held to a text: what a draft may put in double quotes. Pure.

A kind with ``quote_from = "policy"`` answers from that input, and a quotation
in its draft must be one of the input's sentences, word for word. A small model
asked to quote a policy writes a fluent sentence the policy does not hold ("Locks
must be changed every 12 months.") far more often than the one it does (BENCHMARKS
§15); the local provider holds it to the real ones with a grammar
(``quote_grammar``), and every provider's drafts are chosen with a quotation not
found in the input counting against them (``domain.defects``).
"""

from __future__ import annotations

import json
import re

MAX_QUOTABLE = 200  # sentences; a longer input is left unconstrained (the grammar grows)
MAX_SENTENCE_CHARS = 600
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]\u201d\u2019]*|$)")
_QUOTATION = re.compile(r"[\"\u201c]([^\"\u201c\u201d]+)[\"\u201d]")
_WORD = re.compile(r"[a-z0-9]+")
# Words that say how something is asked, not what about.
_HOW_ASKED = """
the and for with are can could does did how what when where which who whom why many
much often long must may might should would will shall per you your our ours their
them they this that these those have has had get got from into about than there here
some any all each every not yes
"""
_COMMON = frozenset(_HOW_ASKED.split())
# The full stop that ends a sentence, before any closing quote or bracket it has.
_END = re.compile(r"[.!?]+(?=[\"')\]\u201d\u2019]*$)")


def quotable(text: str) -> tuple[str, ...]:
    """The sentences of a text a draft may quote, without their final punctuation, in
    order, each once; empty when the text has none or too many to hold a draft to."""
    found: list[str] = []
    for match in _SENTENCE.finditer(text):
        sentence = _END.sub("", match.group(0).strip()).strip()
        if len(sentence.split()) >= 2 and sentence not in found:
            found.append(sentence[:MAX_SENTENCE_CHARS])
    return tuple(found) if len(found) <= MAX_QUOTABLE else ()


def bearing(text: str, source: str, asked: str) -> float:
    """How far the text's quotations of ``source`` bear on what was ``asked`` (the
    request's other inputs): the largest share of the asked words of substance one of
    them holds, 0 to 1. A quotation not in the source bears on nothing.

    A real quotation can still be the wrong one: a small model held to a policy's
    sentences quoted the one that answers the question about half the time
    (BENCHMARKS §15). Among candidate drafts, the one quoting what the question is
    about is the better bet; words are compared plainly (case and a plural's s aside).
    """
    wanted = _substance(asked)
    if not wanted:
        return 0.0
    held = _normal(source)
    shares = [
        len(_substance(quoted) & wanted) / len(wanted)
        for quoted in _QUOTATION.findall(text)
        if _normal(quoted) and _normal(quoted) in held
    ]
    return max(shares, default=0.0)


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _substance(text: str) -> set[str]:
    return {
        word[:-1] if word.endswith("s") and len(word) > 3 else word
        for word in _WORD.findall(text.casefold())
        if len(word) > 2 and word not in _COMMON
    }


def quote_grammar(sentences: tuple[str, ...], opening: str = "") -> str:
    """A GBNF grammar (llama.cpp's) for an answer whose every double-quoted part is one
    of ``sentences`` word for word, closed with or without its full stop, and which
    uses no curly double quotes to get round that. An ``opening`` that leaves a
    quotation open ('The policy says: "') makes the answer start inside it. Empty
    when there is nothing to hold the answer to, or the opening leaves a quotation
    part-written."""
    if not sentences:
        return ""
    head, quote, written = opening.rpartition('"')
    inside = bool(quote) and head.count('"') % 2 == 0
    if inside and written:
        return ""
    choices = " | ".join(f"({_literal(s)} [.!?]?)" for s in sentences)
    return "\n".join(
        (
            'root ::= quoted "\\"" outside' if inside else "root ::= outside",
            'outside ::= ([^"\\u201c\\u201d] | "\\"" quoted "\\"")*',
            f"quoted ::= {choices}",
        )
    )


def _literal(text: str) -> str:
    """A GBNF string literal: JSON's escapes are the grammar's."""
    return json.dumps(text, ensure_ascii=False)
