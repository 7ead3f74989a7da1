"""The scanners' one entry point: every finding of the chosen kinds in a text. Pure.

Deterministic and offline: no model, no network, no clock. The same text and
kinds always give the same findings, sorted by position, without duplicates or
overlaps (``findings.settle`` says which finding wins an overlap).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from placet.domain.supervision import LINKS, PII, SECRETS
from placet.errors import ConfigError
from placet.supervisor.contacts import DEFAULT_PHONE_REGIONS, find_emails, find_phones
from placet.supervisor.findings import CATEGORIES, Finding, lower_case, settle
from placet.supervisor.links import find_internal_urls
from placet.supervisor.numbers import find_cards, find_ibans, find_national_ids
from placet.supervisor.secrets import find_secrets

DEFAULT_KINDS = (PII, SECRETS, LINKS)


def scan(
    text: str,
    kinds: Iterable[str] = DEFAULT_KINDS,
    *,
    phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
) -> list[Finding]:
    """Every finding of the given kinds (``pii``, ``secrets``, ``links``) in ``text``."""
    chosen = _checked(kinds)
    lowered = lower_case(text)  # once, for the finders' substring tests
    found: list[Finding] = []
    if SECRETS in chosen:
        found += find_secrets(text, lowered)
    if PII in chosen:
        found += find_ibans(text)
        found += find_cards(text)
        found += find_national_ids(text, lowered)
        found += find_emails(text)
        found += find_phones(text, phone_regions)
    if LINKS in chosen:
        found += find_internal_urls(text, lowered)
    return settle(found)


def _checked(kinds: Iterable[str]) -> frozenset[str]:
    if isinstance(kinds, str):
        kinds = (kinds,)  # scan(text, "pii"): one kind, not four letters
    chosen = frozenset(kinds)
    unknown = sorted(chosen - set(CATEGORIES))
    if unknown:
        raise ConfigError(
            f"unknown scan kind {', '.join(map(repr, unknown))}: "
            f"choose from {', '.join(CATEGORIES)}"
        )
    return chosen
