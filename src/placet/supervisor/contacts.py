"""E-mail addresses and phone numbers in text.

E-mail addresses by a careful pattern (a dotted domain ending in a letters-only
top-level label; not a URL's user part, not an ``icon@2x.png`` file name). Phone
numbers by libphonenumber (the ``phonenumbers`` package), which knows every
country's numbering plan: a cheap pattern picks the runs of digits that could be
one, and libphonenumber decides on each: a valid number, grouped as its country
writes it (``PhoneNumberMatcher`` over a whole 4 KB draft costs 4 to 15 ms; over the
candidates alone, a fraction of that).

Numbers written with a country code (``+49 30 ...``, ``0044 20 ...``) are checked
against that country. Numbers written nationally are checked against each of the
default regions, and must look like a phone number to be flagged: grouped with
spaces, dashes, dots or brackets, or named as one (``Tel.``, ``call``, ``móvil``). A
bare run of digits after ``order``, ``invoice``, ``#``... is an order number, and a
date, a year range or a price is never a phone number, whatever a region's plan says.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from placet.supervisor.findings import Finding, finding
from placet.supervisor.numbers import IBAN_HEAD

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

# The countries of the languages drafts are written in here; national-format numbers
# are tried against each, in this order. International numbers need none.
DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES")

# An address is read outwards from each "@": the local part before it, the domain after.
_LOCAL = re.compile(r"[\w%+-]+(?:\.[\w%+-]+)*\Z")  # no leading, trailing or doubled dot
_DOMAIN = re.compile(
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"  # labels of the domain
    r"([^\W\d_]{2,24})"  # the top-level label: letters only
    r"(?![\w@-]|\.[^\W_]|:[\w/~])"  # not cut short, and not a git remote (git@host:repo)
)
_LOCAL_LONGEST = 64
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
    at = text.find("@")
    while at != -1:
        local = _LOCAL.search(text, max(0, at - _LOCAL_LONGEST), at)
        domain = _DOMAIN.match(text, at + 1)
        if local is not None and domain is not None and _address(text, local.start(), domain):
            yield finding("email", local.start(), domain.end(), "an e-mail address")
        at = text.find("@", at + 1)


def _address(text: str, start: int, domain: re.Match[str]) -> bool:
    """Not inside a longer address or a path, a URL's user part, or a file name."""
    before = text[start - 1] if start else " "
    if before.isalnum() or before in "_.%+/@-":
        return False
    return domain.group(1).lower() not in _FILE_SUFFIXES and not _in_url(text, start)


def _in_url(text: str, start: int) -> bool:
    """The address is a URL's user part (``https://user:password@host``), not an e-mail."""
    word_start = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1
    return "://" in text[word_start:start]


# A run that could be a phone number: digits grouped by single spaces, dashes, dots,
# slashes or brackets (never commas: 1.299,00 is a price), with a + or ( before it.
# Taken whole or not at all: a run glued to a letter or more digits is no phone number.
_RUN = re.compile(r"\d[\d().\-/ \u00a0]{5,}\d")  # 7 digits or more take 7 characters or more
_GLUED_AFTER = re.compile(r"[\w/-]|[.,:]\d")
_DIGIT = re.compile(r"\d")
_DIGIT_GROUP = re.compile(r"\d+")
_INTERNATIONAL = re.compile(r"^\(?(?:\+|00[1-9])")
_GROUPED = re.compile(r"\d[ \u00a0.\-/]\d|\(\d{2,5}\)|\d\(")
_NOT_A_PHONE = re.compile(
    r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{2,4}"  # a date: 12.03.2024, 2024-03-01
    r"|(?:1[89]|20)\d\d\s?[-/]\s?(?:1[89]|20)\d\d"  # a year range
    r"|\d{1,3}(?:[.\u00a0 ]\d{3}){2,}"  # thousands: 1.299.000, 12 500 000
    # a version or an address (10.2.3.4), unless dotted as phones are: 01.42.68.53.00
    # in France, 415.555.0132 in North America
    r"|(?!0\d(?:\.\d\d){4}$|\d{3}\.\d{3}\.\d{4}$)\d+(?:\.\d+){2,}"
    r"|\d{1,3}\.\d+"  # a decimal: 169.9353
    r")$"
)
# The words before a number that say what it is, compared as lower-case tokens (a
# search with a pattern of alternatives, at every position of the text before each
# candidate, cost more than the rest of the phone finder).
_TOKEN = re.compile(r"n[°º]|[^\W\d_]+\.?|#")
_PHONE_WORDS = frozenset(
    re.findall(
        r"\S+",
        "tel tel. tél tél. fax sms call cell dial phone phones telephone mobile mobil "
        "handy whatsapp hotline reach telefon telefonnummer rufnummer anrufen erreichbar "
        "téléphone portable appelez appeler joindre teléfono telefono móvil "
        "movil llame llama llámeme llámenos llamar celular cellulare telefoon bellen",
    )
)
_ORDER_WORDS = frozenset(
    re.findall(
        r"\S+",
        "order invoice ref ref. reference ticket case tracking sku serial account "
        "customer id no. nr nr. n° nº # isbn iban commande facture dossier client pedido "
        "factura referencia expediente cliente",
    )
)
_ORDER_STEMS = ("bestell", "rechnung", "kunden", "auftrag", "vorgang")
# The word for "number" that often follows: order number, ORDER_ID, n° de commande.
_NUMBER_WORDS = frozenset(
    re.findall(
        r"\S+",
        "number num no no. nr nr. n° nº nummer numéro número id de",
    )
)
_LAST_BREAK = re.compile(r"(?s).*[\d\n]")
_WORDS_BEFORE = 40  # characters before a candidate read for those words


def find_phones(text: str, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> Iterator[Finding]:
    """Each phone number in ``text``, national ones checked against ``regions``."""
    for start, raw in _candidates(text):
        found = _phone(text, start, raw, regions)
        if found is not None:
            yield found
            continue
        # "+49 30 1234567 / 030 1234567": two numbers, or one written "030 / 1234567".
        pieces = _LIST_SEPARATOR.split(raw) if "/" in raw else []
        for piece in pieces if len(pieces) > 1 else []:
            found = _phone(text, start + raw.index(piece), piece, regions)
            if found is not None:
                yield found


def _candidates(text: str) -> Iterator[tuple[int, str]]:
    """Each run of digits that could be a phone number, with the + or ( that opens it."""
    for run in _RUN.finditer(text):
        start, end = run.span()
        while start and text[start - 1] in "+(":
            start -= 1
        before = text[start - 1] if start else " "
        if before.isalnum() or before in "_+/.,:-" or _GLUED_AFTER.match(text, end):
            continue
        yield start, text[start:end]


_LIST_SEPARATOR = re.compile(r"\s+/\s+")


def _phone(text: str, start: int, raw: str, regions: Sequence[str]) -> Finding | None:
    """The phone number ``raw`` (at ``start`` in ``text``) is, or None.

    libphonenumber must read every digit of it as one valid number: a number it
    finds only inside the run (the tail of a longer id) does not count.
    """
    if not _could_be_a_phone(text, start, raw):
        return None
    international = bool(_INTERNATIONAL.match(raw))
    # A number after 00 is read as any country with that international prefix would.
    tried = (("DE" if raw.startswith("00") else None),) if international else regions
    valid: list[tuple[str | None, PhoneNumber]] = []
    for region in tried:
        if region is not None and not international and not _national_fit(raw, region):
            continue
        number = _valid_number(raw, region)
        if number is None:
            continue
        if international or _grouped_as(raw, number):
            return finding("phone", start, start + len(raw), _why(raw, number, region))
        valid.append((region, number))
    return _matched(start, raw, valid)


def _could_be_a_phone(text: str, start: int, raw: str) -> bool:
    """The cheap tests first: digit count, dates and prices, the words before, IBANs."""
    digits = len(_DIGIT.findall(raw))
    if not 7 <= digits <= 15 or _NOT_A_PHONE.match(raw):
        return False
    before = text[max(0, start - _WORDS_BEFORE) : start]
    if not _INTERNATIONAL.match(raw) and not _national_phone_shape(raw, before):
        return False
    return IBAN_HEAD.search(before) is None


def _matched(start: int, raw: str, valid: list[tuple[str | None, PhoneNumber]]) -> Finding | None:
    """A national number's grouping checked by the matcher, for the valid readings left.

    Written nationally, the digits must be grouped as the country groups them. The
    matcher knows every format a country uses (and costs twice a parse, so it only sees
    the valid readings none of whose usual formats matched): 71499-5451 is a valid
    Spanish number by its digits, but no Spaniard writes it so.
    """
    import phonenumbers

    digits = len(_DIGIT.findall(raw))
    for region, number in valid:
        leniency = phonenumbers.Leniency.EXACT_GROUPING
        for match in phonenumbers.PhoneNumberMatcher(raw, region, leniency):
            if len(_DIGIT.findall(match.raw_string)) == digits:
                begin = start + match.start
                why = _why(match.raw_string, number, region)
                return finding("phone", begin, begin + len(match.raw_string), why)
    return None


def _national_phone_shape(raw: str, before: str) -> bool:
    """A nationally written number: named as a phone, or grouped as one and not an id."""
    # Only what follows the last digit or line break before the number speaks for it.
    last = _LAST_BREAK.match(before)
    tail = before[last.end() if last else 0 :].lower()
    tokens = [(match.group(), match.end()) for match in _TOKEN.finditer(tail)]
    if any(word in _PHONE_WORDS for word, _ in tokens[-4:]):
        return True
    return bool(_GROUPED.search(raw)) and not _names_an_id(tail, tokens)


def _names_an_id(tail: str, tokens: list[tuple[str, int]]) -> bool:
    """The text just before the number names an order, invoice, customer number..."""
    if not tokens or len(tail) - tokens[-1][1] > 4:
        return False
    word = tokens[-1][0]
    if word in _NUMBER_WORDS and len(tokens) > 1:
        word = tokens[-2][0]
    return word in _ORDER_WORDS or word.startswith(_ORDER_STEMS)


def _national_fit(raw: str, region: str) -> bool:
    """Whether a nationally written number could belong to ``region``, before parsing it.

    Its trunk prefix must be there when the country dials one (030..., 01...: without
    this rule libphonenumber reads any five-and-four digit group, a ZIP+4 code, as a
    German number) and absent when it does not, and the digits after it must fit the
    country's general pattern. A cheap test that spares most parses.
    """
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return True
    digits = "".join(_DIGIT_GROUP.findall(raw))
    trunk = metadata.national_prefix or ""
    if trunk == "0":
        if not digits.startswith("0"):
            return False
        digits = digits[1:]
    elif digits.startswith("0"):
        return False
    elif trunk and digits.startswith(trunk) and len(digits) == 11:
        digits = digits[1:]  # 1-415-555-0132
    pattern = metadata.general_desc.national_number_pattern
    return pattern is None or _general_pattern(pattern).fullmatch(digits) is not None


@functools.cache
def _general_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _valid_number(raw: str, region: str | None) -> PhoneNumber | None:
    """The number libphonenumber reads ``raw`` as, if it is a valid one."""
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _grouped_as(raw: str, number: PhoneNumber) -> bool:
    """``raw`` groups its digits as the country's own national format does.

    The common case, told without the matcher (which costs twice a parse).
    """
    import phonenumbers

    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return _groups(raw) == _groups(national)


def _groups(written: str) -> list[int]:
    return [len(group) for group in _DIGIT_GROUP.findall(written)]


def _why(raw: str, number: PhoneNumber, region: str | None) -> str:
    import phonenumbers

    if region is not None and not raw.startswith(("+", "00", "(+")):
        return f"a valid phone number for {region}, written nationally"
    country = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return f"a valid phone number for {country}, in international format"
