"""Guarded function calls as review items: describing a call, checking edits.

A call waiting for approval is a task whose input holds ``call``: the function's
name, its parameters (name, type, whether required, and the JSON Schema of its
type hint when the SDK could make one: a Pydantic model, ``list[int]``, a
``Literal``) and the arguments as the reviewer sees them. An edit is the
arguments as JSON; it must fit the signature, which is checked here so that
every channel (CLI, dashboard, review folder, API) refuses a bad edit the same
way, naming the argument and the field.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from placet.domain.models import JsonObject
from placet.domain.typed import schema_errors
from placet.errors import InvalidInputError

REDACTED = "***"
_SIMPLE_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}
# A JSON value's type as a parameter's; bool before int, as bool is an int in Python.
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),
    (str, "str"),
    (int, "float"),
    (float, "float"),
    (list, "list"),
    (dict, "dict"),
)


def describe_parameters(
    signature: inspect.Signature, schemas: dict[str, JsonObject] | None = None
) -> list[JsonObject]:
    """The parameters of a function, as plain data a reviewer and a checker can read
    (with the JSON Schema of each type hint in ``schemas``)."""
    described = []
    for parameter in signature.parameters.values():
        annotation = parameter.annotation
        type_name = (
            annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        )
        described.append(
            {
                "name": parameter.name,
                "type": type_name if type_name in _SIMPLE_TYPES else "any",
                "required": parameter.default is inspect.Parameter.empty
                and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD),
                "variadic": parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD),
            }
        )
        if schemas and parameter.name in schemas:
            described[-1]["schema"] = schemas[parameter.name]
    return described


def parameters_of(arguments: JsonObject) -> list[JsonObject]:
    """Parameters read off the arguments of a call that has no signature here (an agent's).

    Each is required and keeps its JSON type, so an edit may change values but
    neither drop an argument nor change its type; any number is a ``float``.
    """
    return [
        {"name": name, "type": _json_type(value), "required": True, "variadic": False}
        for name, value in arguments.items()
    ]


def _json_type(value: Any) -> str:
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "any")


def parse_edited_arguments(call: JsonObject, text: str) -> JsonObject:
    """The arguments a reviewer's edit gives, checked against the parameters."""
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"the edited arguments are not valid JSON: {exc}") from exc
    if not isinstance(arguments, dict):
        raise InvalidInputError("the edited arguments must be a JSON object of name: value")
    parameters = {p["name"]: p for p in call.get("parameters", [])}
    function = call.get("function", "the function")
    for name in arguments:
        if name not in parameters:
            known = ", ".join(parameters) or "none"
            raise InvalidInputError(
                f"argument {name!r} is not a parameter of {function} (parameters: {known})"
            )
    for name, parameter in parameters.items():
        _check_argument(function, parameter, name, arguments)
    return arguments


def _check_argument(function: str, parameter: JsonObject, name: str, arguments: JsonObject) -> None:
    if name not in arguments:
        if parameter.get("required"):
            raise InvalidInputError(f"argument {name!r} of {function} is required")
        return
    expected = _SIMPLE_TYPES.get(str(parameter.get("type")))
    value = arguments[name]
    if value == REDACTED:
        return
    if expected is not None:
        if isinstance(value, bool) and bool not in expected:
            expected = ()  # bool is an int in Python, but not in a reviewer's eyes
        if not isinstance(value, expected):
            raise InvalidInputError(
                f"argument {name!r} of {function} must be {parameter['type']}, "
                f"not {type(value).__name__}"
            )
    schema = parameter.get("schema")  # the type hint's, field by field
    if isinstance(schema, dict) and (errors := schema_errors(value, schema)):
        raise InvalidInputError(f"argument {name!r} of {function}: " + "; ".join(errors[:3]))


def shown_arguments(arguments: JsonObject, redact: frozenset[str]) -> JsonObject:
    """The arguments as a reviewer sees them: secrets replaced by ``***``."""
    return {name: REDACTED if name in redact else value for name, value in arguments.items()}


def restore_redacted(edited: JsonObject, real: JsonObject, redact: frozenset[str]) -> JsonObject:
    """Put the real secret values back where the reviewer left ``***``."""
    restored: dict[str, Any] = dict(edited)
    for name in redact:
        if restored.get(name) == REDACTED and name in real:
            restored[name] = real[name]
    return restored
