"""How the terminal shows task input."""

from __future__ import annotations

from placet.cli.render import input_summary
from placet.domain.jsontext import readable
from placet.domain.models import Task
from tests.unit.records import awaiting_task


def task_with(values: dict[str, object]) -> Task:
    return awaiting_task(kind="send_email", input=values)


def test_text_is_shown_as_it_is_and_anything_else_as_json() -> None:
    assert readable("Ada Lovelace") == "Ada Lovelace"
    assert readable({"to": "ceo@example.com", "cc": None, "urgent": True}) == (
        '{"to":"ceo@example.com","cc":null,"urgent":true}'
    )
    assert readable([1, 2.5]) == "[1,2.5]"


def test_a_summary_is_one_line_cut_to_its_width() -> None:
    task = task_with({"name": "Ada\nLovelace", "call": {"function": "send"}})
    assert input_summary(task, 200) == 'name=Ada Lovelace, call={"function":"send"}'
    assert input_summary(task, 10) == "name=Ada …"
