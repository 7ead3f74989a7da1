"""An XSS corpus, and checks that a page shows it as text and runs none of it.

Each payload goes wherever untrusted text can reach a page: model output
(rendered from Markdown), task input, feedback, reasons, and user names (a
failed sign-in records whatever name was typed). ``visible`` is what a reader
must still see: the payload itself for plain text, and for Markdown whatever
Markdown legitimately makes of it (an entity is decoded, for example).
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

OUR_SCRIPT = "/static/placet.js"
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc"}
ACTIVE_TAGS = {"iframe", "object", "embed", "svg", "math", "style", "base", "frame", "applet"}


@dataclass(frozen=True)
class Payload:
    """One attack string and what must remain readable of it."""

    name: str
    text: str
    markdown_visible: str | None = None  # when Markdown shows it differently

    @property
    def visible_in_markdown(self) -> str:
        """What a reader sees of it in a rendered draft."""
        return self.markdown_visible if self.markdown_visible is not None else self.text


LONG = "A" * 6000

CORPUS = [
    Payload("script tag", "<script>alert(1)</script>"),
    Payload("img onerror", "<img src=x onerror=alert(1)>"),
    Payload("svg onload", "<svg onload=alert(1)><circle r=5 /></svg>"),
    Payload("svg script", "<svg><script>alert(1)</script></svg>"),
    Payload("attribute breakout", '"><script>alert(1)</script><x y="'),
    Payload("textarea breakout", "</textarea><script>alert(1)</script>"),
    Payload("title breakout", "</title><script>alert(1)</script>"),
    Payload("event handler", '<div onmouseover="alert(1)">hover</div>'),
    Payload("details ontoggle", "<details open ontoggle=alert(1)>x</details>"),
    Payload("iframe", '<iframe src="javascript:alert(1)"></iframe>'),
    Payload("html javascript link", '<a href="javascript:alert(1)">html link</a>'),
    Payload("markdown javascript link", "[click me](javascript:alert(1))"),
    Payload("markdown mixed-case link", "[click me](JaVaScRiPt:alert(1))"),
    Payload(
        "markdown entity link",
        "[click me](&#106;avascript:alert(1))",
        "[click me](javascript:alert(1))",
    ),
    Payload("markdown data link", "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKT4=)"),
    Payload("markdown image onerror", '![x](x" onerror="alert(1))'),
    Payload("markdown image javascript", "![x](javascript:alert(1))"),
    Payload("markdown autolink", "<javascript:alert(1)>"),
    Payload(
        "html entities",
        "&lt;script&gt;alert(1)&lt;/script&gt; &#60;b&#62;",
        "<script>alert(1)</script> <b>",
    ),
    Payload("style tag", "<style>body{display:none}</style>"),
    Payload("math xlink", '<math><mi xlink:href="javascript:alert(1)">m</mi></math>'),
    Payload("template syntax", "{{ 7+7 }} {% raw %}${7+7} #{7+7}"),
    Payload("quotes", 'it\'s "quoted" & <b>bold</b>; alert(1)//'),
    Payload("unicode", "Zoë 👋 — 日本語 \u202eoverride\u202c naïve café"),
    Payload("very long line", LONG + "<script>alert(1)</script>"),
]


def corpus_markdown() -> str:
    """Every payload as its own paragraph of a draft."""
    return "\n\n".join(payload.text for payload in CORPUS)


# -- checking HTML -------------------------------------------------------------------------


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _Inspector(HTMLParser):
    """Collects what a browser would run and what a reader would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.captured: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of each open element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_tag(tag, dict(attrs))
        if tag in VOID:
            return
        element_id = dict(attrs).get("id")
        if element_id:
            self.captured.setdefault(element_id, [])
        self._open.append((tag, element_id))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_tag(tag, dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):  # tolerate unclosed <p>, <li>, ...
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        if any(tag == "script" for tag, _ in self._open):
            if data.strip():
                self.problems.append(f"inline script content: {data[:80]!r}")
            return
        self.text.append(data)
        for _, element_id in self._open:
            if element_id:
                self.captured[element_id].append(data)

    def _check_tag(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag == "script" and attrs.get("src", "").split("?")[0] != OUR_SCRIPT:  # type: ignore[union-attr]
            self.problems.append(f"a script that is not ours: {attrs}")
        if tag in ACTIVE_TAGS:
            self.problems.append(f"an active element <{tag}>")
        for name, value in attrs.items():
            self._check_attribute(tag, name, value or "")

    def _check_attribute(self, tag: str, name: str, value: str) -> None:
        if name.startswith("on"):
            self.problems.append(f"an event handler {name}= on <{tag}>")
        if name == "style":
            self.problems.append(f"an inline style on <{tag}>")
        squeezed = "".join(value.split()).lower()
        if name in URL_ATTRIBUTES and squeezed.startswith(BAD_SCHEMES):
            self.problems.append(f"a {squeezed.split(':')[0]}: URL in {name}= on <{tag}>")


@dataclass(frozen=True)
class Inspection:
    """What a page would run (problems) and show (text)."""

    problems: list[str]
    text: str
    by_id: dict[str, str]


def inspect_html(html: str) -> Inspection:
    """Parse a page: every executable thing in it, its visible text, and text by element id."""
    parser = _Inspector()
    parser.feed(html)
    parser.close()
    by_id = {key: "".join(parts) for key, parts in parser.captured.items()}
    return Inspection(parser.problems, "".join(parser.text), by_id)


def assert_inert(html: str) -> Inspection:
    """Fail if the page would run anything but our own script; return the inspection."""
    found = inspect_html(html)
    assert not found.problems, "executable markup in the page:\n" + "\n".join(found.problems)
    return found
