"""A typed kind in the review folder: the file holds the object, editable in place; a
changed choice is an edit the engine checks, an invalid one is quarantined with why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.engine import Engine
from placet.testing import FakeTypedProvider, temp_store
from tests.integration.test_folder_channel import (
    Env,
    eventually,
    move,
    no_threads_left,
    pending_file,
    quarantined,
    read_json,
)

__all__ = ["no_threads_left"]  # the autouse fixture, for this module too

MODERATE = TaskKind(
    name="note", template="Moderate this post: {topic}", choices=("allow", "remove", "escalate")
)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Env]:
    store = temp_store(tmp_path / "db")
    settings = Settings(kinds={"note": MODERATE}, review_dir=tmp_path / "human_feedback")
    provider = FakeTypedProvider()
    engine = Engine(store, settings, provider_for=lambda _name: provider)
    env = Env(engine, store, settings.review_dir)
    with env.channel():
        yield env
    store.close()


def test_the_file_holds_the_object_and_its_choices(running: Env) -> None:
    task = running.drafted()
    document = read_json(pending_file(running, task))
    assert document["draft"] == {"choice": "allow", "reason": document["draft"]["reason"]}
    assert document["choices"] == ["allow", "remove", "escalate"]
    assert 'change "choice"' in document["how_to_decide"][0]


def test_moved_unchanged_approves_the_proposed_choice(running: Env) -> None:
    task = running.drafted()
    move(pending_file(running, task), "approved")
    done = running.wait_status(task.id, TaskStatus.APPROVED)
    assert json.loads(done.final_output or "")["choice"] == "allow"
    assert running.engine.detail(task.id).decisions[-1].kind is DecisionKind.APPROVE


def test_a_choice_changed_in_place_is_an_edit(running: Env) -> None:
    task = running.drafted()
    edit = {"draft": {"choice": "escalate", "reason": "a threat"}}
    move(pending_file(running, task), "approved", edit)
    done = running.wait_status(task.id, TaskStatus.APPROVED)
    assert json.loads(done.final_output or "") == {"choice": "escalate", "reason": "a threat"}
    assert running.engine.detail(task.id).decisions[-1].kind is DecisionKind.EDIT


def test_a_choice_the_kind_lacks_is_quarantined_saying_why(running: Env) -> None:
    task = running.drafted()
    edit = {"draft": {"choice": "shadow_ban", "reason": "x"}}
    move(pending_file(running, task), "approved", edit)
    _, error = quarantined(running, f"{task.id}.json")
    assert "'shadow_ban' is not one of" in error
    eventually(lambda: running.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW, "wait")


REFUND = TaskKind(
    name="note",
    template="Reply about the refund: {topic}",
    decision_fields={
        "type": "object",
        "properties": {"amount": {"type": "number", "maximum": 500}},
        "required": ["amount"],
    },
)


@pytest.fixture
def refunds(tmp_path: Path) -> Iterator[Env]:
    store = temp_store(tmp_path / "db")
    settings = Settings(kinds={"note": REFUND}, review_dir=tmp_path / "human_feedback")
    provider = FakeTypedProvider()
    engine = Engine(store, settings, provider_for=lambda _name: provider)
    env = Env(engine, store, settings.review_dir)
    with env.channel():
        yield env
    store.close()


def test_decision_fields_are_filled_in_the_file(refunds: Env) -> None:
    task = refunds.drafted()
    path = pending_file(refunds, task)
    assert read_json(path)["decision_fields"] == {"amount": None}
    move(path, "approved", {"decision_fields": {"amount": 40}})
    refunds.wait_status(task.id, TaskStatus.APPROVED)
    assert refunds.engine.detail(task.id).events[-1].payload["fields"] == {"amount": 40}


def test_a_file_without_the_fields_asked_for_is_quarantined_saying_so(refunds: Env) -> None:
    task = refunds.drafted()
    move(pending_file(refunds, task), "approved")
    _, error = quarantined(refunds, f"{task.id}.json")
    assert "'amount' is a required property" in error
