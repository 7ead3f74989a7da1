"""Placet's JSON encodings give exactly what the standard library gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placet.domain.jsontext import canonical, compact, readable

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_is_sorted_compact_json(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(value) == expected


@given(JSON_VALUES)
def test_compact_keeps_key_order(value: Any) -> None:
    assert compact(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_non_ascii_text_is_kept_as_itself() -> None:
    assert compact({"name": "Zoë \u2028"}) == '{"name":"Zoë \u2028"}'


def test_a_value_that_is_not_json_is_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        compact({"a": {1, 2}})


def test_a_cyclic_value_is_refused() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(RecursionError):
        canonical(cyclic)


def test_readable_keeps_text_and_shows_anything_else_as_json() -> None:
    assert readable("Grüße, Ada") == "Grüße, Ada"
    assert readable({"to": "Åsa", "n": 1}) == '{"to":"Åsa","n":1}'
    assert readable(["a"], indent=2) == '[\n  "a"\n]'
