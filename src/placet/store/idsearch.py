"""Finding tasks by part of their id: the start people type, the end the dashboard shows.

A start is an index range, ``prefix <= id < the next prefix``, so a lookup
reads only the ids that match, on SQLite and PostgreSQL alike. The range is
added only for a prefix of digits and capital letters (every id Placet makes):
for other characters a database collation other than ``C`` may order strings
in ways a range cannot follow. Whether an id matches is then decided by
comparing its first (or last) characters with the text, not by ``LIKE``: that
is case-insensitive on SQLite and would need ``%`` and ``_`` escaped; an
equality is exact on both databases, whatever the text holds.

An end cannot use the index: it reads the id index once (well under a second
for a million tasks), which a person typing a command does not notice.
"""

from __future__ import annotations

import string

import sqlalchemy as sa

from placet.store.statements import T

# The order ids sort in, digits before capitals, the same under C and linguistic collations.
_RANGE_CHARACTERS = string.digits + string.ascii_uppercase


def ids_starting_with(prefix: str, limit: int) -> sa.Select[tuple[str]]:
    """The ids that start with ``prefix``, in id order, at most ``limit``."""
    query = sa.select(T.c.id).where(sa.func.substr(T.c.id, 1, len(prefix)) == prefix)
    if prefix and all(char in _RANGE_CHARACTERS for char in prefix):
        query = query.where(T.c.id >= prefix)
        above = next_prefix(prefix)
        if above is not None:
            query = query.where(T.c.id < above)
    return query.order_by(T.c.id).limit(limit)


def ids_ending_with(suffix: str, limit: int) -> sa.Select[tuple[str]]:
    """The ids that end with ``suffix``, in id order, at most ``limit``."""
    start = sa.func.length(T.c.id) - len(suffix) + 1
    query = sa.select(T.c.id).where(sa.func.length(T.c.id) >= len(suffix))
    query = query.where(sa.func.substr(T.c.id, start) == suffix)
    return query.order_by(T.c.id).limit(limit)


def next_prefix(prefix: str) -> str | None:
    """The smallest string of digits and capitals above every id starting with ``prefix``.

    ``01JZ`` gives ``01K``; a prefix of only ``Z`` has none (None: no upper bound).
    """
    kept = prefix.rstrip(_RANGE_CHARACTERS[-1])
    if not kept:
        return None
    last = _RANGE_CHARACTERS.index(kept[-1])
    return kept[:-1] + _RANGE_CHARACTERS[last + 1]
