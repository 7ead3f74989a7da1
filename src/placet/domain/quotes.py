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
