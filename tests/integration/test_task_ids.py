"""Naming a task by part of its id: the start people type, the end the dashboard shows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from placet.engine import Engine
from placet.errors import AmbiguousIdError, NotFoundError, UsageError
from tests.conformance.conftest import new_task

IDS = [
    "01JD3V5Q8X4M7K2N9P0R1S2T3U",
    "01JD3V5Q8X4M7K2N9P0R1S2T4V",
    "01JD3W0000000000000000007Q",
    "01JE000000000000000000A7Q2",
]


def with_ids(engine: Engine, ids: list[str]) -> None:
    for task_id in ids:
        task, event = new_task(kind="onboarding_email")
        engine.store.create_task(replace(task, id=task_id), [replace(event, task_id=task_id)])


@pytest.fixture
def tasks(engine: Engine) -> Engine:
    with_ids(engine, IDS)
    return engine


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        (IDS[0].lower(), IDS[0]),  # whole, in any case
        (f"  {IDS[1]} ", IDS[1]),
        ("01jd3w", IDS[2]),  # a start only one id has
        ("01JD3V5Q8X4M7K2N9P0R1S2T3", IDS[0]),
        ("01JE…", IDS[3]),  # marked as a start
        ("a7q2", IDS[3]),  # no id starts with it: an end
        ("…T4V", IDS[1]),  # marked as an end, as the dashboard shows ids
        ("...0R1S2T3U", IDS[0]),
    ],
)
def test_a_task_is_named_by_its_id_or_a_part_only_it_has(
    tasks: Engine, typed: str, found: str
) -> None:
    assert tasks.resolve_task_id(typed) == found


def test_a_start_several_ids_share_names_them_and_asks_for_more(tasks: Engine) -> None:
    with pytest.raises(AmbiguousIdError) as raised:
        tasks.resolve_task_id("01jd3v")
    message = raised.value.message
    assert message.startswith("01JD3V is the start of more than one task id: ")
    assert f"{IDS[0]} (onboarding_email, queued); {IDS[1]} (onboarding_email, queued)" in message
    assert IDS[2] not in message and message.endswith("Give more of the id")
    assert isinstance(raised.value, UsageError)  # the CLI's exit 2, as for an unknown id


def test_an_end_several_ids_share_names_them(engine: Engine) -> None:
    with_ids(engine, ["01JK0000000000000000000A7Q", "01JM0000000000000000000B7Q"])
    with pytest.raises(AmbiguousIdError, match="^7Q is the end of more than one task id: "):
        engine.resolve_task_id("7q")


def test_many_candidates_are_cut_short(engine: Engine) -> None:
    with_ids(engine, [f"01JF{n:022d}" for n in range(9)])
    with pytest.raises(AmbiguousIdError) as raised:
        engine.resolve_task_id("01JF")
    assert raised.value.message.count("(onboarding_email, queued)") == 5
    assert "; and more. Give more of the id" in raised.value.message


def test_a_start_is_tried_before_an_end(engine: Engine) -> None:
    with_ids(engine, ["01JG00000000000000000000AB", "01JH0000000000000000001JG0"])
    assert engine.resolve_task_id("01JG0") == "01JG00000000000000000000AB"
    assert engine.resolve_task_id("…01JG0") == "01JH0000000000000000001JG0"


def test_a_whole_id_wins_over_longer_ids_that_start_with_it(engine: Engine) -> None:
    with_ids(engine, ["T1", "T10", "T11"])
    assert engine.resolve_task_id("t1") == "T1"
    with pytest.raises(AmbiguousIdError):
        engine.resolve_task_id("T1…")  # marked as a start: T1 is one of three


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "no task with id 01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("01nope", "no task with id 01NOPE, nor one whose id starts or ends with it"),
        ("02…", "no task with id 02, nor one whose id starts with it"),
        ("…ZZ", "no task with id ZZ, nor one whose id ends with it"),
        ("…", "no task with id '…'"),
    ],
)
def test_a_text_no_id_matches_is_not_found(tasks: Engine, typed: str, message: str) -> None:
    with pytest.raises(NotFoundError) as raised:
        tasks.resolve_task_id(typed)
    assert raised.value.message == message
