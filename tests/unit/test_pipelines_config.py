"""Pipelines in placet.toml: what ``then`` and ``then_input`` accept, what the check finds
before anything runs, and how the next step's input is made from the approved output."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.config import check_settings, load_settings
from placet.domain import pipelines
from placet.domain.models import Event
from placet.errors import ConfigError, InvalidInputError

GOOD = """\
[kinds.extract]
template = "Extract the refund from: {email}"
then = "refund"

[kinds.extract.output_schema]
type = "object"
required = ["amount", "who"]
properties.amount.type = "number"
properties.who.type = "string"

[kinds.extract.then_input]
amount = "{output.amount}"
note = "Refund {output.who}: {output.amount} ({input.email})"

[kinds.refund]
template = "Refund note: {note}"

[kinds.refund.input_schema]
type = "object"
required = ["amount", "note"]
properties.amount.type = "number"
properties.note.type = "string"

[kinds.moderate]
template = "Moderate: {post}"
choices = ["allow", "remove", "escalate"]
then = { remove = "notify_user" }
then_input = { why = "{output.reason}" }

[kinds.notify_user]
template = "Tell the author why: {why}"
"""


def problems_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "placet.toml").write_text(text)
    return check_settings(tmp_path)[1]


def test_a_good_pipeline_loads(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(GOOD)
    kinds = load_settings(tmp_path).kinds
    assert check_settings(tmp_path)[1] == []
    assert kinds["extract"].then == (("", "refund"),)
    assert kinds["moderate"].then == (("remove", "notify_user"),)
    assert pipelines.next_kind(kinds["moderate"], "remove") == "notify_user"
    assert pipelines.next_kind(kinds["moderate"], "allow") is None


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (('then = "refund"', 'then = "refnud"'), "names kind 'refnud', which is not defined"),
        (
            ('amount = "{output.amount}"', 'amount = "{output.total}"'),
            "the output of 'extract' has no field 'total' (it has amount, who)",
        ),
        (('note = "Refund', 'memo = "Refund'), "does not give note, which kind 'refund' needs"),
        (("{input.email}", "{input.mail}"), "kind 'extract' has no input 'mail'"),
        (("{input.email}", "{draft}"), "uses {draft}; a value may use {output}"),
        (("remove = ", "delete = "), "then names choice 'delete', which is not one of"),
        (('why = "{output.reason}"', 'why = "{fields.amount}"'), "asks for no decision field"),
    ],
)
def test_each_mistake_is_named_before_anything_runs(
    tmp_path: Path, change: tuple[str, str], said: str
) -> None:
    found = problems_of(tmp_path, GOOD.replace(*change))
    assert any(said in problem for problem in found), found


def test_a_cycle_is_named_with_its_kinds(tmp_path: Path) -> None:
    text = GOOD + '\n[kinds.refund.then_input]\nemail = "{output}"\n'
    text = text.replace(
        'template = "Refund note: {note}"', 'template = "Refund note: {note}"\nthen = "extract"'
    )
    found = problems_of(tmp_path, text)
    assert [p for p in found if "cycle" in p] == [
        f"{tmp_path / 'placet.toml'} [kinds.extract] "
        "then makes a cycle: extract -> refund -> extract"
    ]
    assert not any("cycle" in p for p in problems_of(tmp_path, GOOD))


def test_a_free_text_kind_has_no_output_fields_and_then_input_needs_then(tmp_path: Path) -> None:
    text = GOOD.replace('why = "{output.reason}"', 'why = "{output.reason}"') + (
        '\n[kinds.plain]\ntemplate = "Say {x}"\nthen = "notify_user"\n'
        'then_input = { why = "{output.x}" }\n'
    )
    assert any("needs a structured output" in p for p in problems_of(tmp_path, text))
    with pytest.raises(ConfigError, match="then_input needs then"):
        pipelines.parse_then_input({"a": "{output}"}, False, "here")
    with pytest.raises(ConfigError, match="needs a kind with choices"):
        pipelines.parse_then({"a": "b"}, (), False, "here")


def test_the_next_input_keeps_a_lone_placeholders_type_and_fills_text() -> None:
    templates = (("amount", "{output.amount}"), ("note", "{output.who} gets {output.amount}"))
    made = pipelines.next_input(templates, "{...}", {"amount": 12.5, "who": "Ada"}, None, {})
    assert made == {"amount": 12.5, "note": "Ada gets 12.5"}
    text = pipelines.next_input((("text", "{output}"),), "Bonjour", None, None, {})
    assert text == {"text": "Bonjour"}
    with pytest.raises(InvalidInputError, match="no fields.ticket"):
        pipelines.next_input((("t", "{fields.ticket}"),), "", None, {}, {})


def test_a_link_to_an_approval_that_is_not_there_is_a_problem() -> None:
    approval = Event("p", 3, "approve", "rita", 0.0, hash="abc")
    revised = Event("p", 3, "revise", "rita", 0.0, hash="abc")
    assert pipelines.link_problem(("p", 3, "abc"), [approval]) is None
    assert "does not match" in (pipelines.link_problem(("p", 3, "xyz"), [approval]) or "")
    assert "does not match" in (pipelines.link_problem(("p", 3, "abc"), [revised]) or "")
    assert "has no event 4" in (pipelines.link_problem(("p", 4, "abc"), [approval]) or "")
