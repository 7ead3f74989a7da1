"""No path lets an invalid object through: random edits against random schemas in the
engine, and random edits through the API and through the dashboard's form, each approved
exactly when the object fits the kind's schema (checked here by ``jsonschema`` itself).

The review folder and the CLI hand an edit to the same engine call (their own tests show
a bad one refused there: test_typed_folder.py, tests/e2e/test_cli_typed.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.typed import InvalidObjectError
from placet.engine import DecisionRequest, Engine
from placet.errors import InvalidInputError
from placet.testing import FakeTypedProvider, person, temp_store
from placet.web.pages.typed_form import object_from_schema
from tests.integration.web_helpers import WebWorld, web_world

EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-10, 10) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
NAMES = ["a", "b", "c", "d"]

# A property the fake provider's first draft fits (zero, false, "Draft N...", the first of
# a list), so every task reaches review, whatever the limits drawn around it.
PROPERTIES = st.one_of(
    st.fixed_dictionaries({"type": st.just("string")}, optional={"maxLength": st.just(500)}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number"])},
        optional={"minimum": st.integers(-5, 0), "maximum": st.integers(0, 5)},
    ),
    st.fixed_dictionaries({"type": st.just("boolean")}),
    st.builds(
        lambda options: {"type": "string", "enum": options},
        st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True),
    ),
    st.fixed_dictionaries(
        {"type": st.just("array"), "items": st.fixed_dictionaries({"type": st.just("integer")})}
    ),
)


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    properties = {name: draw(PROPERTIES) for name in names}
    required = draw(st.lists(st.sampled_from(names), unique=True))
    found: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if draw(st.booleans()):
        found["additionalProperties"] = False
    return found


def edits_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Near misses (the schema's names, random values; some left out, one extra) and any
    JSON at all."""
    fields = {name: JSON_VALUES for name in schema["properties"]}
    near = st.fixed_dictionaries({}, optional={**fields, "extra": JSON_VALUES})
    return near | JSON_VALUES


def fits(value: Any, schema: dict[str, Any]) -> bool:
    return isinstance(value, dict) and jsonschema.Draft202012Validator(schema).is_valid(value)


@given(data=st.data())
@EXAMPLES
def test_random_edits_against_random_schemas_pass_exactly_when_they_fit(
    tmp_path: Path, data: st.DataObject
) -> None:
    schema = data.draw(schemas(), "schema")
    value = data.draw(edits_for(schema), "edit")
    kind = TaskKind(name="typed", template="Fill in: {text}", output_schema=schema)
    store = temp_store(tmp_path / f"db-{abs(hash(json.dumps(schema, sort_keys=True)))}")
    provider = FakeTypedProvider()
    engine = Engine(store, Settings(kinds={"typed": kind}), provider_for=lambda _m: provider)
    try:
        task = engine.submit("typed", {"text": "x"}, "rita", claim_as="w")
        task = engine.draft(task, "w")
        assert task.status is TaskStatus.AWAITING_REVIEW
        request = DecisionRequest(task.id, DecisionKind.EDIT, person("ana"), text=json.dumps(value))
        try:
            engine.decide(request)
        except InvalidInputError:
            assert not fits(value, schema), f"a fitting edit was refused: {value!r}"
            assert engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
            return
        assert fits(value, schema), f"an edit that does not fit was approved: {value!r}"
        assert json.loads(engine.get(task.id).final_output or "") == value
    finally:
        engine.close(store_too=True)


INVOICE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "maxLength": 100},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "paid": {"type": "boolean"},
        "lines": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["vendor", "total", "currency", "paid"],
    "additionalProperties": False,
}
FIELDS = list(INVOICE["properties"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    config = (
        '[kinds.invoice]\ntemplate = "Extract the invoice: {text}"\n'
        f"output_schema = {json.dumps(json.dumps(INVOICE))}\n"
    )
    root = tmp_path_factory.mktemp("typed-channels")
    with web_world(root, toml=config, provider=FakeTypedProvider()) as found:
        found.add_user("rita", "reviewer")
        yield found


def awaiting(world: WebWorld) -> Any:
    return world.awaiting_review(kind="invoice", values={"text": "ACME 12.50 EUR"})


# Edits near the schema (most fit, many miss by one field), and any JSON at all.
INVOICE_EDITS = st.fixed_dictionaries(
    {
        "vendor": st.text(max_size=120),
        "total": st.integers(-2, 50) | st.floats(-2, 50, allow_nan=False) | st.text(max_size=3),
        "currency": st.sampled_from(["EUR", "USD", "GBP"]),
        "paid": st.booleans() | st.integers(0, 1),
    },
    optional={"lines": st.lists(st.text(max_size=5) | st.integers(), max_size=2)},
) | edits_for(INVOICE)


@given(value=INVOICE_EDITS)
@EXAMPLES
def test_the_api_approves_an_edited_object_exactly_when_it_fits(
    world: WebWorld, value: Any
) -> None:
    task = awaiting(world)
    body = {
        "kind": "edit",
        "value": value,
        "draft_id": task.current_draft_id,
        "version": task.version,
    }
    answer = world.client_as("rita").post(f"/api/v1/tasks/{task.id}/decisions", json=body)
    status = world.engine.get(task.id).status
    if fits(value, INVOICE):
        assert answer.status_code == 200, answer.text
        assert json.loads(world.engine.get(task.id).final_output or "") == value
    else:
        assert answer.status_code == 422, answer.text
        assert status is TaskStatus.AWAITING_REVIEW


# What a person might type in each field (vendor, total, currency, paid, lines).
FORM_TEXTS = st.tuples(
    st.text(max_size=120),
    st.sampled_from(["12.5", "0", "7", "-1", "1e3", "abc", "", " 3 "]),
    st.sampled_from(["EUR", "USD", "GBP", ""]),
    st.sampled_from(["true", "false", "yes", ""]),
    st.sampled_from(["", "a\nb", "one", "1\n\n2"]),
)


@given(texts=FORM_TEXTS.map(list))
@EXAMPLES
def test_the_form_approves_exactly_the_objects_that_fit(world: WebWorld, texts: list[str]) -> None:
    task = awaiting(world)
    try:
        expected: Any = object_from_schema(INVOICE, "invoice", FIELDS, texts)
    except InvalidObjectError:
        expected = None  # a field that cannot be read as its type: refused before the engine
    client, csrf = world.session_client("rita")
    data = {
        "csrf_token": csrf,
        "verdict": "edit",
        "draft_id": task.current_draft_id or "",
        "version": str(task.version),
        "field_name": FIELDS,
        "field_value": texts,
    }
    answer = client.post(f"/tasks/{task.id}/decide", data=data, follow_redirects=False)
    if expected is not None and fits(expected, INVOICE):
        assert answer.status_code == 303, answer.text[:500]
        assert json.loads(world.engine.get(task.id).final_output or "") == expected
    else:
        assert answer.status_code == 422, answer.text[:500]
        assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
