"""A call without a signature (an agent's): its parameters read off the arguments, edits checked."""

from __future__ import annotations

import json

import pytest

from placet.domain.toolcalls import parameters_of, parse_edited_arguments
from placet.errors import InvalidInputError


def call_of(arguments: dict[str, object]) -> dict[str, object]:
    return {
        "function": "send_email",
        "arguments": arguments,
        "parameters": parameters_of(arguments),
    }


def test_each_argument_is_a_required_parameter_of_its_json_type() -> None:
    described = parameters_of({"to": "a@b.c", "n": 3, "x": 1.5, "ok": True, "tags": [], "m": {}})
    assert [(p["name"], p["type"], p["required"]) for p in described] == [
        ("to", "str", True),
        ("n", "float", True),
        ("x", "float", True),
        ("ok", "bool", True),
        ("tags", "list", True),
        ("m", "dict", True),
    ]
    assert parameters_of({"nothing": None})[0]["type"] == "any"


def test_an_edit_may_change_values_but_not_drop_add_or_retype_an_argument() -> None:
    call = call_of({"to": "a@b.c", "count": 2})
    edited = parse_edited_arguments(call, json.dumps({"to": "x@y.z", "count": 2.5}))
    assert edited == {"to": "x@y.z", "count": 2.5}
    with pytest.raises(InvalidInputError, match="'count' of send_email is required"):
        parse_edited_arguments(call, json.dumps({"to": "x@y.z"}))
    with pytest.raises(InvalidInputError, match="'cc' is not a parameter"):
        parse_edited_arguments(call, json.dumps({"to": "x", "count": 1, "cc": "y"}))
    with pytest.raises(InvalidInputError, match="'count' of send_email must be float, not bool"):
        parse_edited_arguments(call, json.dumps({"to": "x", "count": True}))
