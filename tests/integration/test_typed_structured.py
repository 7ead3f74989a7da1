"""Structured drafts: a kind with an output_schema drafts a JSON object, through the
engine's one decision path, on SQLite and PostgreSQL.

The model is asked with the schema and its answer validated always (retried, then the
task fails with the validation errors); an edit must fit the schema from any channel,
so no path lets an invalid object through (a property test of random edits).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placet.config import Settings, parse_kind
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.outcomes import outcome_of
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import ConfigError, InvalidInputError
from placet.store.sql import SqlStore
from placet.testing import FakeTypedProvider, person

INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "maxLength": 100, "title": "Vendor"},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "paid": {"type": "boolean"},
        "lines": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string", "description": "Anything else"},
    },
    "required": ["vendor", "total", "currency", "paid"],
    "additionalProperties": False,
}
INVOICE = TaskKind(
    name="invoice", template="Extract the invoice: {text}", output_schema=INVOICE_SCHEMA
)


@pytest.fixture
def provider() -> FakeTypedProvider:
    return FakeTypedProvider()


@pytest.fixture
def engine(url: str, provider: FakeTypedProvider) -> Iterator[Engine]:
    settings = Settings(database_url=url, kinds={"invoice": INVOICE})
    made = Engine(SqlStore(url), settings, provider_for=lambda _model: provider)
    yield made
    made.store.close()


def drafted(engine: Engine) -> str:
    task = engine.submit("invoice", {"text": "ACME, 12.50 EUR, paid"}, "rita", claim_as="w")
    return engine.draft(task, "w").id


def edit(engine: Engine, task_id: str, value: object) -> TaskStatus:
    text = json.dumps(value)
    return engine.decide(
        DecisionRequest(task_id, DecisionKind.EDIT, person("ana"), text=text)
    ).status


def test_the_draft_is_an_object_the_schema_accepts(
    engine: Engine, provider: FakeTypedProvider
) -> None:
    task_id = drafted(engine)
    asked = provider.requests[-1]
    assert asked.json_schema == INVOICE_SCHEMA
    assert "JSON Schema" in asked.messages[0]["content"]
    draft = engine.detail(task_id).current_draft
    assert draft is not None
    jsonschema.validate(json.loads(draft.output), INVOICE_SCHEMA)
    assert draft.output.startswith('{\n  "vendor"')  # one field per line: diffs by field


def test_an_edited_object_is_approved_and_the_caller_gets_the_object(engine: Engine) -> None:
    task_id = drafted(engine)
    value = {"vendor": "ACME", "total": 12.5, "currency": "EUR", "paid": True}
    assert edit(engine, task_id, value) is TaskStatus.APPROVED
    detail = engine.detail(task_id)
    assert json.loads(detail.task.final_output or "") == value
    assert '+  "vendor": "ACME"' in (detail.decisions[-1].diff or "")
    outcome = outcome_of(detail.task, detail.decisions, detail.events)
    assert outcome.value == value and outcome.choice is None
    assert verify_store(engine).ok


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"vendor": "ACME", "total": -1, "currency": "EUR", "paid": True}, "total"),
        ({"vendor": "ACME", "total": 1, "currency": "GBP", "paid": True}, "currency"),
        ({"total": 1, "currency": "EUR", "paid": True}, "'vendor' is a required property"),
        ({"vendor": "A", "total": 1, "currency": "EUR", "paid": "yes"}, "paid"),
        (["not", "an", "object"], "not a JSON object"),
    ],
)
def test_an_edit_that_does_not_fit_the_schema_is_refused_naming_the_field(
    engine: Engine, value: object, says: str
) -> None:
    task_id = drafted(engine)
    version = engine.get(task_id).version
    with pytest.raises(InvalidInputError, match=says):
        edit(engine, task_id, value)
    assert engine.get(task_id).version == version


def test_the_same_object_written_another_way_is_not_an_edit(engine: Engine) -> None:
    task_id = drafted(engine)
    draft = engine.detail(task_id).current_draft
    assert draft is not None
    compact = json.dumps(json.loads(draft.output), separators=(",", ":"))
    with pytest.raises(InvalidInputError, match="same as the draft"):
        engine.decide(DecisionRequest(task_id, DecisionKind.EDIT, person("ana"), text=compact))


def test_a_model_that_never_fits_the_schema_fails_the_task_with_the_errors(
    engine: Engine, provider: FakeTypedProvider
) -> None:
    provider.answers = ['{"vendor": "x", "total": "lots"}'] * 3
    task = engine.submit("invoice", {"text": "?"}, "rita", claim_as="w")
    with pytest.raises(InvalidInputError):
        engine.draft(task, "w")
    assert engine.get(task.id).status is TaskStatus.FAILED
    error = engine.detail(task.id).events[-1].payload["error"]
    assert "after 3 tries" in error and "total" in error


def test_a_fenced_answer_is_read_as_the_object_inside(
    engine: Engine, provider: FakeTypedProvider
) -> None:
    value = {"vendor": "ACME", "total": 3, "currency": "USD", "paid": False}
    provider.answers = ["```json\n" + json.dumps(value) + "\n```"]
    task_id = drafted(engine)
    draft = engine.detail(task_id).current_draft
    assert draft is not None and json.loads(draft.output) == value


# -- placet.toml --------------------------------------------------------------------------


def test_an_output_schema_inline_or_in_a_file(tmp_path: Path, monkeypatch: Any) -> None:
    inline = parse_kind("invoice", {"template": "{text}", "output_schema": INVOICE_SCHEMA}, "t")
    assert inline is not None and inline.output_schema == INVOICE_SCHEMA
    (tmp_path / "invoice.json").write_text(json.dumps(INVOICE_SCHEMA))
    monkeypatch.chdir(tmp_path)
    from_file = parse_kind("invoice", {"template": "{text}", "output_schema": "invoice.json"}, "t")
    assert from_file is not None and from_file.output_schema == INVOICE_SCHEMA


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"output_schema": {"type": "string"}}, '"type": "object"'),
        ({"output_schema": {"type": "object", "properties": 3}}, "not a valid JSON Schema"),
        ({"output_schema": "missing.json"}, "could not be read"),
        ({"choices": ["only"]}, "choices must be a list of 2"),
        ({"choices": ["a", "a"]}, "different names"),
        ({"multiple": True}, "multiple needs choices"),
        ({"choices": ["a", "b"], "output_schema": INVOICE_SCHEMA}, "not both"),
    ],
)
def test_a_bad_typed_setting_says_what_is_wrong(table: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_kind("k", {"template": "{text}", **table}, "placet.toml [kinds.k]")


# -- no path lets an invalid object through ------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-10, 10) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
FIELD_VALUES = {
    "vendor": st.text(max_size=120),
    "total": st.integers(-3, 3) | st.floats(-3, 3, allow_nan=False) | st.text(max_size=3),
    "currency": st.sampled_from(["EUR", "USD", "GBP", ""]),
    "paid": st.booleans() | st.integers(0, 1),
    "lines": st.lists(st.text(max_size=5) | st.integers(), max_size=3),
    "notes": st.text(max_size=10) | st.none(),
}
NEAR_MISSES = st.fixed_dictionaries({}, optional=FIELD_VALUES)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["sqlite"], indirect=True)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=NEAR_MISSES | JSON_VALUES)
def test_random_edits_are_approved_only_when_they_fit_the_schema(
    engine: Engine, value: object
) -> None:
    task_id = drafted(engine)
    try:
        edit(engine, task_id, value)
    except InvalidInputError:
        assert engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
        return
    approved = json.loads(engine.get(task_id).final_output or "")
    jsonschema.validate(approved, INVOICE_SCHEMA)
    assert approved == value
