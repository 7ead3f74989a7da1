"""Pipelines of kinds on SQLite and PostgreSQL: an approved task submits the next kind.

The advancing runs as the outcome handler ``placet.handlers.pipelines`` makes, through
the real handler runner; the next step is made exactly once (keyed by the parent's id),
its input mapped from the approved output (text, fields, the choice), and its
``submitted`` event names the parent's approving event, which ``verify_store`` checks.
A rejected step stops the chain and says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from placet.config import Settings
from placet.domain import pipelines
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.engine.pipelines import advance, chain_of, steps_from
from placet.errors import ConfigError
from placet.handlers.pipelines import pipeline_handlers
from placet.handlers.runner import HandlerRunner
from placet.store.sql import SqlStore
from placet.testing import FakeTypedProvider, person

SUMMARIZE = TaskKind(
    "summarize",
    template="Summarize: {text}",
    then=(("", "translate_fr"),),
    then_input=(("text", "{output}"), ("source", "{input.text}")),
)
TRANSLATE = TaskKind("translate_fr", template="Translate to French: {text} (from {source})")
MODERATE = TaskKind(
    "moderate",
    template="Moderate: {post}",
    choices=("allow", "remove", "escalate"),
    then=(("remove", "notify_user"), ("escalate", "refund")),
    then_input=(("reason", "{output.reason}"), ("post", "{input.post}")),
)
NOTIFY = TaskKind("notify_user", template="Tell the author of {post} why: {reason}")
REFUND = TaskKind(
    "refund",
    template="Refund for {post}: {reason}",
    input_schema={
        "type": "object",
        "properties": {"post": {"type": "string"}, "reason": {"type": "string"}},
        "required": ["post", "reason"],
    },
)
KINDS = (SUMMARIZE, TRANSLATE, MODERATE, NOTIFY, REFUND)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    provider = FakeTypedProvider()
    settings = Settings(database_url=url, kinds={kind.name: kind for kind in KINDS})
    made = Engine(SqlStore(url), settings, provider_for=lambda _model: provider)
    yield made
    made.store.close()


def approved(engine: Engine, kind: str, values: dict[str, str], text: str) -> Task:
    task = engine.propose(kind, values, "rita", text)
    return engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("ivan")))


def run_handlers(engine: Engine) -> int:
    runner = HandlerRunner(engine, pipeline_handlers(engine), report=lambda _line: None)
    return runner.run_pending()


def tasks_of(engine: Engine, kind: str) -> list[Task]:
    return [task for task in engine.iter_tasks() if task.kind == kind]


def test_an_approved_step_submits_the_next_once_linked_to_its_approval(engine: Engine) -> None:
    parent = approved(engine, "summarize", {"text": "A long text."}, "Short.")
    assert run_handlers(engine) == 1
    assert run_handlers(engine) == 0  # delivered: nothing runs twice
    (step,) = tasks_of(engine, "translate_fr")
    assert step.input == {"text": "Short.", "source": "A long text."}
    assert step.requester == "rita" and step.idempotency_key == pipelines.step_key(parent.id)
    assert advance(engine, parent.id).id == step.id  # type: ignore[union-attr]
    assert len(tasks_of(engine, "translate_fr")) == 1
    submitted = engine.task_events(step.id)[0].payload["pipeline"]
    approval = next(e for e in engine.task_events(parent.id) if e.type == "approve")
    assert (submitted["parent"], submitted["parent_event"]) == (parent.id, approval.hash)
    nexts = [e for e in engine.task_events(parent.id) if e.type == pipelines.NEXT_EVENT]
    assert [e.payload["step"] for e in nexts] == [step.id]
    assert chain_of(engine, step.id).parent.id == parent.id  # type: ignore[union-attr]
    assert [t.id for t in chain_of(engine, parent.id).steps] == [step.id]
    assert [t.id for t in steps_from(engine, parent.id)] == [parent.id, step.id]
    assert chain_of(engine, step.id).stands is None  # awaiting its draft: nothing to say yet
    assert verify_store(engine).ok


def test_the_choice_made_picks_the_next_kind_and_a_choice_without_one_ends(
    engine: Engine,
) -> None:
    removed = approved(
        engine, "moderate", {"post": "spam"}, '{"choice": "remove", "reason": "ads"}'
    )
    allowed = approved(engine, "moderate", {"post": "fine"}, '{"choice": "allow", "reason": "ok"}')
    escalated = approved(engine, "moderate", {"post": "x"}, '{"choice": "escalate", "reason": "y"}')
    run_handlers(engine)
    (notify,) = tasks_of(engine, "notify_user")
    assert notify.input == {"reason": "ads", "post": "spam"}
    assert chain_of(engine, notify.id).parent.id == removed.id  # type: ignore[union-attr]
    (refund,) = tasks_of(engine, "refund")
    assert chain_of(engine, refund.id).parent.id == escalated.id  # type: ignore[union-attr]
    assert chain_of(engine, allowed.id).steps == []
    assert chain_of(engine, allowed.id).stands == "the pipeline ends here"


def test_a_rejected_step_stops_the_chain_and_says_so(engine: Engine) -> None:
    task = engine.propose("summarize", {"text": "A text."}, "rita", "Bad summary.")
    request = DecisionRequest(task.id, DecisionKind.REJECT, person("ivan"), reason="Wrong.")
    engine.decide(request)
    run_handlers(engine)
    assert tasks_of(engine, "translate_fr") == []
    assert chain_of(engine, task.id).stands == "the pipeline stops here: this step was rejected"
    step = approved(engine, "summarize", {"text": "B."}, "B!")
    run_handlers(engine)
    (child,) = tasks_of(engine, "translate_fr")
    engine.cancel(child.id, "ivan", "not needed")
    stands = chain_of(engine, child.id).stands
    assert stands == "the pipeline stops here: this step was cancelled"
    assert chain_of(engine, step.id).steps[0].status is TaskStatus.CANCELLED


def test_approvals_made_before_the_kind_had_then_start_no_chain(engine: Engine) -> None:
    engine._kinds["summarize"] = replace(SUMMARIZE, then=(), then_input=())
    old = approved(engine, "summarize", {"text": "Old."}, "Old summary.")
    engine._kinds["summarize"] = SUMMARIZE
    new = approved(engine, "summarize", {"text": "New."}, "New summary.")
    run_handlers(engine)  # backfill: both decisions are delivered, only the new one leads on
    (step,) = tasks_of(engine, "translate_fr")
    assert chain_of(engine, step.id).parent.id == new.id  # type: ignore[union-attr]
    assert chain_of(engine, old.id).stands is None


def test_a_step_whose_input_the_next_kind_refuses_stops_the_chain_saying_why(
    engine: Engine,
) -> None:
    # A reason of 0 characters is refused by the next kind's template check ("is empty").
    task = approved(engine, "moderate", {"post": "p"}, '{"choice": "escalate", "reason": ""}')
    clock = [1_000.0]
    runner = HandlerRunner(
        engine, pipeline_handlers(engine), report=lambda _line: None, clock=lambda: clock[0]
    )
    for _ in range(10):  # every retry, each after its delay
        runner.run_pending()
        clock[0] += 3600
    assert tasks_of(engine, "refund") == []
    stands = chain_of(engine, task.id).stands or ""
    assert stands.startswith("the pipeline stops here: the next step (refund) could not be")
    assert "empty" in stands
    assert json.dumps(stands)  # plain text, shown on the task page and by placet show


def test_a_kind_defined_in_code_is_checked_as_placet_toml_is(engine: Engine) -> None:
    leads_nowhere = TaskKind("draft_reply", template="Reply to {text}", then=(("", "nope"),))
    with pytest.raises(ConfigError, match="names kind 'nope', which is not defined"):
        engine.register_kind(leads_nowhere)
    itself = TaskKind("again", template="Again: {text}", then=(("", "again"),))
    with pytest.raises(ConfigError, match="cycle: again -> again"):
        engine.register_kind(itself)
    with pytest.raises(ConfigError, match="then_input is needed: kind 'translate_fr' takes"):
        engine.register_kind(replace(leads_nowhere, then=(("", "translate_fr"),)))
    mapped = (("text", "{output}"), ("source", "{input.text}"))
    engine.register_kind(replace(leads_nowhere, then=(("", "translate_fr"),), then_input=mapped))
    assert engine.kind("draft_reply").then_input == mapped
