"""Model output as sanitised HTML: Markdown rendered, then cleaned by an allow-list.

Model output is untrusted (DESIGN rule 6). Markdown is rendered with raw HTML
disabled, then the result goes through an allow-list sanitiser (``nh3``) anyway,
so a mistake in either layer alone cannot let markup through: no script, no
style, no event handler, no ``javascript:`` or relative link survives, and an
image is shown as a link. The dashboard and the e-mail channel both show drafts
this way, so a reviewer sees the same text wherever it reaches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

SAFE_SCHEMES = ("http://", "https://", "mailto:")
_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
_ATTRIBUTES = {"a": frozenset({"href", "title"}), "ol": frozenset({"start"})}


def _image_as_link(
    _renderer: Any, tokens: Sequence[Token], idx: int, _options: Any, _env: Any
) -> str:
    # An image from model output would load a URL the model chose (a tracking
    # pixel at best), so it is shown as a link the reviewer can inspect instead.
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or []) or "image"
    src = str(token.attrGet("src") or "")
    return f'<a href="{escapeHtml(src)}">[image: {escapeHtml(alt)}]</a>'


def _only_safe_urls(tag: str, attribute: str, value: str) -> str | None:
    """Keep a link only when it is absolute http(s) or mailto (a second line of defence)."""
    if tag == "a" and attribute == "href":
        return value if value.strip().lower().startswith(SAFE_SCHEMES) else None
    return value


# What you see is what you approve: ``breaks`` shows every line break of the text
# (CommonMark would join "Best regards,\nAmina" into one line), and the two block
# rules that swallow whole lines are off: a setext underline ("Title\n=====") and a
# link reference definition ("[1]: https://...") stay visible as the text they are.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
    .enable(["table", "strikethrough"])
    .disable(["lheading", "reference"])
)
_markdown.add_render_rule("image", _image_as_link)
_cleaner = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    attribute_filter=_only_safe_urls,
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel="noopener nofollow noreferrer",
)


def safe_html(text: str) -> str:
    """Untrusted Markdown as sanitised HTML, safe to place in a page, every line break kept."""
    return str(_cleaner.clean(_markdown.render(text)))
