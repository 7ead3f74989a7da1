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
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from placet.supervisor.findings import Finding, finding, lower_case

# 13 to 19 digits, alone or in groups split by one space or dash. The look-behind comes
# after the first digit (checking it and the character before) so that the pattern
# starts with a digit, which Python's regex engine skips to quickly: a look-behind
# first costs twice as much on prose.
_CARD = re.compile(r"\d(?<![\w.,/+-]\d)(?:[ -]?\d){12,18}(?![\w-]|[.,/]\d)")
# Issuer prefixes and lengths (ISO/IEC 7812 ranges as the networks publish them).
_BRANDS: tuple[tuple[str, re.Pattern[str], frozenset[int]], ...] = (
    ("Visa", re.compile(r"4"), frozenset({16, 19})),  # 13 digits: none issued for years, and EANs
    ("Mastercard", re.compile(r"5[1-5]|2(?:2[2-9][1-9]|2[3-9]|[3-6]|7[01]|720)"), frozenset({16})),
    ("American Express", re.compile(r"3[47]"), frozenset({15})),
    ("Discover", re.compile(r"6(?:011|5|4[4-9])"), frozenset({16, 19})),
    ("Diners Club", re.compile(r"3(?:0[0-5]|[689])"), frozenset({14, 16})),
    ("JCB", re.compile(r"35(?:2[89]|[3-8])"), frozenset({16, 17, 18, 19})),
    ("UnionPay", re.compile(r"62"), frozenset({16, 17, 18, 19})),
    ("Maestro", re.compile(r"5[06-8]|6"), frozenset({16, 17, 18, 19})),  # not 12-15: EANs
)
# How card numbers are grouped when they are grouped at all.
_CARD_GROUPS = ((4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 2))


def find_cards(text: str) -> Iterator[Finding]:
    """Each payment card number: a real issuer's prefix and length, and the Luhn check."""
    from stdnum import luhn

    for match in _CARD.finditer(text):
        if IBAN_HEAD.search(text, max(0, match.start() - 40), match.start()):
            continue  # the account number inside an IBAN (one whose check digits fail)
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
# The country and check digits of an IBAN-shaped number, and any groups after them,
# just before a candidate: the digits that follow are the IBAN's, not a card or a phone.
IBAN_HEAD = re.compile(r"(?<![\w-])[A-Z]{2}\d\d(?: [A-Z0-9]{4})* \Z")
_IBAN = re.compile(
    r"[A-Z](?<![\w-][A-Z])[A-Z]\d\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])"
)


def find_ibans(text: str) -> Iterator[Finding]:
    """Each IBAN with valid check digits and its country's account format."""
    from stdnum import iban

    for match in _IBAN.finditer(text):
        raw = match.group()
        ends = [len(raw), *(at for at in range(len(raw) - 1, 14, -1) if raw[at] == " ")]
        for end in ends:
            if _mod97(raw[:end]) and iban.is_valid(raw[:end]):
                why = f"an IBAN from {raw[:2]} with valid check digits"
                yield finding("iban", match.start(), match.start() + end, why)
                break


def _mod97(number: str) -> bool:
    """The ISO 7064 check every IBAN passes, before python-stdnum checks its country format.

    A quick test in plain arithmetic: stdnum's full check looks banks up in its tables,
    which costs tens of microseconds a candidate.
    """
    compact = number.replace(" ", "")
    return int((compact[4:] + compact[:4]).translate(_LETTER_VALUES)) % 97 == 1


# A is 10, B is 11... Z is 35, as ISO 7064 reads an IBAN's letters.
_LETTER_VALUES = {
    ord(letter): str(value) for value, letter in enumerate(string.ascii_uppercase, 10)
}


@dataclass(frozen=True)
class _NationalId:
    """A national id format: its checksum, why it is flagged, and the word it needs nearby."""

    is_valid: Callable[[str], bool]
    why: str
    # Ids with a weak checksum (one in ten or eleven numbers passes) must be named within
    # the 40 characters before them; ``hints`` are lower-case literals the name contains.
    named_by: re.Pattern[str] | None = None
    hints: tuple[str, ...] = ()


def _stdnum(module: str) -> Callable[[str], bool]:
    """The ``is_valid`` of a python-stdnum module, imported on first use."""

    def is_valid(number: str) -> bool:
        checker: Callable[[str], bool] = _stdnum_module(module).is_valid
        return checker(number)

    return is_valid


@functools.cache
def _stdnum_module(name: str) -> Any:
    return importlib.import_module(f"stdnum.{name}")


_END = r"(?![\w-]|[.,]\w)"
# How each id is written. Those that start with a digit share one pattern, those that
# start with a letter another: one pass over the text each, the first character matched
# before the alternatives and the one before it checked afterwards (as for cards).
_DIGIT_SHAPES = {
    "ssn": r"\d\d-\d\d-\d{4}",
    "dni": r"\d{7}-?[A-HJ-NP-TV-Z]",
    "nir": r"(?<=[12]) ?\d\d ?\d\d ?(?:\d\d|2[AB]) ?\d{3} ?\d{3} ?\d\d",
    "nn": r"\d\.\d\d\.\d\d-\d{3}\.\d\d",
    "bsn": r"\d{8}|\d{3}\.\d\d\.\d{3}",
    "idnr": r"\d ?\d{3} ?\d{3} ?\d{3}",
    "nhs": r"\d\d ?\d{3} ?\d{4}",
}
_LETTER_SHAPES = {
    "nie": r"(?<=[XYZ])-?\d{7}-?[A-HJ-NP-TV-Z]",
    "cf": r"[A-Z]{5}\d\d[A-EHLMPRST]\d\d[A-Z]\d{3}[A-Z]",
}


def _one_pass(first: str, shapes: dict[str, str]) -> re.Pattern[str]:
    branches = "|".join(f"(?P<{name}>{shape})" for name, shape in shapes.items())
    return re.compile(f"{first}(?<![\\w.-]{first})(?:{branches})" + _END)


_ID_PATTERNS = (_one_pass(r"\d", _DIGIT_SHAPES), _one_pass("[A-Z]", _LETTER_SHAPES))
# Ids written alike: nine plain digits are a Dutch BSN or a US SSN, told by their names.
_SAME_SHAPE = {"bsn": ("bsn", "ssn_plain")}
_NATIONAL_IDS = {
    "ssn": _NationalId(
        _stdnum("us.ssn"), "a US Social Security number (valid area, group and serial)"
    ),
    "dni": _NationalId(_stdnum("es.dni"), "a Spanish DNI number with a valid check letter"),
    "ssn_plain": _NationalId(
        _stdnum("us.ssn"),
        "a US Social Security number without its dashes, named as one",
        re.compile(r"(?i)(?<![a-z])(?:ssn|social security)"),
        ("ssn", "social security"),
    ),
    "nir": _NationalId(_stdnum("fr.nir"), "a French social security number (NIR) with a valid key"),
    "nn": _NationalId(_stdnum("be.nn"), "a Belgian national register number with a valid checksum"),
    "nie": _NationalId(
        _stdnum("es.nie"), "a Spanish NIE (foreigner's id) with a valid check letter"
    ),
    "cf": _NationalId(
        _stdnum("it.codicefiscale"), "an Italian codice fiscale with a valid check character"
    ),
    "bsn": _NationalId(
        _stdnum("nl.bsn"),
        "a Dutch citizen service number (BSN) passing the eleven-test",
        re.compile(r"(?i)(?<![a-z])(?:bsn|burgerservicenummer)(?![a-z])"),
        ("bsn", "burgerservicenummer"),
    ),
    "idnr": _NationalId(
        _stdnum("de.idnr"),
        "a German tax id (Steuer-IdNr) with a valid check digit",
        re.compile(
            r"(?i)(?<![a-z])(?:steuer[-_ ]?id\w*|steueridentifikationsnummer|idnr|tax[-_ ]?id)"
        ),
        ("steuer", "idnr", "tax id", "tax-id", "tax_id"),
    ),
    "nhs": _NationalId(
        _stdnum("gb.nhs"),
        "a UK NHS number with a valid check digit",
        re.compile(r"(?i)(?<![a-z])nhs(?![a-z])"),
        ("nhs",),
    ),
}
_NAMED_WITHIN = 40  # characters before the number where a weak-checksum id must be named


def find_national_ids(text: str, lowered: str | None = None) -> Iterator[Finding]:
    """Each national id in a known format whose checksum is valid."""
    lowered = lower_case(text) if lowered is None else lowered
    for pattern in _ID_PATTERNS:
        for match in pattern.finditer(text):
            shape = match.lastgroup or ""
            for name in _SAME_SHAPE.get(shape, (shape,)):
                kind = _NATIONAL_IDS[name]
                if kind.hints and not any(hint in lowered for hint in kind.hints):
                    continue  # a weak-checksum id the text never names
                found = list(_checked(text, kind, match.start(), match.end()))
                if found:
                    yield from found
                    break


def _checked(text: str, kind: _NationalId, start: int, end: int) -> Iterator[Finding]:
    named = kind.named_by
    if named is not None and named.search(text, max(0, start - _NAMED_WITHIN), start) is None:
        return
    if kind.is_valid(text[start:end]):
        yield finding("national_id", start, end, kind.why)
