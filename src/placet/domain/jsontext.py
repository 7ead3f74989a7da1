"""Placet's two JSON encodings: canonical (hashed) and compact (stored).

``json.dumps`` builds a new encoder on every call, which costs more than the
encoding of the small documents the lifecycle writes (four audit events, a
draft, a task per item). The encoders here are built once. Both keep
``ensure_ascii=False`` so non-ASCII text is stored and hashed as itself.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

from placet.errors import InvalidInputError

_SEPARATORS = (",", ":")


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encoder(*, sort_keys: bool) -> Callable[[Any], str]:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (another Python): the library's own encoder
        return json.JSONEncoder(
            sort_keys=sort_keys, separators=_SEPARATORS, ensure_ascii=False
        ).encode
    # markers=None: no cycle bookkeeping; a cyclic value fails with RecursionError.
    encode = make(
        None,
        _refuse,
        json.encoder.encode_basestring,
        None,
        *_SEPARATORS[::-1],
        sort_keys,
        False,
        True,
    )
    return lambda value: "".join(encode(value, 0))


canonical: Callable[[Any], str] = _encoder(sort_keys=True)
"""Sorted keys, no spaces: equal data gives equal text, so it hashes equally."""

compact: Callable[[Any], str] = _encoder(sort_keys=False)
"""No spaces, keys in their given order: how documents are stored."""


def readable(value: Any, indent: int | None = None) -> str:
    """A value as a person reads it: text as it is, anything else as JSON (indented if asked)."""
    if isinstance(value, str):
        return value
    if indent is None:
        return compact(value)
    return json.dumps(value, ensure_ascii=False, indent=indent)


def require_json(value: Any, what: str) -> str:
    """The compact JSON of ``value``; refused, naming ``what``, when it cannot be stored.

    Checked when a value comes in (a task's input, a guarded call's arguments),
    so that bad data fails at call time, not at review time.
    """
    try:
        return compact(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(f"{what} cannot be stored for review: {exc}") from None
