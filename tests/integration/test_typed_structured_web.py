"""A structured draft on the dashboard and through the API: a form with a field by type,
read back by type and checked by the engine; labels, descriptions and values escaped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.testing import FakeTypedProvider
from tests.integration.web_helpers import WebWorld, web_world
from tests.xss_corpus import CORPUS, assert_inert

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "maxLength": 100, "title": "Vendor name"},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "paid": {"type": "boolean"},
        "lines": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string", "description": "Anything else"},
    },
    "required": ["vendor", "total", "currency", "paid"],
    "additionalProperties": False,
}
FIELDS = ["vendor", "total", "currency", "paid", "lines", "notes"]


def toml(schema: dict[str, Any]) -> str:
    return (
        '[kinds.invoice]\ntemplate = "Extract the invoice: {text}"\n'
        f"output_schema = {json.dumps(json.dumps(schema))}\n"
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    (tmp_path / "invoice.json").write_text(json.dumps(SCHEMA))
    config = '[kinds.invoice]\ntemplate = "Extract the invoice: {text}"\n'
    config += 'output_schema = "invoice.json"\n'
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)  # the schema's file is named relative to the working folder
        with web_world(tmp_path, toml=config, provider=FakeTypedProvider()) as found:
            found.add_user("rita", "reviewer")
            yield found


def drafted(world: WebWorld) -> Task:
    return world.awaiting_review(kind="invoice", values={"text": "ACME 12.50 EUR"})


def post_fields(world: WebWorld, task: Task, values: list[str]) -> Any:
    client, csrf = world.session_client("rita")
    data = {
        "csrf_token": csrf,
        "verdict": "edit",
        "draft_id": task.current_draft_id or "",
        "version": str(task.version),
        "field_name": FIELDS,
        "field_value": values,
    }
    return client.post(f"/tasks/{task.id}/decide", data=data, follow_redirects=False)


def test_the_form_has_a_field_by_type(world: WebWorld) -> None:
    task = drafted(world)
    client, _ = world.session_client("rita")
    html = client.get(f"/tasks/{task.id}").text
    found = assert_inert(html)
    assert "Vendor name" in found.by_id["object-form"]
    assert (
        'type="text" value="Draft 1: Extract the invoice: ACME 12.50 EUR" maxlength="100"' in html
    )
    assert 'name="field_value" type="number" step="any" value="0" min="0" required' in html
    assert '<option value="EUR" selected>EUR</option><option value="USD">USD</option>' in html
    assert '<option value="false" selected>no</option>' in html
    assert "Anything else" in found.by_id["object-form"]
    assert 'id="edit-text"' not in html  # the form replaces the raw text


def test_the_form_approves_the_object_it_makes_and_shows_the_changed_fields(
    world: WebWorld,
) -> None:
    task = drafted(world)
    answer = post_fields(world, task, ["ACME", "12.5", "USD", "true", "a\r\nb\r\n", ""])
    assert answer.status_code == 303, answer.text
    done = world.engine.get(task.id)
    assert done.status is TaskStatus.APPROVED
    assert json.loads(done.final_output or "") == {
        "vendor": "ACME",
        "total": 12.5,
        "currency": "USD",
        "paid": True,
        "lines": ["a", "b"],
        "notes": "",
    }
    assert world.engine.detail(task.id).decisions[-1].kind is DecisionKind.EDIT
    client, _ = world.session_client("rita")
    changes = assert_inert(client.get(f"/tasks/{task.id}").text).by_id["field-changes-1"]
    assert "currency" in changes and '"USD"' in changes and "vendor" in changes


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (["ACME", "lots", "EUR", "true", "", ""], "total: &#39;lots&#39; is not a number"),
        (["ACME", "-3", "EUR", "true", "", ""], "total: -3 is less than the minimum of 0"),
        (["ACME", "1", "GBP", "true", "", ""], "currency: &#39;GBP&#39; is not one of"),
    ],
)
def test_a_field_that_does_not_fit_is_refused_by_the_server_naming_it(
    world: WebWorld, values: list[str], says: str
) -> None:
    task = drafted(world)
    answer = post_fields(world, task, values)
    assert answer.status_code == 422 and says in answer.text
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    assert f'value="{values[0]}"' in answer.text  # what was typed is shown again


def test_the_api_takes_the_edited_object(world: WebWorld) -> None:
    task = drafted(world)
    api = world.client_as("rita")
    body = {"kind": "edit", "draft_id": task.current_draft_id, "version": task.version}
    bad = {"vendor": "ACME", "total": 1, "currency": "EUR"}
    refused = api.post(f"/api/v1/tasks/{task.id}/decisions", json={**body, "value": bad})
    assert refused.status_code == 422 and "'paid' is a required property" in refused.text
    good = {**bad, "paid": False}
    answer = api.post(f"/api/v1/tasks/{task.id}/decisions", json={**body, "value": good})
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.json()["final_output"]) == good


def test_schema_labels_and_model_values_from_the_xss_corpus_stay_text(tmp_path: Path) -> None:
    short = [payload for payload in CORPUS if len(payload.text) <= 100]
    properties = {
        f"f{n}": {"type": "string", "title": p.text, "description": p.text, "maxLength": 100}
        for n, p in enumerate(short)
    }
    schema = {"type": "object", "properties": properties}
    answer = json.dumps({f"f{n}": p.text for n, p in enumerate(short)})
    provider = FakeTypedProvider(answers=[answer])
    with web_world(tmp_path, toml=toml(schema), provider=provider) as world:
        world.add_user("rita", "reviewer")
        task = drafted(world)
        client, _ = world.session_client("rita")
        found = assert_inert(client.get(f"/tasks/{task.id}").text)
        for payload in short:
            assert payload.text.strip() in found.by_id["object-form"], payload.name
