"""Time-ordered ids, so new rows land at the end of every primary-key index."""

from __future__ import annotations

from ulid import ULID


def new_id() -> str:
    """A new ULID as 26 Crockford base32 characters."""
    return str(ULID())
