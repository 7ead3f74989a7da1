import dataclasses

import pytest

from placet.domain.models import Example, TaskKind
from placet.domain.prompts import (
    build_messages,
    render_template,
    template_inputs,
    template_problem,
    unused_inputs,
)
from placet.errors import InvalidInputError

KIND = TaskKind(name="email", template="Welcome {name} to {product}.", system="Be kind.")


def test_template_inputs_in_order_without_duplicates() -> None:
    assert template_inputs("{a} {b} {a} {{literal}}") == ["a", "b"]


def test_render_fills_values_and_keeps_literal_braces() -> None:
    assert render_template("{{x}} {name}!", {"name": "Rahul"}) == "{x} Rahul!"


def test_values_are_not_interpreted_as_templates() -> None:
    assert render_template("{name}", {"name": "{other} {{x}}"}) == "{other} {{x}}"


def test_missing_inputs_are_named() -> None:
    with pytest.raises(InvalidInputError, match="missing input: name, product"):
        render_template(KIND.template, {})


def test_first_draft_messages() -> None:
    messages = build_messages(KIND, {"name": "Rahul", "product": "Placet"})
    assert messages == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Welcome Rahul to Placet."},
    ]


def test_revision_carries_previous_draft_and_feedback() -> None:
    messages = build_messages(
        KIND, {"name": "Rahul", "product": "Placet"}, "Hi Rahul.", "Mention the free trial."
    )
    assert messages[2] == {"role": "assistant", "content": "Hi Rahul."}
    assert messages[3]["role"] == "user"
    assert "Mention the free trial." in messages[3]["content"]


@pytest.mark.parametrize(
    "template", ["Hi {name}", "{{literal}} {name}", "{{{name}}}", "No inputs at all.", ""]
)
def test_well_formed_templates_have_no_problem(template: str) -> None:
    assert template_problem(template) is None


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("Hi {name", "the '{' at character 4 is never closed ('{name')"),
        ("Hi {name}\nand {other", "the '{' on line 2, character 5 is never closed"),
        ("{a {name}", "the '{' at character 1 is never closed ('{a ')"),
        ("Hi name}", "a '}' at character 8 closes nothing (write }} for a literal brace)"),
        ("{name}}", "a '}' at character 7 closes nothing"),
        ("{first name}", "'{first name}' at character 1 is not an input"),
        ("{0}", "'{0}' at character 1 is not an input"),
        ('JSON: {"a": 1}', "write {{ and }} for literal braces"),
    ],
)
def test_a_stray_brace_is_named_with_where_it_is(template: str, said: str) -> None:
    problem = template_problem(template)
    assert problem is not None and said in problem, problem


def test_unused_inputs_are_those_the_template_never_names() -> None:
    assert unused_inputs(KIND.template, {"name": "A", "product": "P"}) == []
    assert unused_inputs(KIND.template, {"name": "A", "tone": "warm", "nmae": "x"}) == [
        "tone",
        "nmae",
    ]
    assert unused_inputs("Hi {name", {"name": "A"}) == ["name"]  # the brace hid the input


EXAMPLE = Example(input={"name": "Maya", "product": "Docs"}, output="Hi Maya, welcome to Docs.")
TAUGHT = TaskKind(name="email", template="Welcome {name} to {product}.", examples=(EXAMPLE,))


def test_examples_come_first_as_the_request_they_answer_and_the_answer() -> None:
    messages = build_messages(TAUGHT, {"name": "Rahul", "product": "Placet"})
    assert messages == [
        {"role": "user", "content": "Welcome Maya to Docs."},
        {"role": "assistant", "content": "Hi Maya, welcome to Docs."},
        {"role": "user", "content": "Welcome Rahul to Placet."},
    ]


def test_examples_follow_the_system_prompt() -> None:
    kind = dataclasses.replace(TAUGHT, system="Be kind.")
    roles = [m["role"] for m in build_messages(kind, {"name": "R", "product": "P"})]
    assert roles == ["system", "user", "assistant", "user"]


def test_a_revision_from_the_draft_keeps_the_examples_before_the_draft() -> None:
    messages = build_messages(TAUGHT, {"name": "Rahul", "product": "P"}, "Hi.", "Shorter.")
    assert [m["content"] for m in messages[:3]] == [
        "Welcome Maya to Docs.",
        "Hi Maya, welcome to Docs.",
        "Welcome Rahul to P.",
    ]
    assert messages[3] == {"role": "assistant", "content": "Hi."}
    assert "Reviewer feedback: Shorter." in messages[4]["content"]


def test_a_revision_from_the_request_asks_again_with_the_feedback_as_a_requirement() -> None:
    kind = dataclasses.replace(TAUGHT, revise_from="request")
    first = build_messages(kind, {"name": "Rahul", "product": "P"})
    messages = build_messages(
        kind, {"name": "Rahul", "product": "P"}, "An earlier draft.", "Mention the free trial."
    )
    assert messages[:-1] == first[:-1]  # the same examples, and no earlier draft
    assert all("An earlier draft." not in m["content"] for m in messages)
    assert messages[-1]["role"] == "user"
    assert messages[-1]["content"].startswith("Welcome Rahul to P.")
    assert "Mention the free trial." in messages[-1]["content"]


def test_a_revision_from_the_request_without_feedback_is_the_request() -> None:
    kind = dataclasses.replace(TAUGHT, revise_from="request")
    messages = build_messages(kind, {"name": "R", "product": "P"}, "Earlier.", "  ")
    assert messages == build_messages(kind, {"name": "R", "product": "P"})


def test_a_kinds_opening_is_the_start_of_the_answer_with_the_inputs_filled_in() -> None:
    kind = dataclasses.replace(KIND, opening="Subject: Welcome to {product}, {name}")
    messages = build_messages(kind, {"name": "Rahul", "product": "Placet"})
    assert messages[-2] == {"role": "user", "content": "Welcome Rahul to Placet."}
    assert messages[-1] == {"role": "assistant", "content": "Subject: Welcome to Placet, Rahul"}
    revised = build_messages(kind, {"name": "Rahul", "product": "Placet"}, "Hi.", "Shorter.")
    assert revised[-1] == messages[-1]  # a revision starts the same way, unless asked


def test_an_opening_the_reviewer_quotes_starts_the_revision_instead() -> None:
    kind = dataclasses.replace(KIND, opening="Subject: Welcome, {name}")
    values = {"name": "Rahul", "product": "Placet"}
    for revise_from in ("draft", "request"):
        asked = dataclasses.replace(kind, revise_from=revise_from)
        messages = build_messages(asked, values, "Hi.", "Start with 'Dear Rahul,' please.")
        assert messages[-1] == {"role": "assistant", "content": "Dear Rahul,"}
        assert messages[-2]["role"] == "user"
    # Without a kind's opening too; and not when the reviewer asked for the opposite.
    plain = build_messages(KIND, values, "Hi.", "Begin with 'Dear Rahul,'.")
    assert plain[-1] == {"role": "assistant", "content": "Dear Rahul,"}
    unasked = build_messages(KIND, values, "Hi.", "Don't start with 'Dear'.")
    assert unasked[-1]["role"] == "user"
    # A first draft reads no feedback.
    assert build_messages(KIND, values)[-1]["role"] == "user"


def test_a_typed_kind_is_never_given_an_opening() -> None:
    typed = dataclasses.replace(KIND, choices=("yes", "no"))
    values = {"name": "Rahul", "product": "Placet"}
    messages = build_messages(typed, values, '{"choice": "no"}', "Start with 'Yes,'.")
    assert messages[-1]["role"] == "user"
