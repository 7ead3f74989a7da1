"""What the task page shows of a typed kind: the choices to pick from, one key each, with
the model's proposal marked; for a kind with an output schema, a form with a field for
each property (by its type; one of a list as a select), its values read back by type.
Labels, descriptions and values come from schemas and model output: the template
escapes them."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from typing import Any

from placet.domain import typed
from placet.domain.models import Draft, JsonObject, TaskKind
from placet.domain.typed import InvalidObjectError

MAX_CHOICE_KEYS = 9  # keys 1-9; a kind's further choices are picked with the mouse


def choice_context(kind: TaskKind | None, draft: Draft | None) -> dict[str, Any]:
    """The choices of the task's kind and the draft's proposal (none for a free-text kind)."""
    if kind is None or not kind.choices or draft is None:
        return {"choices": (), "proposed": (), "proposed_reason": None, "multiple": False}
    try:
        value = typed.read_object(draft.output, typed.draft_schema_of(kind))
    except InvalidObjectError:
        value = {}
    picked = value.get(typed.CHOICE, ())
    proposed = (picked,) if isinstance(picked, str) else tuple(picked)
    return {
        "choices": [
            (choice, str(n) if n <= MAX_CHOICE_KEYS else "")
            for n, choice in enumerate(kind.choices, 1)
        ],
        "proposed": proposed,
        "proposed_reason": value.get(typed.REASON),
        "multiple": kind.multiple,
    }


# -- structured drafts: a form from the kind's schema ------------------------------------

LONG_TEXT_OVER = 200  # a string field allowed more characters than this is a text area
LIST_SEPARATOR = "\n"  # a list of texts or numbers is typed one item per line


@dataclass(frozen=True)
class FormField:
    """One field of an object's form, drawn from its property in the schema."""

    name: str
    label: str
    description: str
    widget: str  # text, textarea, number, integer, boolean, select, list, json
    value: str
    required: bool
    options: tuple[str, ...] = ()
    limits: tuple[tuple[str, str], ...] = ()  # HTML attributes that check it as it is typed


def object_form(
    kind: TaskKind | None, text: str | None, posted: tuple[tuple[str, str], ...] = ()
) -> list[FormField]:
    """The fields of a structured kind's draft (none for other kinds, or a draft that is
    not an object of the kind's schema: then the text is edited as it is); ``posted``, the
    values a refused form sent, are shown again instead of the draft's."""
    if kind is None or kind.output_schema is None or text is None:
        return []
    try:
        value = typed.read_object(text, typed.draft_schema_of(kind))
    except InvalidObjectError:
        return []
    return schema_form(kind.output_schema, value, posted)


def asked_form(kind: TaskKind | None, posted: tuple[tuple[str, str], ...] = ()) -> list[FormField]:
    """The fields a kind's ``decision_fields`` ask the approver for (none without them)."""
    if kind is None or kind.decision_fields is None:
        return []
    return schema_form(kind.decision_fields, {}, posted)


def schema_form(
    schema: JsonObject, value: JsonObject, posted: tuple[tuple[str, str], ...] = ()
) -> list[FormField]:
    """A field for each of the schema's properties, showing the value's (or what was posted)."""
    required = set(schema.get("required", ()))
    properties = schema.get("properties", {})
    fields = [
        _field(name, sub if isinstance(sub, dict) else {}, value.get(name), name in required)
        for name, sub in properties.items()
    ]
    typed_again = dict(posted)
    return [
        dataclasses.replace(f, value=typed_again[f.name]) if f.name in typed_again else f
        for f in fields
    ]


def _field(name: str, schema: dict[str, Any], value: Any, required: bool) -> FormField:
    widget = _widget(schema)
    options = tuple(str(o) for o in schema.get("enum", ())) if widget == "select" else ()
    return FormField(
        name=name,
        label=str(schema.get("title") or name.replace("_", " ")),
        description=str(schema.get("description", "")),
        widget=widget,
        value=_shown_value(widget, value),
        required=required,
        options=options,
        limits=_limits(schema),
    )


def _widget(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(schema.get("enum"), list) and all(isinstance(o, str) for o in schema["enum"]):
        return "select"
    if kind == "string":
        long = schema.get("maxLength", LONG_TEXT_OVER + 1) > LONG_TEXT_OVER
        return "textarea" if long else "text"
    if kind in ("number", "integer", "boolean"):
        return str(kind)
    items = schema.get("items")
    if kind == "array" and isinstance(items, dict) and items.get("type") in SCALARS:
        return "list"
    return "json"


SCALARS = ("string", "number", "integer")


def _limits(schema: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs = {"minimum": "min", "maximum": "max", "maxLength": "maxlength", "minLength": "minlength"}
    return tuple(
        (attribute, str(schema[key]))
        for key, attribute in pairs.items()
        if isinstance(schema.get(key), int | float) and not isinstance(schema.get(key), bool)
    )


def _shown_value(widget: str, value: Any) -> str:
    if value is None:
        return ""
    if widget == "boolean":
        return "true" if value else "false"
    if widget == "list" and isinstance(value, list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    if widget == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def object_from_form(kind: TaskKind, names: list[str], values: list[str]) -> JsonObject:
    """The object a form posted, each field read by its type in the schema; a value that
    cannot be read raises InvalidObjectError naming the field. Whether the object fits the
    schema is the engine's to check (domain/typed.py), as for every channel."""
    return object_from_schema(typed.draft_schema_of(kind), kind.name, names, values)


def object_from_schema(
    schema: JsonObject, kind_name: str, names: list[str], values: list[str]
) -> JsonObject:
    """The object a form's fields make, each read by its type in the schema (see above)."""
    properties = schema.get("properties", {})
    kind = kind_name
    if len(names) != len(values):
        raise InvalidObjectError("the form's fields do not pair up; reload the page")
    found: JsonObject = {}
    for name, raw in zip(names, values, strict=True):
        sub = properties.get(name)
        if not isinstance(sub, dict):
            raise InvalidObjectError(f"{name}: not a field of kind {kind}")
        read = _read(_widget(sub), sub, raw.replace("\r\n", "\n"), name)
        if read is not _EMPTY:
            found[name] = read
    return found


_EMPTY = object()  # an optional field left empty: left out of the object


def _read(widget: str, schema: dict[str, Any], raw: str, name: str) -> Any:
    if widget in ("text", "textarea", "select"):
        return raw
    if not raw.strip():
        return _EMPTY
    try:
        if widget == "integer":
            return int(raw.strip())
        if widget == "number":
            return _number(raw.strip())
        if widget == "boolean":
            return {"true": True, "false": False}[raw.strip()]
        if widget == "list":
            item_type = schema["items"]["type"]
            lines = [line.strip() for line in raw.split(LIST_SEPARATOR) if line.strip()]
            item_widget = "text" if item_type == "string" else str(item_type)
            return [_read(item_widget, {}, line, name) for line in lines]
        return json.loads(raw)
    except (ValueError, KeyError) as exc:
        raise InvalidObjectError(f"{name}: {raw[:40]!r} is not a {widget} ({exc})") from None


def _number(raw: str) -> int | float:
    value = float(raw)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() else value


def field_changes(before: str, after: str) -> list[tuple[str, str, str]]:
    """Each top-level field an edit of an object changed: its name, before and after (as
    JSON); empty when either text is not an object."""
    try:
        old, new = json.loads(before), json.loads(after)
    except ValueError:
        return []
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    names = list(old) + [name for name in new if name not in old]
    shown = functools.partial(json.dumps, ensure_ascii=False)
    return [
        (name, shown(old[name]) if name in old else "—", shown(new[name]) if name in new else "—")
        for name in names
        if old.get(name, _EMPTY) != new.get(name, _EMPTY)
    ]
