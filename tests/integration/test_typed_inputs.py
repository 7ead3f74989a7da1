"""Typed inputs: a kind's input_schema checks every submission, from every door, naming
the input that does not fit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from placet.config import Settings
from placet.domain import typed
from placet.domain.models import TaskKind, TaskStatus
from placet.engine import Engine
from placet.errors import InvalidInputError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider
from tests.integration.web_helpers import WebWorld, web_world

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "customer": {"type": "string", "minLength": 1},
        "amount": {"type": "number", "minimum": 0, "maximum": 500},
        "urgent": {"type": "boolean"},
    },
    "required": ["customer", "amount"],
}
REFUND = TaskKind(
    name="refund",
    template="Decide the refund of {amount} for {customer}.",
    input_schema=INPUT_SCHEMA,
)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    provider = FakeProvider()
    made = Engine(
        SqlStore(url),
        Settings(database_url=url, kinds={"refund": REFUND}),
        provider_for=lambda _m: provider,
    )
    yield made
    made.store.close()


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"customer": "Ada", "amount": "lots"}, "input amount: 'lots' is not of type 'number'"),
        ({"customer": "Ada", "amount": 900}, "amount: 900 is greater than the maximum of 500"),
        ({"customer": "Ada", "amount": 5, "urgent": "yes"}, "urgent: 'yes' is not of type"),
    ],
)
def test_an_input_that_does_not_fit_is_refused_naming_it(
    engine: Engine, values: dict[str, Any], says: str
) -> None:
    with pytest.raises(InvalidInputError, match=says):
        engine.submit("refund", values, "rita")
    assert engine.count_by_status() == {}


def test_an_input_that_fits_is_queued(engine: Engine) -> None:
    task = engine.submit("refund", {"customer": "Ada", "amount": 12.5, "urgent": True}, "rita")
    assert task.status is TaskStatus.QUEUED and task.input["amount"] == 12.5


def test_text_inputs_are_read_as_the_schema_types_them() -> None:
    values = {"customer": "Ada", "amount": "12.5", "urgent": "yes"}
    read = typed.inputs_from_text(REFUND, values, {"amount", "urgent", "customer"})
    assert read == {"customer": "Ada", "amount": 12.5, "urgent": True}
    assert typed.inputs_from_text(REFUND, {"amount": "lots"}, {"amount"}) == {"amount": "lots"}


def test_the_api_answers_422_naming_the_input(tmp_path: Path) -> None:
    config = (
        '[kinds.refund]\ntemplate = "Refund {amount} for {customer}."\n'
        f"input_schema = {json.dumps(json.dumps(INPUT_SCHEMA))}\n"
    )
    world: WebWorld
    with web_world(tmp_path, toml=config) as world:
        world.add_user("alice", "requester")
        api = world.client_as("alice")
        bad = {"kind": "refund", "input": {"customer": "Ada", "amount": -1}}
        answer = api.post("/api/v1/tasks", json=bad)
        assert answer.status_code == 422
        assert "amount: -1 is less than the minimum of 0" in answer.text
        good = {"kind": "refund", "input": {"customer": "Ada", "amount": 1}}
        assert api.post("/api/v1/tasks", json=good).status_code in (200, 201)


def refund_world(tmp_path: Path) -> Any:
    config = (
        '[kinds.refund]\ntemplate = "Refund {amount} for {customer}."\n'
        f"input_schema = {json.dumps(json.dumps(INPUT_SCHEMA))}\n"
    )
    return web_world(tmp_path, toml=config)


def post_submit(world: WebWorld, values: list[str]) -> Any:
    client, csrf = world.session_client("alice")
    data = {
        "csrf_token": csrf,
        "kind": "refund",
        "idempotency": "form-1",
        "input_name": ["customer", "amount", "urgent"],
        "input_value": values,
    }
    return client.post("/submit", data=data, follow_redirects=False)


def test_the_submit_page_draws_a_field_by_type_and_reads_each_back_by_type(
    tmp_path: Path,
) -> None:
    world: WebWorld
    with refund_world(tmp_path) as world:
        world.add_user("alice", "requester")
        client, _ = world.session_client("alice")
        form = client.get("/submit").text
        assert 'name="input_value" type="number"' in form and 'min="0"' in form
        assert '<option value="true"' in form  # urgent: yes / no
        answer = post_submit(world, ["Ada", "12.5", "true"])
        assert answer.status_code == 303, answer.text
        (task,) = world.engine.iter_tasks()
        assert task.input == {"customer": "Ada", "amount": 12.5, "urgent": True}


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (["Ada", "lots", ""], "amount: &#39;lots&#39; is not a number"),
        (["Ada", "900", ""], "amount: 900 is greater than the maximum of 500"),
    ],
)
def test_the_submit_page_refuses_an_input_that_does_not_fit_naming_it(
    tmp_path: Path, values: list[str], says: str
) -> None:
    world: WebWorld
    with refund_world(tmp_path) as world:
        world.add_user("alice", "requester")
        answer = post_submit(world, values)
        assert answer.status_code == 422 and says in answer.text
        assert f'value="{values[1]}"' in answer.text  # what was typed is shown again
        assert list(world.engine.iter_tasks()) == []
