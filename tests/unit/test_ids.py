"""Ids: ULIDs made by Placet itself."""

from __future__ import annotations

import os
import re
import time
import types
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placet.domain.ids import CROCKFORD, _text, id_part, millis_of, new_id

ULID_TEXT = re.compile(f"^[{CROCKFORD}]{{26}}$")


def test_an_id_is_26_crockford_characters_starting_with_its_time() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert ULID_TEXT.match(made)
    assert before <= millis_of(made) <= after


def test_ids_sort_by_the_time_they_were_made_at() -> None:
    times = [1_500_000_000.001, 1_700_000_000.5, 1_700_000_000.501, 4_000_000_000.0]
    made = [new_id(at=t) for t in times]
    assert sorted(made) == made
    assert [millis_of(m) for m in made] == [int(t * 1000) for t in times]


def test_ids_made_at_one_given_time_differ_in_their_random_part() -> None:
    made = {new_id(at=1_700_000_000.0) for _ in range(2_000)}
    assert len(made) == 2_000
    assert {m[:10] for m in made} == {new_id(at=1_700_000_000.0)[:10]}
    assert len({m[10:] for m in made}) == 2_000


def test_the_random_part_uses_the_whole_alphabet() -> None:
    used = set("".join(new_id()[10:] for _ in range(500)))
    assert used == set(CROCKFORD)


def test_ids_made_in_one_millisecond_keep_the_order_they_were_made_in() -> None:
    made = [new_id() for _ in range(5_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def three_ids_from_a_child(make: Callable[[], str]) -> set[str]:
    """The ids a forked child makes first, each with ``make``."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the ids it makes right away
        os.write(writer, "".join(make() for _ in range(3)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(reader, 78).decode()
    os.close(reader)
    os.close(writer)
    return {child[i : i + 26] for i in range(0, 78, 26)}


def test_a_forked_child_does_not_repeat_its_parents_next_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stopped clock: parent and child make their ids in the same millisecond.
    stopped = types.SimpleNamespace(time_ns=lambda: 1_700_000_000_000_000_000)
    monkeypatch.setattr("placet.domain.ids.time", stopped)
    new_id()
    child_ids = three_ids_from_a_child(new_id)
    parent_ids = {new_id() for _ in range(3)}
    assert len(child_ids) == 3 and not child_ids & parent_ids


def test_a_forked_child_does_not_draw_on_its_parents_random_bytes() -> None:
    at = 1_700_000_000.0  # every id here has the same time: only randomness tells them apart
    new_id(at=at)  # the parent now holds a pool of random bytes for its next ids
    child_ids = three_ids_from_a_child(lambda: new_id(at=at))
    parent_ids = {new_id(at=at) for _ in range(3)}
    assert len(child_ids) == 3 and not child_ids & parent_ids


@given(st.integers(0, 2**48 - 1), st.integers(0, 2**80 - 1))
def test_an_id_is_its_128_bits_in_crockford_base32(millis: int, random_bits: int) -> None:
    value = (millis << 80) | random_bits  # 130 bits in 26 characters: the top two are zero
    expected = "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
    assert _text(millis, random_bits) == expected


@pytest.mark.parametrize(
    ("typed", "text", "start", "end"),
    [
        (" 01jd3v5q ", "01JD3V5Q", True, True),  # as typed: could be either
        ("01JD3V…", "01JD3V", True, False),  # the README's shortening: a start
        ("01jd3v...", "01JD3V", True, False),
        ("…7Q2K", "7Q2K", False, True),  # the dashboard's: an end
        ("...7q2k", "7Q2K", False, True),
        ("…3V5Q…", "3V5Q", True, True),  # marked on both sides: either
    ],
)
def test_what_part_of_an_id_a_person_typed(typed: str, text: str, start: bool, end: bool) -> None:
    part = id_part(typed)
    assert (part.text, part.may_be_start, part.may_be_end) == (text, start, end)
    assert part.may_be_whole == (start and end)
