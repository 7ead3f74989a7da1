"""Typed LangGraph interrupts: an interrupt with a response schema is a typed kind.

``PlacetInterrupts(client, kind="moderation", response=["allow", "remove"])`` makes the
review kind a choice kind; ``response=`` a JSON Schema of an object, or a Pydantic model,
makes it a structured kind. The node proposes the answer (``proposal=``): a reviewer
confirms it or picks / edits another through the same forms and checks as every typed
kind (``placet.domain.typed``), and the graph resumes with the approved object (a model
instance when the response is a Pydantic model) and, for choices, the choice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from placet.domain import typed
from placet.domain.models import JsonObject, TaskKind
from placet.errors import UsageError


def typed_review_kind(kind: TaskKind, response: Any) -> tuple[TaskKind, Any]:
    """The review kind for a ``response`` (choices, a JSON Schema, a Pydantic model), and the
    model the approved object is made into (None but for a model)."""
    if response is None:
        return kind, None
    where = f"the LangGraph review kind {kind.name}"
    if isinstance(response, Sequence) and not isinstance(response, str | bytes):
        choices, multiple = typed.parse_choices(list(response), None, where)
        return replace(kind, choices=choices, multiple=multiple), None
    if isinstance(response, dict):
        return replace(kind, output_schema=typed.check_schema(response, where, "response")), None
    schema_of = getattr(response, "model_json_schema", None)
    if callable(schema_of):
        schema = typed.check_schema(schema_of(), where, "response")
        return replace(kind, output_schema=schema), response
    raise UsageError(
        "response must be a list of choices, a JSON Schema of an object, or a Pydantic model"
    )


def proposal_text(kind: TaskKind, proposal: Any) -> str:
    """The proposed answer as a typed draft's text, checked against the kind's schema."""
    if proposal is None:
        raise UsageError(
            f"kind {kind.name} has a response schema: give the proposed answer, "
            'interrupt(payload, proposal={"choice": "remove", "reason": "..."})'
        )
    dump = getattr(proposal, "model_dump", None)
    value = dump(mode="json") if callable(dump) else proposal
    text = json.dumps(value, ensure_ascii=False)
    return typed.object_text(typed.read_object(text, typed.draft_schema_of(kind)))


def approved_value(final_output: str) -> JsonObject:
    """The approved object of a typed review, as the graph receives it on the wire."""
    value = json.loads(final_output)
    assert isinstance(value, dict), "a typed kind's approved output is an object"
    return value


def as_model(model: Any, value: Any) -> Any:
    """The approved object as an instance of the response's model (as is without one)."""
    if model is None or not isinstance(value, dict):
        return value
    return model.model_validate(value)
