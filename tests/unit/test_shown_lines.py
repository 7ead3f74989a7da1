"""What you see is what you approve: a draft's lines as the dashboard shows them, and edits counted.

The dashboard renders drafts as Markdown; a line break in the text must stay a line
break on the page (CommonMark alone joins "Best regards,\\nAmina" into one line).
"""

from __future__ import annotations

import re

import pytest

from placet.domain.diffs import changed_lines, unified_diff
from placet.web.render import markdown_html
from tests.xss_corpus import inspect_html

SIGNATURE = "Best regards,\nAmina Yusuf\nHead of Onboarding\nPlacet Ltd."


def shown_lines(text: str) -> list[str]:
    """The non-blank lines a browser shows of the rendered text.

    As in a browser, white space in the HTML (a newline included) is one space; only
    a ``<br>`` or the end of a block starts a new line.
    """
    html = re.sub(r"\s+", " ", str(markdown_html(text)))
    html = re.sub(r"<br\s*/?>|</(?:p|li|h[1-6]|tr|blockquote)>", "\n", html)
    visible = inspect_html(html).text
    return [line.strip() for line in visible.splitlines() if line.strip()]


def test_every_line_of_a_signature_block_stays_a_line() -> None:
    text = f"Hi Ada,\n\nWelcome aboard.\n\n{SIGNATURE}"
    assert shown_lines(text) == [line for line in text.splitlines() if line]


@pytest.mark.parametrize(
    "text",
    [
        "Our plans\n=========\nstart today.",  # a setext underline would become a heading
        "See the guide [1].\n[1]: https://example.com/guide",  # a reference would vanish
    ],
)
def test_markdown_that_would_swallow_a_line_shows_it(text: str) -> None:
    assert shown_lines(text) == text.splitlines()


def test_markdown_still_formats_and_stays_sanitised() -> None:
    text = "**Subject:** Hi\n<script>alert(1)</script>\n[x](javascript:alert(1))"
    html = str(markdown_html(text))
    assert "<strong>Subject:</strong>" in html and "<script>" not in html
    assert "javascript" not in html.lower().replace("(javascript:alert(1))", "")
    assert inspect_html(html).problems == []


@pytest.mark.parametrize(
    ("before", "after", "count"),
    [
        ("a\nb\nc\n", "a\nb\nc\n", 0),
        ("a\nb\nc\n", "a\nB\nc\n", 1),  # one line replaced is one change, not two
        ("a\nb\nc\n", "a\nB\nc\nd\n", 2),
        ("a\nb\nc\n", "a\nc\n", 1),
        ("-- \nsig\n", "sig\n", 1),  # a removed "-- " line looks like a file header
        ("Hi", "Hi\nAmina", 1),  # a last line without "\n" is not itself a change
        ("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n", 2),  # two hunks
    ],
)
def test_changed_lines_counts_what_the_edit_changed(before: str, after: str, count: int) -> None:
    assert changed_lines(unified_diff(before, after)) == count
