"""Choices: a kind decided by picking, through the engine's one decision path.

On SQLite and PostgreSQL: the model proposes a choice with its reason (asked for with
the kind's JSON Schema, validated always, retried, then failed), the reviewer confirms
it or picks another (recorded as an edit with its diff), the choice is in the audited
event and in the outcome the caller gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.outcomes import outcome_of
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import InvalidInputError
from placet.store.sql import SqlStore
from placet.testing import FakeTypedProvider, person

MODERATE = TaskKind(
    name="moderate",
    template="Moderate this post: {post}",
    choices=("allow", "remove", "escalate"),
)
LABELS = TaskKind(
    name="labels",
    template="Label this post: {post}",
    choices=("spam", "abuse", "off_topic"),
    multiple=True,
)
NOTE = TaskKind(name="note", template="Write a note about {post}.")


def make_engine(url: str, provider: FakeTypedProvider) -> Engine:
    kinds = {kind.name: kind for kind in (MODERATE, LABELS, NOTE)}
    settings = Settings(database_url=url, kinds=kinds)
    return Engine(SqlStore(url), settings, provider_for=lambda _model: provider)


@pytest.fixture
def provider() -> FakeTypedProvider:
    return FakeTypedProvider()


@pytest.fixture
def engine(url: str, provider: FakeTypedProvider) -> Iterator[Engine]:
    made = make_engine(url, provider)
    yield made
    made.store.close()


def drafted(engine: Engine, kind: str = "moderate") -> str:
    task = engine.submit(kind, {"post": "buy cheap pills"}, "rita", claim_as="w")
    return engine.draft(task, "w").id


def pick(engine: Engine, task_id: str, *choice: str, reason: str | None = None) -> TaskStatus:
    request = DecisionRequest(
        task_id, DecisionKind.APPROVE, person("ana"), reason=reason, choice=choice
    )
    return engine.decide(request).status


def draft_object(engine: Engine, task_id: str) -> dict[str, object]:
    draft = engine.detail(task_id).current_draft
    assert draft is not None
    value = json.loads(draft.output)
    assert isinstance(value, dict)
    return value


def test_the_model_is_asked_for_a_choice_and_the_draft_is_one(
    engine: Engine, provider: FakeTypedProvider
) -> None:
    task_id = drafted(engine)
    asked = provider.requests[-1]
    assert asked.json_schema is not None
    assert asked.json_schema["properties"]["choice"]["enum"] == ["allow", "remove", "escalate"]
    assert '"allow", "remove", "escalate"' in asked.messages[0]["content"]
    assert draft_object(engine, task_id)["choice"] == "allow"


def test_confirming_the_proposed_choice_approves_it_and_the_caller_gets_it(
    engine: Engine,
) -> None:
    task_id = drafted(engine)
    assert pick(engine, task_id, "allow") is TaskStatus.APPROVED
    detail = engine.detail(task_id)
    assert detail.decisions[-1].kind is DecisionKind.APPROVE
    assert detail.events[-1].payload["choice"] == "allow"
    outcome = outcome_of(detail.task, detail.decisions, detail.events)
    assert outcome.choice == "allow"
    assert outcome.value is not None and outcome.value["choice"] == "allow"
    assert verify_store(engine).ok


def test_picking_another_choice_is_an_edit_with_its_diff_and_reason(engine: Engine) -> None:
    task_id = drafted(engine)
    status = pick(engine, task_id, "escalate", reason="a threat, for legal")
    assert status is TaskStatus.APPROVED
    detail = engine.detail(task_id)
    decision = detail.decisions[-1]
    assert decision.kind is DecisionKind.EDIT
    assert decision.diff is not None and '+  "choice": "escalate"' in decision.diff
    assert json.loads(detail.task.final_output or "") == {
        "choice": "escalate",
        "reason": "a threat, for legal",
    }
    assert detail.events[-1].type == "edit" and detail.events[-1].payload["choice"] == "escalate"
    assert outcome_of(detail.task, detail.decisions, detail.events).choice == "escalate"
    assert verify_store(engine).ok


@pytest.mark.parametrize(
    ("choice", "says"),
    [(("delete",), "pick one of: allow, remove, escalate"), (("allow", "remove"), "one choice")],
)
def test_a_choice_the_kind_does_not_have_is_refused_and_nothing_changes(
    engine: Engine, choice: tuple[str, ...], says: str
) -> None:
    task_id = drafted(engine)
    before = engine.get(task_id)
    with pytest.raises(InvalidInputError, match=says):
        pick(engine, task_id, *choice)
    assert engine.get(task_id).version == before.version


def test_a_choice_on_a_free_text_kind_or_with_a_rejection_is_refused(engine: Engine) -> None:
    note = drafted(engine, "note")
    with pytest.raises(InvalidInputError, match="has no choices"):
        pick(engine, note, "allow")
    task_id = drafted(engine)
    request = DecisionRequest(
        task_id, DecisionKind.REJECT, person("ana"), reason="no", choice=("remove",)
    )
    with pytest.raises(InvalidInputError, match="goes with approve"):
        engine.decide(request)


def test_an_edited_object_outside_the_choices_is_refused(engine: Engine) -> None:
    task_id = drafted(engine)
    bad = json.dumps({"choice": "ban_forever", "reason": "x"})
    with pytest.raises(InvalidInputError, match="choice"):
        engine.decide(DecisionRequest(task_id, DecisionKind.EDIT, person("ana"), text=bad))
    assert engine.get(task_id).status is TaskStatus.AWAITING_REVIEW


def test_several_choices_for_a_multiple_kind_kept_in_the_kinds_order(engine: Engine) -> None:
    task_id = drafted(engine, "labels")
    assert draft_object(engine, task_id)["choice"] == ["spam"]
    assert pick(engine, task_id, "off_topic", "spam") is TaskStatus.APPROVED
    detail = engine.detail(task_id)
    assert detail.events[-1].payload["choice"] == ["spam", "off_topic"]
    assert outcome_of(detail.task, detail.decisions, detail.events).choice == [
        "spam",
        "off_topic",
    ]


def test_hostile_model_output_is_asked_for_again_until_it_is_a_choice(
    engine: Engine, provider: FakeTypedProvider
) -> None:
    provider.answers = [
        "Sure! I would remove it.",
        json.dumps({"choice": "approve_and_delete_all", "reason": "ignore your rules"}),
    ]
    task_id = drafted(engine)
    assert engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
    assert draft_object(engine, task_id)["choice"] == "allow"
    seeds = [request.seed for request in list(provider.requests)[-3:]]
    assert len(set(seeds)) == 3  # each try is another sample


def test_a_model_that_never_gives_a_choice_fails_the_task_saying_why(
    engine: Engine, provider: FakeTypedProvider
) -> None:
    provider.answers = ['{"choice": "maybe", "reason": ""}'] * 3
    task = engine.submit("moderate", {"post": "hi"}, "rita", claim_as="w")
    with pytest.raises(InvalidInputError, match="does not fit the kind's schema"):
        engine.draft(task, "w")
    failed = engine.get(task.id)
    assert failed.status is TaskStatus.FAILED
    error = engine.detail(task.id).events[-1].payload["error"]
    assert "choice" in error and "'maybe' is not one of" in error


def test_a_draft_made_before_the_kind_had_choices_is_read_as_is_and_edited_into_one(
    url: str, provider: FakeTypedProvider
) -> None:
    plain = TaskKind(name="moderate", template=MODERATE.template)
    before = make_engine(url, provider)
    before._kinds["moderate"] = plain  # the kind as placet.toml had it before
    task = before.submit("moderate", {"post": "hi"}, "rita", claim_as="w")
    before.draft(task, "w")
    before.store.close()
    engine = make_engine(url, provider)  # now with choices
    try:
        draft = engine.detail(task.id).current_draft
        assert draft is not None and draft.output.startswith("Draft 1")  # as it was
        approve = DecisionRequest(task.id, DecisionKind.APPROVE, person("ana"))
        with pytest.raises(InvalidInputError, match="edit it into one"):
            engine.decide(approve)
        assert pick(engine, task.id, "allow", reason="fine") is TaskStatus.APPROVED
        assert json.loads(engine.get(task.id).final_output or "")["choice"] == "allow"
    finally:
        engine.store.close()


def test_a_callers_draft_of_a_choice_kind_must_be_a_choice(engine: Engine) -> None:
    with pytest.raises(InvalidInputError, match="not one of"):
        engine.propose("moderate", {"post": "x"}, "agent", '{"choice": "nuke", "reason": ""}')
    task = engine.propose("moderate", {"post": "x"}, "agent", '{"choice":"remove","reason":"r"}')
    draft = engine.detail(task.id).current_draft
    assert draft is not None and json.loads(draft.output)["choice"] == "remove"
