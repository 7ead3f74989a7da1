import pytest

from placet.domain.models import TaskKind
from placet.domain.prompts import build_messages, render_template, template_inputs
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
