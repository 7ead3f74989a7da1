"""What a guarded function's type hints say of its arguments, through Pydantic.

Each parameter with a type hint (``int``, ``list[str]``, ``Literal[...]``, a
``TypedDict``, a Pydantic model) gets the JSON Schema Pydantic makes of it, kept
with the call so that the engine checks a reviewer's edit field by field
(``placet.domain.toolcalls``), from every channel, before anything runs. A model
instance passed to the function is stored as its JSON (``model_dump``), and the
arguments the call finally runs with are validated back into the hinted types,
so the function receives an ``Order`` where it asked for one, with the edit in it.
A hint Pydantic cannot describe is left unchecked, as before: type hints are a
help here, never a reason to refuse a call.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter
from pydantic.errors import PydanticUserError
from pydantic_core import PydanticSerializationError

from placet.domain.models import JsonObject

Adapters = dict[str, TypeAdapter[Any]]
_SKIPPED = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def adapters_of(function: Callable[..., Any]) -> Adapters:
    """A Pydantic adapter for each parameter whose type hint it can describe."""
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):  # a hint naming what is not importable here
        return {}
    found: Adapters = {}
    for parameter in inspect.signature(function).parameters.values():
        hint = hints.get(parameter.name)
        if hint is None or hint is Any or parameter.kind in _SKIPPED:
            continue
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(hint)
            adapter.json_schema()
        except (PydanticUserError, TypeError, ValueError):
            continue
        found[parameter.name] = adapter
    return found


def schemas_of(adapters: Adapters) -> dict[str, JsonObject]:
    """Each described parameter's JSON Schema."""
    return {name: adapter.json_schema() for name, adapter in adapters.items()}


def as_json(arguments: JsonObject, adapters: Adapters) -> JsonObject:
    """The arguments as JSON: model instances (and other typed values) dumped; a value
    Pydantic cannot dump is left as it is, for the caller's own check to name."""
    return {name: _dumped(value, adapters.get(name)) for name, value in arguments.items()}


def _dumped(value: Any, adapter: TypeAdapter[Any] | None) -> Any:
    if adapter is None:
        return value
    try:
        return adapter.dump_python(value, mode="json", warnings=False)
    except PydanticSerializationError:
        return value


def as_typed(arguments: JsonObject, adapters: Adapters) -> dict[str, Any]:
    """The arguments as the function's hints type them (a dict back into its model)."""
    return {
        name: adapters[name].validate_python(value) if name in adapters else value
        for name, value in arguments.items()
    }
