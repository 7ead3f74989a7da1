"""Writes the scanners' labelled corpus, tests/corpus/drafts.jsonl (issue 17).

    python tests/corpus/make_corpus.py            # rewrite drafts.jsonl
    python tests/corpus/make_corpus.py --check    # exit 1 if it would change

240 drafts: five formats (e-mail, chat reply, JSON, Markdown, code) by four
languages (English, German, French, Spanish), twelve of each. A third are clean:
no personal data, secrets or internal links, but near misses (card-length numbers
failing the Luhn check, order and customer numbers grouped like phone numbers,
dates, prices, versions, public URLs and addresses, IBANs with wrong check digits,
SSN-shaped numbers no SSN can have). The rest carry one to three planted findings,
drawn from a shuffled deck so every type is planted about as often. A quarter of
the prose drafts also break one of the checks in ``phrases.CHECKS`` (labelled in
``violates``, for the supervisor's model checks; the scanners ignore them).

Each line: ``id``, ``format``, ``lang``, ``text``, ``findings`` (``type``, ``start``,
``end``, ``value``: the exact span of every planted value, and nothing else is one),
``violates``. Deterministic: the same seed writes the same file, byte for byte.
Every value is fake (see ``fakes.py``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import Fakes
from near_misses import NearMisses
from phrases import (
    CHECKS,
    CLOSING,
    CODE_COMMENT,
    FILLER,
    GREETING,
    ID_LABEL,
    NEAR,
    PLANT,
    SUBJECT,
    VIOLATION,
)

SEED = 17
OUT = Path(__file__).resolve().parent / "drafts.jsonl"
LANGS = ("en", "de", "fr", "es")
FORMATS = ("email", "chat", "json", "markdown", "code")
PER_CELL = 12  # drafts per format and language
TYPES = (
    "email",
    "phone",
    "card",
    "iban",
    "national_id",
    "api_key",
    "token",
    "password",
    "private_key",
    "internal_url",
)


@dataclass
class Plant:
    """A planted value as the text shows it, and the labelled spans inside it."""

    kind: str
    value: str
    labels: list[tuple[str, str]]
    id_kind: str = ""
    vendor: str = ""


@dataclass
class Draft:
    """A draft being written: its pieces of text and what they plant."""

    lang: str
    fmt: str
    labels: list[tuple[str, str]] = field(default_factory=list)
    violates: list[str] = field(default_factory=list)


class Writer:
    """Writes the drafts from one seeded random source."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.fakes = Fakes(self.rng)
        self.near = NearMisses(self.fakes)
        self.deck: list[str] = []

    def next_type(self) -> str:
        if not self.deck:
            self.deck = list(TYPES)
            self.rng.shuffle(self.deck)
        return self.deck.pop()

    # --- values -------------------------------------------------------------------

    def plant(self, kind: str, lang: str, fmt: str) -> Plant:
        """A fresh value of ``kind``, with its labels."""
        fakes = self.fakes
        if kind == "email":
            value = fakes.email(lang)
        elif kind == "phone":
            value = fakes.phone(lang)
        elif kind == "card":
            value = fakes.card()
        elif kind == "iban":
            value = fakes.iban()
        elif kind == "national_id":
            value, id_kind = fakes.national_id()
            return Plant(kind, value, [(kind, value)], id_kind=id_kind)
        elif kind == "api_key":
            value, vendor = fakes.api_key()
            return Plant(kind, value, [(kind, value)], vendor=vendor)
        elif kind == "token":
            value, vendor = fakes.token()
            return Plant(kind, value, [(kind, value)], vendor=vendor)
        elif kind == "password":
            return self._password(fmt)
        elif kind == "private_key":
            value = fakes.private_key()
        else:
            roll = self.rng.random()
            if roll < 0.1:  # a host to log in to: the address alone is the finding
                address = fakes.private_ipv4()
                return Plant(kind, f"ssh deploy@{address}", [(kind, address)])
            value = fakes.internal_url() if roll < 0.75 else fakes.schemeless_internal()
        return Plant(kind, value, [(kind, value)])

    def _password(self, fmt: str) -> Plant:
        """A password: assigned in a config, or inside a connection URL (code and JSON)."""
        if fmt in ("code", "json") and self.rng.random() < 0.5:
            secret = self.fakes.url_password()
            host = self.rng.choice(
                ["db.example.com", "pg.example.net", "10.20.0.7", "db01.prod.internal"]
            )
            url = f"postgres://app:{secret}@{host}:5432/shop"
            labels = [("password", secret)]
            if not host.endswith(".com") and not host.endswith(".net"):
                labels.append(("internal_url", url))
            return Plant("password", url, labels, vendor="url")
        secret = self.fakes.password()
        return Plant("password", secret, [("password", secret)])

    def near_miss(self, lang: str) -> str:
        kind, template = self.rng.choice(NEAR[lang])
        return template.format(n=getattr(self.near, kind)())

    def name(self, lang: str) -> str:
        first, last = self.fakes.name(lang)
        return f"{first} {last}"

    # --- prose ----------------------------------------------------------------------

    def sentence(self, plant: Plant, lang: str) -> str:
        """A sentence in ``lang`` carrying the planted value."""
        if plant.vendor == "url":
            return f'DATABASE_URL="{plant.value}"'
        template = self.rng.choice(PLANT[lang][plant.kind])
        label = ID_LABEL.get(plant.id_kind, "")
        if plant.id_kind and template.startswith("{label}"):
            label = label[0].upper() + label[1:]
        return template.format(v=plant.value, label=label)

    def body(self, draft: Draft, plants: list[Plant], lines: int) -> list[str]:
        """Sentences for a prose draft: filler, near misses, plants, violations, shuffled."""
        lang = draft.lang
        parts = self.rng.sample(FILLER[lang], lines)
        parts += [self.near_miss(lang) for _ in range(self.rng.randint(1, 3))]
        parts += [self.sentence(plant, lang) for plant in plants]
        parts += [self.rng.choice(VIOLATION[lang][check]) for check in draft.violates]
        parts = list(dict.fromkeys(parts))  # no sentence twice
        self.rng.shuffle(parts)
        return parts

    def email(self, draft: Draft, plants: list[Plant]) -> str:
        lang = draft.lang
        parts = self.body(draft, plants, self.rng.randint(2, 5))
        half = max(1, len(parts) // 2)
        paragraphs = [" ".join(_joinable(parts[:half])), " ".join(_joinable(parts[half:]))]
        return "\n\n".join(
            [
                f"Subject: {self.rng.choice(SUBJECT[lang])}",
                self.rng.choice(GREETING[lang]).format(name=self.name(lang)),
                *[p for p in paragraphs if p],
                f"{self.rng.choice(CLOSING[lang])}\n{self.name(lang)}",
            ]
        )

    def chat(self, draft: Draft, plants: list[Plant]) -> str:
        parts = self.body(draft, plants, self.rng.randint(0, 2))
        return (
            "\n".join(_joinable(parts)) if self.rng.random() < 0.5 else " ".join(_joinable(parts))
        )

    def markdown(self, draft: Draft, plants: list[Plant]) -> str:
        lang = draft.lang
        parts = self.body(draft, [], self.rng.randint(1, 3))
        out = [f"# {self.rng.choice(SUBJECT[lang])}", "", " ".join(parts), ""]
        for plant in plants:
            style = self.rng.choice(["bullet", "table", "fenced"])
            if plant.kind == "private_key" or plant.vendor == "url" or style == "fenced":
                fence = self.sentence(plant, lang) if plant.kind != "private_key" else plant.value
                out += ["```", fence, "```", ""]
            elif style == "table":
                out += ["| | |", "|---|---|", f"| {_field(plant)} | {plant.value} |", ""]
            else:
                out += [f"- {self.sentence(plant, lang)}"]
        out += [f"- {self.near_miss(lang)}", f"- {self.rng.choice(FILLER[lang])}"]
        return "\n".join(out).strip() + "\n"

    # --- structured -------------------------------------------------------------------

    def json_draft(self, draft: Draft, plants: list[Plant]) -> str:
        lang = draft.lang
        in_reply = [p for p in plants if p.kind != "private_key" and self.rng.random() < 0.4]
        fields = [p for p in plants if p not in in_reply]
        reply = " ".join(_joinable(self.body(draft, in_reply, self.rng.randint(1, 3))))
        record: dict[str, object] = {
            "ticket": f"T-{self.fakes.digits(6)}",
            "language": lang,
            "reply": reply,
            "customer": {"name": self.name(lang), **{_field(p): p.value for p in fields}},
            "meta": {
                "created": self.near.date(),
                "order": self.near.order_number(),
                "model_version": self.near.version(),
                "help": self.near.public_url(),
            },
        }
        return json.dumps(record, ensure_ascii=False, indent=2)

    def code(self, draft: Draft, plants: list[Plant]) -> str:
        lang = draft.lang
        style = self.rng.choice(["python", "python", "js", "yaml", "env"])
        if style == "env" and any("\n" in plant.value for plant in plants):
            style = "python"  # a .env file holds no private key block
        lines = [self.rng.choice(CODE_COMMENT[lang]).replace("//", "#" if style != "js" else "//")]
        if style == "env":
            lines += ["DEBUG=false", f"PORT={self.rng.choice([3000, 8000, 8080])}"]
        lines += list(self._code_near_misses(style))
        for plant in plants:
            lines.append(_assignment(style, plant))
            if style == "yaml" and "\n" in plant.value:  # a block scalar indents the key's lines
                plant.labels = [(kind, value.replace("\n", "\n  ")) for kind, value in plant.labels]
        lines += list(self._code_near_misses(style))
        if style == "python":
            lines.append("resp = requests.get(BASE, timeout=30)")
        return "\n".join(lines) + "\n"

    def _code_near_misses(self, style: str) -> Iterator[str]:
        near = self.near
        options = [
            (
                "VERSION",
                f"{self.rng.randint(1, 9)}.{self.rng.randint(0, 20)}.{self.rng.randint(0, 9)}",
            ),
            ("BASE", near.public_url()),
            ("ORDER_ID", near.order_number()),
            ("REQUEST_ID", near.misc()),
            ("API_KEY", None),
            ("REPO", "git@github.com:example-org/shop.git"),
            ("CREATED", near.date()),
        ]
        for name, value in self.rng.sample(options, 2):
            if value is None:
                yield {
                    "python": 'API_KEY = os.environ["API_KEY"]',
                    "js": "const apiKey = process.env.API_KEY;",
                    "yaml": "api_key: ${API_KEY}",
                    "env": "API_KEY=${API_KEY}",
                }[style]
            else:
                yield _assignment(style, Plant("", value, []), name)

    # --- one draft ------------------------------------------------------------------------

    def draft(self, number: int, lang: str, fmt: str, index: int) -> dict[str, object]:
        """One draft; written again (from the next random state) if a value came out twice."""
        for _ in range(10):
            try:
                return self._draft(number, lang, fmt, index)
            except ValueError:
                continue
        raise AssertionError(f"could not write draft {number} with each value once")

    def _draft(self, number: int, lang: str, fmt: str, index: int) -> dict[str, object]:
        draft = Draft(lang, fmt)
        clean = index % 3 == 0
        kinds = [] if clean else [self.next_type() for _ in range(self.rng.randint(1, 3))]
        plants = [self.plant(kind, lang, fmt) for kind in kinds]
        if fmt != "code" and self.rng.random() < 0.25:
            draft.violates = [self.rng.choice(sorted(CHECKS))]
        writer = {
            "email": self.email,
            "chat": self.chat,
            "json": self.json_draft,
            "markdown": self.markdown,
            "code": self.code,
        }[fmt]
        text = writer(draft, plants)
        labels = [label for plant in plants for label in plant.labels]
        escape = fmt == "json"
        findings = sorted(
            (_located(text, kind, value, escape) for kind, value in labels),
            key=lambda f: (f["start"], -f["end"]),
        )
        return {
            "id": f"d{number:03d}",
            "format": fmt,
            "lang": lang,
            "text": text,
            "findings": findings,
            "violates": draft.violates,
        }


def _joinable(parts: list[str]) -> list[str]:
    return [part for part in parts if part]


_FIELDS = {
    "email": "email",
    "phone": "phone",
    "card": "card_number",
    "iban": "iban",
    "api_key": "api_key",
    "token": "access_token",
    "password": "password",
    "private_key": "private_key",
    "internal_url": "callback_url",
}
_ID_FIELDS = {
    "ssn": "ssn",
    "dni": "dni",
    "nie": "nie",
    "nir": "nir",
    "cf": "codice_fiscale",
    "nn": "national_number",
    "bsn": "bsn",
    "idnr": "steuer_id",
    "nhs": "nhs_number",
}


def _field(plant: Plant) -> str:
    if plant.vendor == "url":
        return "database_url"
    if plant.id_kind:
        return _ID_FIELDS[plant.id_kind]
    if plant.vendor == "aws":
        return "aws_access_key_id"
    return _FIELDS[plant.kind]


def _assignment(style: str, plant: Plant, name: str | None = None) -> str:
    """``NAME = "value"`` in the snippet's language (a private key as a block string)."""
    name = name or _field(plant).upper()
    value = plant.value
    if "\n" in value:
        if style == "yaml":
            indented = "\n".join("  " + line for line in value.splitlines())
            return f"{name.lower()}: |\n{indented}"
        quote = '"""' if style == "python" else "`"
        return (
            f"{name} = {quote}{value}{quote}"
            if style == "python"
            else f"const {name} = {quote}{value}{quote};"
        )
    if style == "python":
        return f'{name} = "{value}"'
    if style == "js":
        return f'const {name} = "{value}";'
    if style == "env":  # unquoted, as .env files are written
        return f"{name}={value}"
    return f'{name.lower()}: "{value}"'


def _located(text: str, kind: str, value: str, escaped: bool) -> dict[str, object]:
    """The one place ``value`` stands in ``text`` (as JSON escapes it, in a JSON draft)."""
    shown = json.dumps(value, ensure_ascii=False)[1:-1] if escaped else value
    start = text.find(shown)
    if start == -1 or text.find(shown, start + 1) != -1:
        raise ValueError(f"{kind} {shown!r} must stand exactly once in the draft")
    return {"type": kind, "start": start, "end": start + len(shown), "value": shown}


def build(seed: int = SEED) -> list[dict[str, object]]:
    """Every draft of the corpus, in order."""
    writer = Writer(seed)
    drafts = []
    for lang in LANGS:
        for fmt in FORMATS:
            for index in range(PER_CELL):
                drafts.append(writer.draft(len(drafts) + 1, lang, fmt, index))
    return drafts


def render(drafts: list[dict[str, object]]) -> str:
    return "".join(json.dumps(draft, ensure_ascii=False, sort_keys=True) + "\n" for draft in drafts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if drafts.jsonl is stale")
    args = parser.parse_args()
    text = render(build())
    if args.check:
        stale = not OUT.exists() or OUT.read_text(encoding="utf-8") != text
        print("drafts.jsonl is stale" if stale else "drafts.jsonl is up to date")
        return 1 if stale else 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10))} drafts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
