"""Typed kinds: a draft that is a JSON object, and choices. Pure.

A kind with ``choices = ["allow", "remove", "escalate"]`` is decided by picking:
its draft is the object ``{"choice": "remove", "reason": "..."}`` (``"choice"`` is a
list when ``multiple = true``), the model's proposal; the reviewer confirms it
(approve) or picks another (an edit of the object, so the diff is kept). A kind
with ``output_schema`` drafts any object that schema accepts.

The draft schema is what the provider is asked to constrain generation to, and
every object, the model's or a person's, is validated against it here, once,
for every channel: no path lets an invalid object through.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import jsonschema

from placet.domain.decisions import DecisionRequest
from placet.domain.fastinit import evolve
from placet.domain.limits import MAX_TEXT
from placet.domain.models import DecisionKind, JsonObject, TaskKind
from placet.errors import ConfigError, InvalidInputError

CHOICE = "choice"
REASON = "reason"
MAX_REASON = 500
MAX_CHOICES = 20
MAX_CHOICE_LENGTH = 40
# What a decision's event records of a typed kind's approved object.
STRUCTURED = "structured"
FIELDS = "fields"  # the values a kind's decision_fields asked the approver for


class InvalidObjectError(InvalidInputError):
    """The object does not fit the kind's schema."""


def is_typed(kind: TaskKind) -> bool:
    """True when the kind's drafts are JSON objects (choices, or an output schema)."""
    return bool(kind.choices) or kind.output_schema is not None


def draft_schema(kind: TaskKind) -> JsonObject | None:
    """The JSON Schema every draft of the kind must fit; None for a free-text kind."""
    if kind.choices:
        return choice_schema(kind.choices, kind.multiple)
    return dict(kind.output_schema) if kind.output_schema is not None else None


def choice_schema(choices: tuple[str, ...], multiple: bool) -> JsonObject:
    """The object a choice kind's draft is: the choice (or choices) and the reason."""
    one: JsonObject = {"type": "string", "enum": list(choices)}
    picked: JsonObject = (
        {"type": "array", "items": one, "minItems": 1, "uniqueItems": True} if multiple else one
    )
    return {
        "type": "object",
        "properties": {
            CHOICE: picked,
            REASON: {"type": "string", "maxLength": MAX_REASON},
        },
        "required": [CHOICE, REASON],
        "additionalProperties": False,
    }


def parse_choices(raw: Any, multiple: Any, where: str) -> tuple[tuple[str, ...], bool]:
    """``choices`` and ``multiple`` of a kind's table, checked; ConfigError says what is wrong."""
    if raw is None:
        if multiple is not None:
            raise ConfigError(f"{where}: multiple needs choices (choices = [...])")
        return (), False
    if (
        not isinstance(raw, list)
        or not 2 <= len(raw) <= MAX_CHOICES
        or not all(isinstance(c, str) and 0 < len(c.strip()) <= MAX_CHOICE_LENGTH for c in raw)
        or len({c.strip() for c in raw}) != len(raw)
    ):
        raise ConfigError(
            f"{where}: choices must be a list of 2 to {MAX_CHOICES} different names of at most "
            f'{MAX_CHOICE_LENGTH} characters (choices = ["allow", "remove", "escalate"])'
        )
    if multiple is not None and not isinstance(multiple, bool):
        raise ConfigError(f"{where}: multiple must be true or false")
    return tuple(c.strip() for c in raw), bool(multiple)


def check_schema(schema: Any, where: str, name: str = "output_schema") -> JsonObject:
    """A kind's schema (``name``: output_schema, input_schema, decision_fields), checked to be
    a JSON Schema for an object (ConfigError if not)."""
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        raise ConfigError(f'{where}: {name} must be a JSON Schema with "type": "object"')
    try:
        jsonschema.Draft202012Validator.check_schema(dict(schema))
    except jsonschema.exceptions.SchemaError as exc:
        raise ConfigError(f"{where}: {name} is not a valid JSON Schema: {exc.message}") from None
    return dict(schema)


@functools.lru_cache(maxsize=64)
def _validator(schema_text: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_text))


def schema_errors(value: Any, schema: JsonObject) -> list[str]:
    """What is wrong with a value against the schema, each naming where; empty if it fits."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    found = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"{_where(error.absolute_path)}: {error.message[:200]}" for error in found[:10]]


def _where(path: Any) -> str:
    return "/".join(str(part) for part in path) or "the object"


def read_object(text: str, schema: JsonObject) -> JsonObject:
    """The object in a text (a model's answer, a person's edit), validated against the
    schema; InvalidObjectError names what does not fit."""
    try:
        # strict=False: a grammar lets a raw newline into a string; it is whitespace anyway.
        value = json.loads(_unfenced(text), strict=False)
    except ValueError as exc:
        raise InvalidObjectError(f"not a JSON object ({exc})") from None
    return checked_object(value, schema)


def checked_object(value: Any, schema: JsonObject) -> JsonObject:
    """The value, when it is an object the schema accepts; else InvalidObjectError."""
    if not isinstance(value, dict):
        raise InvalidObjectError(f"not a JSON object but {type(value).__name__}")
    errors = schema_errors(value, schema)
    if errors:
        raise InvalidObjectError("; ".join(errors))
    return value


def _unfenced(text: str) -> str:
    """The text without a Markdown code fence around it (models add one unasked)."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```") and len(stripped) > 6:
        stripped = stripped[3:-3]
        first, _, rest = stripped.partition("\n")
        return rest if first.strip().isalpha() or not first.strip() else stripped
    return stripped


def object_text(value: JsonObject) -> str:
    """How an object is kept as a draft's or decision's text: one field per line, so the
    diff of an edit is shown field by field."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def instruction(kind: TaskKind) -> str:
    """What the model is told of the answer's shape (a grammar may also hold it to it)."""
    if kind.choices:
        listed = ", ".join(json.dumps(c) for c in kind.choices)
        picked = f"a list of one or more of {listed}" if kind.multiple else f"one of {listed}"
        return (
            f'Answer with a JSON object and nothing else: {{"{CHOICE}": {picked}, '
            f'"{REASON}": "why, in one sentence"}}.'
        )
    schema = json.dumps(kind.output_schema, ensure_ascii=False)
    return f"Answer with a JSON object that fits this JSON Schema, and nothing else: {schema}"


def with_instruction(kind: TaskKind, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The messages with the answer's shape added to the system turn (one made if none)."""
    note = instruction(kind)
    if messages and messages[0]["role"] == "system":
        first = messages[0]
        return [{"role": "system", "content": f"{first['content']}\n\n{note}"}, *messages[1:]]
    return [{"role": "system", "content": note}, *messages]


# -- deciding --------------------------------------------------------------------


def resolve(kind: TaskKind, draft_output: str, request: DecisionRequest) -> DecisionRequest:
    """The request a typed kind's decision really is, checked: a pick confirms the proposed
    choice (approve) or changes it (an edit of the object); an edit's object must fit the
    schema and is kept in one canonical form; the values of ``decision_fields`` are checked.
    A free-text kind's request is returned as is."""
    check_fields(kind, request)
    if request.choice is not None:
        return _picked(kind, draft_output, request)
    schema = draft_schema(kind)
    if schema is None or request.kind is not DecisionKind.EDIT:
        return request
    edited = object_text(read_object(request.text or "", schema))
    if len(edited) > MAX_TEXT:
        raise InvalidObjectError(f"the object is longer than {MAX_TEXT} characters as JSON")
    return evolve(request, text=edited)


def _picked(kind: TaskKind, draft_output: str, request: DecisionRequest) -> DecisionRequest:
    if not kind.choices:
        raise InvalidInputError(
            f"kind {kind.name} has no choices; decide it without a choice (approve, edit)"
        )
    if request.kind not in (DecisionKind.APPROVE, DecisionKind.EDIT):
        raise InvalidInputError(
            f"a choice goes with approve, not {request.kind.value}; revise or reject without one"
        )
    picked = check_choice(kind, request.choice or ())
    proposed = _proposed(kind, draft_output)
    same = proposed.get(CHOICE) == picked
    reason = (request.reason or "").strip() or (str(proposed.get(REASON, "")) if same else "")
    value = checked_object({CHOICE: picked, REASON: reason[:MAX_REASON]}, draft_schema_of(kind))
    if value == proposed:
        return evolve(request, kind=DecisionKind.APPROVE, text=None, reason=None)
    return evolve(request, kind=DecisionKind.EDIT, text=object_text(value), reason=None)


def draft_schema_of(kind: TaskKind) -> JsonObject:
    """The draft schema of a kind known to be typed."""
    schema = draft_schema(kind)
    assert schema is not None
    return schema


def check_choice(kind: TaskKind, picked: tuple[str, ...]) -> str | list[str]:
    """The choice as the draft holds it, or InvalidInputError naming the allowed ones."""
    listed = ", ".join(kind.choices)
    unknown = [c for c in picked if c not in kind.choices]
    if unknown:
        raise InvalidInputError(
            f"{', '.join(repr(c) for c in unknown)} is not a choice of kind {kind.name}; "
            f"pick one of: {listed}"
        )
    if not picked:
        raise InvalidInputError(f"no choice was picked; pick one of: {listed}")
    if len(set(picked)) != len(picked):
        raise InvalidInputError("a choice was picked twice; pick each at most once")
    if kind.multiple:
        return [c for c in kind.choices if c in picked]  # in the kind's order: one form
    if len(picked) > 1:
        raise InvalidInputError(f"kind {kind.name} takes one choice, not {len(picked)}")
    return picked[0]


def _proposed(kind: TaskKind, draft_output: str) -> JsonObject:
    """The draft's object, or an empty one when the draft is not one (a caller's draft)."""
    try:
        return read_object(draft_output, draft_schema_of(kind))
    except InvalidObjectError:
        return {}


def check_fields(kind: TaskKind, request: DecisionRequest) -> None:
    """Refuse decision fields a kind does not ask for, given with a verdict that is not an
    approval, or that do not fit the kind's ``decision_fields`` (naming each)."""
    approving = request.kind in (DecisionKind.APPROVE, DecisionKind.EDIT)
    if kind.decision_fields is None or not approving:
        if request.fields:
            raise InvalidInputError(
                f"kind {kind.name} asks for no fields when deciding; decide without them"
                if kind.decision_fields is None
                else f"fields go with an approval, not {request.kind.value}; leave them out"
            )
        return
    errors = schema_errors(request.fields or {}, kind.decision_fields)
    if errors:
        shown = "; ".join(error.replace("the object:", "the fields:", 1) for error in errors)
        raise InvalidInputError(f"approving a task of kind {kind.name} needs fields: {shown}")


def decided_payload(
    kind: TaskKind, approved_text: str, fields: JsonObject | None = None
) -> JsonObject:
    """What an approval's event records of a typed kind's object: that it is one, and the
    choice made, and the decision fields given; empty for a free-text kind without fields.
    An approval of text that is not an object of the kind's schema (a draft made before
    the kind had one) is refused: edit it into one."""
    schema = draft_schema(kind)
    if schema is None:
        return {FIELDS: fields} if fields is not None else {}
    try:
        value = read_object(approved_text, schema)
    except InvalidObjectError as exc:
        raise InvalidObjectError(
            f"the draft is not an object of kind {kind.name}'s schema ({exc.message}); "
            "edit it into one, or ask for a revision; nothing was changed"
        ) from None
    payload: JsonObject = {STRUCTURED: True}
    if kind.choices:
        payload[CHOICE] = value.get(CHOICE)
    if fields is not None:
        payload[FIELDS] = fields
    return payload


# -- typed inputs ---------------------------------------------------------------------


def check_input(kind: TaskKind, values: JsonObject) -> None:
    """Refuse input that does not fit the kind's ``input_schema``, naming each input."""
    if kind.input_schema is None:
        return
    errors = schema_errors(values, kind.input_schema)
    if errors:
        shown = "; ".join(error.replace("the object:", "the input:", 1) for error in errors)
        raise InvalidInputError(f"kind {kind.name}: input {shown}")


def inputs_from_text(kind: TaskKind, values: JsonObject, typed_as_text: set[str]) -> JsonObject:
    """The values with those typed as text (``--input NAME=VALUE``) read as the number or
    yes/no the kind's ``input_schema`` says each is; a value that cannot be read is left as
    text, for ``check_input`` to name."""
    return values_from_text(kind.input_schema, values, typed_as_text)


def values_from_text(
    schema: JsonObject | None, values: JsonObject, typed_as_text: set[str]
) -> JsonObject:
    """The values with those typed as text read as the number or yes/no the schema's
    properties say each is (an input, a decision field); what cannot be read stays text."""
    properties = (schema or {}).get("properties", {})
    read = dict(values)
    for name in typed_as_text & set(read):
        wanted = properties.get(name, {}).get("type") if isinstance(properties, dict) else None
        read[name] = _text_as(wanted, str(read[name]))
    return read


def _text_as(wanted: Any, text: str) -> Any:
    try:
        if wanted == "integer":
            return int(text)
        if wanted == "number":
            number = float(text)
            return int(number) if number.is_integer() and text.strip().isdigit() else number
    except ValueError:
        return text
    if wanted == "boolean" and text.strip().lower() in ("true", "false", "yes", "no"):
        return text.strip().lower() in ("true", "yes")
    return text
