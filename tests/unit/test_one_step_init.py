"""Records made by the one-step __init__ behave as the dataclass's own would make them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from placet.domain.fastinit import one_step_init
from placet.domain.models import Event, Task, TaskStatus


def plain_and_fast() -> tuple[type, type]:
    """The same frozen record twice: with the dataclass's __init__, and with the one-step one."""

    def declare() -> type:
        @dataclass(frozen=True)
        class Sample:
            name: str
            count: int = 3
            tags: list[str] = field(default_factory=list)
            note: str | None = field(default=None, init=False, compare=False)
            made: dict[str, int] = field(default_factory=dict, init=False)

        return Sample

    return declare(), one_step_init(declare())


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("a",), {}), (("a", 5), {}), (("a",), {"tags": ["x"]}), ((), {"name": "b", "count": 0})],
)
def test_the_same_arguments_make_the_same_record(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    plain, fast = plain_and_fast()
    expected, made = plain(*args, **kwargs), fast(*args, **kwargs)
    assert dataclasses.asdict(made) == dataclasses.asdict(expected)
    assert repr(made).split("(", 1)[1] == repr(expected).split("(", 1)[1]


def test_a_factory_default_is_fresh_for_each_record() -> None:
    _, fast = plain_and_fast()
    first, second = fast("a"), fast("b")
    assert first.tags == [] and first.tags is not second.tags
    assert first.made == {} and first.made is not second.made


def test_wrong_arguments_fail_as_they_would_without_it() -> None:
    plain, fast = plain_and_fast()
    for record in (plain, fast):
        with pytest.raises(TypeError):
            record()
        with pytest.raises(TypeError):
            record("a", nope=1)
        with pytest.raises(TypeError):
            record("a", note="not an init argument")


def test_the_record_stays_frozen_and_replace_still_works() -> None:
    _, fast = plain_and_fast()
    made = fast("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "b"
    assert dataclasses.replace(made, count=9) == fast("a", 9)


def test_only_frozen_dataclasses_without_post_init_are_taken() -> None:
    @dataclass
    class Mutable:
        name: str

    @dataclass(frozen=True)
    class Checked:
        name: str

        def __post_init__(self) -> None:
            raise ValueError

    for cls in (Mutable, Checked):
        with pytest.raises(TypeError):
            one_step_init(cls)


def test_the_hot_records_use_it() -> None:
    task = Task("T", "k", {}, "r", TaskStatus.QUEUED, 1, 0, 3, 1.0, 1.0, "0" * 64, 0)
    assert task.idempotency_key is None and task.pending_feedback is None
    assert Event("T", 1, "submitted", "r", 1.0).payload == {}
    assert Task.__init__.__qualname__ == "Task.__init__"
    assert "_set_all" in Task.__init__.__code__.co_names
