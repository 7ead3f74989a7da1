"""Numbers that identify a person or their money: payment cards, IBANs, national ids.

Every one is checked, not guessed: a card number must pass the Luhn check and
have a real issuer's prefix and length, an IBAN its ISO 7064 check digits and its
country's format, a national id its own checksum (python-stdnum does the
checking). A candidate is taken from the text only as it is usually written (a
card in groups of four, a Belgian national number with its dots), so that the
digits of a longer number are never read as one.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from placet.supervisor.findings import Finding, finding

# 13 to 19 digits, alone or in groups split by one space or dash.
_CARD = re.compile(r"(?<![\w.,/+-])\d(?:[ -]?\d){12,18}(?![\w-]|[.,/]\d)")
# Issuer prefixes and lengths (ISO/IEC 7812 ranges as the networks publish them).
_BRANDS: tuple[tuple[str, re.Pattern[str], frozenset[int]], ...] = (
    ("Visa", re.compile(r"4"), frozenset({13, 16, 19})),
    ("Mastercard", re.compile(r"5[1-5]|2(?:2[2-9][1-9]|2[3-9]|[3-6]|7[01]|720)"), frozenset({16})),
    ("American Express", re.compile(r"3[47]"), frozenset({15})),
    ("Discover", re.compile(r"6(?:011|5|4[4-9])"), frozenset({16, 19})),
    ("Diners Club", re.compile(r"3(?:0[0-5]|[689])"), frozenset({14, 16})),
    ("JCB", re.compile(r"35(?:2[89]|[3-8])"), frozenset({16, 17, 18, 19})),
    ("UnionPay", re.compile(r"62"), frozenset({16, 17, 18, 19})),
    ("Maestro", re.compile(r"5[06-8]|6"), frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
)
# How card numbers are grouped when they are grouped at all.
_CARD_GROUPS = ((4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 2))


def find_cards(text: str) -> Iterator[Finding]:
    """Each payment card number: a real issuer's prefix and length, and the Luhn check."""
    from stdnum import luhn

    for match in _CARD.finditer(text):
        raw = match.group()
        digits = raw.replace(" ", "").replace("-", "")
        if not _card_grouping(raw) or not luhn.is_valid(digits):
            continue
        brand = _brand(digits)
        if brand is not None:
            why = f"{_article(brand)} {brand} card number that passes the Luhn check"
            yield finding("card", match.start(), match.end(), why)


def _card_grouping(raw: str) -> bool:
    """One unbroken run, or groups split by one kind of separator as cards print them."""
    separators = {char for char in raw if not char.isdigit()}
    if not separators:
        return True
    if len(separators) > 1:
        return False
    groups = tuple(len(group) for group in raw.split(separators.pop()))
    return groups in _CARD_GROUPS


def _brand(digits: str) -> str | None:
    for brand, prefix, lengths in _BRANDS:
        if prefix.match(digits) and len(digits) in lengths:
            return brand
    return None


def _article(word: str) -> str:
    return "an" if word[0] in "AEIOU" else "a"


# A country code, check digits, then groups of up to four letters and digits, with or
# without single spaces; the longest prefix that validates is the IBAN (so a following
# "BIC" or word is not swallowed).
_IBAN = re.compile(r"(?<![\w-])[A-Z]{2}\d\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])")


def find_ibans(text: str) -> Iterator[Finding]:
    """Each IBAN with valid check digits and its country's account format."""
    from stdnum import iban

    for match in _IBAN.finditer(text):
        raw = match.group()
        ends = [len(raw), *(at for at in range(len(raw) - 1, 14, -1) if raw[at] == " ")]
        for end in ends:
            if iban.is_valid(raw[:end]):
                why = f"an IBAN from {raw[:2]} with valid check digits"
                yield finding("iban", match.start(), match.start() + end, why)
                break


@dataclass(frozen=True)
class _NationalId:
    """A national id format: how it is written, its checksum, and the word it needs nearby."""

    pattern: re.Pattern[str]
    is_valid: Callable[[str], bool]
    why: str
    named_by: re.Pattern[str] | None = None  # ids with a weak checksum must be named


def _stdnum(module: str) -> Callable[[str], bool]:
    """The ``is_valid`` of a python-stdnum module, imported on first use."""

    def is_valid(number: str) -> bool:
        checker: Callable[[str], bool] = _stdnum_module(module).is_valid
        return checker(number)

    return is_valid


@functools.cache
def _stdnum_module(name: str) -> Any:
    return importlib.import_module(f"stdnum.{name}")


_ALONE = r"(?<![\w.-]){}(?![\w-]|[.,]\w)"
_NATIONAL_IDS = (
    _NationalId(
        re.compile(_ALONE.format(r"\d{3}-\d\d-\d{4}")),
        _stdnum("us.ssn"),
        "a US Social Security number (valid area, group and serial)",
    ),
    _NationalId(
        re.compile(_ALONE.format(r"\d{8}-?[A-HJ-NP-TV-Z]")),
        _stdnum("es.dni"),
        "a Spanish DNI number with a valid check letter",
    ),
    _NationalId(
        re.compile(_ALONE.format(r"[XYZ]-?\d{7}-?[A-HJ-NP-TV-Z]")),
        _stdnum("es.nie"),
        "a Spanish NIE (foreigner's id) with a valid check letter",
    ),
    _NationalId(
        re.compile(_ALONE.format(r"[12] ?\d\d ?\d\d ?(?:\d\d|2[AB]) ?\d{3} ?\d{3} ?\d\d")),
        _stdnum("fr.nir"),
        "a French social security number (NIR) with a valid key",
    ),
    _NationalId(
        re.compile(_ALONE.format(r"[A-Z]{6}\d\d[A-EHLMPRST]\d\d[A-Z]\d{3}[A-Z]")),
        _stdnum("it.codicefiscale"),
        "an Italian codice fiscale with a valid check character",
    ),
    _NationalId(
        re.compile(_ALONE.format(r"\d\d\.\d\d\.\d\d-\d{3}\.\d\d")),
        _stdnum("be.nn"),
        "a Belgian national register number with a valid checksum",
    ),
    _NationalId(
        re.compile(_ALONE.format(r"\d{9}|\d{4}\.\d\d\.\d{3}")),
        _stdnum("nl.bsn"),
        "a Dutch citizen service number (BSN) passing the eleven-test",
        re.compile(r"(?i)(?<!\w)(?:bsn|burgerservicenummer)\b"),
    ),
    _NationalId(
        re.compile(_ALONE.format(r"\d\d ?\d{3} ?\d{3} ?\d{3}")),
        _stdnum("de.idnr"),
        "a German tax id (Steuer-IdNr) with a valid check digit",
        re.compile(r"(?i)(?<!\w)(?:steuer-?id\w*|steueridentifikationsnummer|idnr|tax id)"),
    ),
    _NationalId(
        re.compile(_ALONE.format(r"\d{3} ?\d{3} ?\d{4}")),
        _stdnum("gb.nhs"),
        "a UK NHS number with a valid check digit",
        re.compile(r"(?i)(?<!\w)nhs\b"),
    ),
)
_NAMED_WITHIN = 40  # characters before the number where a weak-checksum id must be named


def find_national_ids(text: str) -> Iterator[Finding]:
    """Each national id in a known format whose checksum is valid."""
    for kind in _NATIONAL_IDS:
        if kind.named_by is not None and kind.named_by.search(text) is None:
            continue
        for match in kind.pattern.finditer(text):
            if kind.named_by is not None:
                before = text[max(0, match.start() - _NAMED_WITHIN) : match.start()]
                if kind.named_by.search(before) is None:
                    continue
            if kind.is_valid(match.group()):
                yield finding("national_id", match.start(), match.end(), kind.why)
