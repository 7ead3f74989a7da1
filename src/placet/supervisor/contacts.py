"""E-mail addresses and phone numbers in text.

E-mail addresses by a careful pattern (a dotted domain ending in a letters-only
top-level label; not a URL's user part, not an ``icon@2x.png`` file name). Phone
numbers by libphonenumber (the ``phonenumbers`` package), which knows every
country's numbering plan: a cheap pattern picks the runs of digits that could be
one, and ``PhoneNumberMatcher`` decides on each (running it over a whole 4 KB draft
costs 4 to 15 ms; over the candidates alone, a fraction of that).

Numbers written with a country code (``+49 30 ...``, ``0044 20 ...``) are checked
against that country. Numbers written nationally are checked against each of the
default regions, and must look like a phone number to be flagged: grouped with
spaces, dashes, dots or brackets, or named as one (``Tel.``, ``call``, ``móvil``). A
bare run of digits after ``order``, ``invoice``, ``#``... is an order number, and a
date, a year range or a price is never a phone number, whatever a region's plan says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from placet.supervisor.findings import Finding, finding

if TYPE_CHECKING:
    from phonenumbers import PhoneNumberMatch

# The countries of the languages drafts are written in here; national-format numbers
# are tried against each, in this order. International numbers need none.
DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES")

_EMAIL = re.compile(
    r"(?<![\w.%+/:@-])"  # not inside a longer address, a URL's user part or a path
    r"[\w%+-]+(?:\.[\w%+-]+)*"  # local part: no leading, trailing or doubled dot
    r"@"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"  # labels of the domain
    r"([^\W\d_]{2,24})"  # the top-level label: letters only
    r"(?![\w@-]|\.[^\W_]|:[\w/~])"  # not cut short, and not a git remote (git@host:repo)
)
# ``logo@2x.png`` and ``styles@1.2.css`` are file names, not addresses.
_FILE_SUFFIXES = frozenset(
    re.findall(
        r"\w+",
        "png jpg jpeg gif svg webp ico bmp tif tiff pdf js mjs ts tsx jsx css scss less "
        "map json xml yaml yml toml md txt html htm py rb go rs java php sh zip gz tar",
    )
)


def find_emails(text: str) -> Iterator[Finding]:
    """Each e-mail address in ``text``."""
    for match in _EMAIL.finditer(text):
        if match.group(1).lower() in _FILE_SUFFIXES:
            continue
        yield finding("email", match.start(), match.end(), "an e-mail address")


# A run that could be a phone number: an optional + or 00, then 7 to 15 digits
# grouped by single spaces, dashes, dots, slashes or brackets (never commas: 1.299,00
# is a price). Anything glued to letters or further digits is no phone number.
_CANDIDATE = re.compile(
    r"(?<![\w+/.,:-])"
    # The whole run or nothing (an atomic group, written as a look-ahead and a back
    # reference for Python 3.10): a run that ends glued to a letter is not cut shorter.
    r"(?=(?P<run>(?:\+|\(\+?)?\d[\d().\-/ \u00a0]*\d))(?P=run)"
    r"(?![\w/-]|[.,:]\d)"
)
_DIGIT = re.compile(r"\d")
_INTERNATIONAL = re.compile(r"^\(?(?:\+|00[1-9])")
_GROUPED = re.compile(r"\d[ \u00a0.\-/]\d|\(\d{2,5}\)|\d\(")
_NOT_A_PHONE = (
    re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}$"),  # a date: 12.03.2024, 2024-03-01
    re.compile(r"^(?:1[89]|20)\d\d\s?[-/]\s?(?:1[89]|20)\d\d$"),  # a year range
    re.compile(r"^\d{1,3}(?:[.\u00a0 ]\d{3}){2,}$"),  # thousands: 1.299.000, 12 500 000
    re.compile(r"^\d+(?:\.\d+){2,}$"),  # a dotted version or an address: 10.2.3.4
)
_PHONE_WORD = re.compile(
    r"(?i)(?<!\w)(?:phone|tel\b|tel\.|telephone|mobile?|cell|call|fax|whatsapp|sms|text me|"
    r"dial|hotline|reach me|telefon|handy|mobil|rufnummer|anrufen|erreichbar|"
    r"t[ée]l[ée]phone|t[ée]l\b|t[ée]l\.|portable|appele[rz]|joindre|tel[ée]fono|m[óo]vil|"
    r"llam[ea]|celular|cellulare|telefoon|bellen)[^\n\d]{0,25}$"
)
_ORDER_WORD = re.compile(
    r"(?i)(?<!\w)(?:order|invoice|ref|reference|ticket|case|tracking|sku|serial|account|"
    r"customer|id|no\.|nr\.?|n°|nº|#|isbn|iban|bestell\w*|rechnung\w*|kunden\w*|"
    r"auftrag\w*|vorgang\w*|commande|facture|dossier|client|pedido|factura|"
    r"referencia|expediente|cliente)\W{0,4}$"
)


def find_phones(text: str, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> Iterator[Finding]:
    """Each phone number in ``text``, national ones checked against ``regions``."""
    for candidate in _CANDIDATE.finditer(text):
        found = _phone(text, candidate.start(), candidate.group(), regions)
        if found is not None:
            yield found
            continue
        # "+49 30 1234567 / 030 1234567": two numbers, or one written "030 / 1234567".
        for piece in _LIST_SEPARATOR.split(candidate.group()):
            start = candidate.start() + candidate.group().index(piece)
            found = _phone(text, start, piece, regions)
            if found is not None:
                yield found


_LIST_SEPARATOR = re.compile(r"\s+/\s+")


def _phone(text: str, start: int, raw: str, regions: Sequence[str]) -> Finding | None:
    """The phone number ``raw`` (at ``start`` in ``text``) is, or None.

    libphonenumber must read every digit of it as one valid number: a number it
    finds only inside the run (the tail of a longer id) does not count.
    """
    import phonenumbers

    digits = len(_DIGIT.findall(raw))
    if not 7 <= digits <= 15 or any(rule.match(raw) for rule in _NOT_A_PHONE):
        return None
    international = bool(_INTERNATIONAL.match(raw))
    if not international and not _national_phone_shape(raw, text[max(0, start - 40) : start]):
        return None
    # A number after 00 is read as any country with that international prefix would.
    tried = (("DE" if raw.startswith("00") else None),) if international else regions
    for region in tried:
        for match in phonenumbers.PhoneNumberMatcher(raw, region, phonenumbers.Leniency.VALID):
            if len(_DIGIT.findall(match.raw_string)) == digits:
                begin = start + match.start
                return finding("phone", begin, begin + len(match.raw_string), _why(match, region))
    return None


def _national_phone_shape(raw: str, before: str) -> bool:
    """A nationally written number: named as a phone, or grouped as one and not an id."""
    if _PHONE_WORD.search(before):
        return True
    return bool(_GROUPED.search(raw)) and not _ORDER_WORD.search(before)


def _why(match: PhoneNumberMatch, region: str | None) -> str:
    import phonenumbers

    number = match.number
    country = phonenumbers.region_code_for_number(number) or region or "an unknown country"
    written = "in international format" if region is None else "written nationally"
    return f"a valid phone number for {country}, {written}"
