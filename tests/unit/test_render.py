"""How the terminal shows task input."""

from __future__ import annotations

from placet.cli.render import input_summary, input_value
from placet.domain.models import Task, TaskStatus


def task_with(values: dict[str, object]) -> Task:
    return Task(
        id="01J0000000000000000000000T",
        kind="send_email",
        input=values,
        requester="dev",
        status=TaskStatus.AWAITING_REVIEW,
        version=1,
        attempt=1,
        max_attempts=1,
        created_at=0.0,
        updated_at=0.0,
        head_hash="0" * 64,
        event_count=1,
    )


def test_text_is_shown_as_it_is_and_anything_else_as_json() -> None:
    assert input_value("Ada Lovelace") == "Ada Lovelace"
    assert input_value({"to": "ceo@example.com", "cc": None, "urgent": True}) == (
        '{"to":"ceo@example.com","cc":null,"urgent":true}'
    )
    assert input_value([1, 2.5]) == "[1,2.5]"


def test_a_summary_is_one_line_cut_to_its_width() -> None:
    task = task_with({"name": "Ada\nLovelace", "call": {"function": "send"}})
    assert input_summary(task, 200) == 'name=Ada Lovelace, call={"function":"send"}'
    assert input_summary(task, 10) == "name=Ada …"
