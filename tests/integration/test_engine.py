"""The engine over a real SQLite store, drafting with the fake provider."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.engine.worker import Worker
from placet.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    ProviderUnavailableError,
    UnknownKindError,
    UnusableModelError,
)
from placet.providers.registry import resolve
from placet.store import TaskFilter
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person, temp_store
from tests.conftest import Clock

S = TaskStatus
NAME = {"name": "Rahul"}


def drafted(engine: Engine, worker: str = "w1") -> str:
    task = engine.submit("onboarding_email", NAME, "dev", claim_as=worker)
    return engine.draft(task, worker).id


def decide(engine: Engine, task_id: str, kind: DecisionKind, **fields: str) -> TaskStatus:
    return engine.decide(DecisionRequest(task_id, kind, person("alice"), **fields)).status


def test_unknown_kind_lists_the_known_ones(engine: Engine) -> None:
    with pytest.raises(UnknownKindError, match="known kinds: customer_reply, onboarding_email"):
        engine.submit("onboarding", NAME, "dev")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "needs input name"),
        ({"nmae": "x"}, "needs input name"),
        ({"name": "  "}, "input name is empty"),
        ({"name": "x" * 70_000}, "the limit is 65536"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    engine: Engine, values: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        engine.submit("onboarding_email", values, "dev")
    assert engine.store.list_tasks(__import__("placet.store").store.TaskFilter()) == []


def test_approve_keeps_the_draft_as_the_final_text(engine: Engine) -> None:
    task_id = drafted(engine)
    assert decide(engine, task_id, DecisionKind.APPROVE) is S.APPROVED
    detail = engine.detail(task_id)
    assert detail.task.final_output == detail.drafts[0].output
    assert [e.type for e in detail.events] == ["submitted", "save_draft", "approve"]


def test_a_submit_that_claims_is_one_event_naming_the_claimer(engine: Engine) -> None:
    task = engine.submit("onboarding_email", NAME, "dev", claim_as="w1")
    assert (task.status, task.attempt, task.lease_owner) == (S.DRAFTING, 1, "w1")
    assert task.lease_expires_at == task.created_at + engine.settings.lease_seconds
    (submitted,) = engine.detail(task.id).events
    assert submitted.type == "submitted"
    assert submitted.payload["claim"] == {
        "worker": "w1",
        "attempt": 1,
        "lease_expires_at": task.lease_expires_at,
    }
    assert engine.store.get_task(task.id) == task


def test_a_plain_submit_is_queued_and_its_claim_is_an_event_of_its_own(engine: Engine) -> None:
    task = engine.submit("onboarding_email", NAME, "dev")
    assert (task.status, task.attempt, task.lease_owner) == (S.QUEUED, 0, None)
    claimed = engine.claim("w2")
    assert claimed is not None and claimed.id == task.id
    events = engine.detail(task.id).events
    assert [e.type for e in events] == ["submitted", "claim"]
    assert "claim" not in events[0].payload and events[1].payload["worker"] == "w2"


def test_edit_records_the_diff_and_the_new_text(engine: Engine) -> None:
    task_id = drafted(engine)
    decide(engine, task_id, DecisionKind.EDIT, text="Hello Rahul, welcome!")
    detail = engine.detail(task_id)
    assert detail.task.final_output == "Hello Rahul, welcome!"
    assert detail.decisions[0].kind is DecisionKind.EDIT
    assert "+Hello Rahul, welcome!" in (detail.decisions[0].diff or "")


def test_revise_puts_feedback_and_previous_draft_into_the_next_prompt(
    engine: Engine, fake: FakeProvider
) -> None:
    task_id = drafted(engine)
    assert decide(engine, task_id, DecisionKind.REVISE, feedback="Mention the trial.") is S.QUEUED
    task = engine.claim("w2")
    assert task is not None and task.attempt == 2
    engine.draft(task, "w2")
    second = fake.requests[-1].messages
    assert second[-2]["role"] == "assistant" and second[-2]["content"].startswith("Draft 1")
    assert "Mention the trial." in second[-1]["content"]
    detail = engine.detail(task_id)
    assert [d.attempt for d in detail.drafts] == [1, 2]
    assert detail.drafts[1].feedback == "Mention the trial."


def test_each_attempt_is_drafted_with_a_new_seed_kept_with_the_draft_and_its_event(
    engine: Engine, fake: FakeProvider
) -> None:
    task_id = drafted(engine)
    decide(engine, task_id, DecisionKind.REVISE, feedback="Shorter.")
    task = engine.claim("w2")
    assert task is not None
    engine.draft(task, "w2")
    detail = engine.detail(task_id)
    seeds = [draft.seed for draft in detail.drafts]
    candidates = engine.kind(detail.task.kind).revision_candidates  # the revision's samplings
    first, *revision = [request.seed for request in list(fake.requests)[-(1 + candidates) :]]
    assert seeds[0] == first and seeds[1] in revision
    assert all(isinstance(seed, int) and 0 <= seed < 2**31 for seed in seeds)
    assert seeds[0] != seeds[1]
    saved = [event.payload["seed"] for event in detail.events if event.type == "save_draft"]
    assert saved == seeds


def test_a_callers_own_draft_has_no_seed(engine: Engine) -> None:
    task = engine.propose("onboarding_email", NAME, "dev", "Hello Rahul.")
    detail = engine.detail(task.id)
    assert detail.drafts[0].seed is None
    assert all("seed" not in event.payload for event in detail.events)


def test_revising_with_no_attempts_left_rejects(engine: Engine) -> None:
    task_id = drafted(engine)
    for attempt in range(2, 4):
        decide(engine, task_id, DecisionKind.REVISE, feedback=f"again {attempt}")
        task = engine.claim("w")
        assert task is not None
        engine.draft(task, "w")
    assert decide(engine, task_id, DecisionKind.REVISE, feedback="more") is S.REJECTED


def test_reject_needs_a_reason_and_revise_needs_feedback(engine: Engine) -> None:
    task_id = drafted(engine)
    with pytest.raises(InvalidInputError, match="reason"):
        decide(engine, task_id, DecisionKind.REJECT)
    with pytest.raises(InvalidInputError, match="feedback"):
        decide(engine, task_id, DecisionKind.REVISE, feedback=" ")
    assert engine.get(task_id).status is S.AWAITING_REVIEW


def test_a_second_decision_on_the_same_draft_conflicts(engine: Engine) -> None:
    task_id = drafted(engine)
    version = engine.get(task_id).version
    with pytest.raises(ConflictError, match="changed since you looked"):
        engine.decide(
            DecisionRequest(
                task_id, DecisionKind.APPROVE, person("bob"), expected_version=version - 1
            )
        )
    decide(engine, task_id, DecisionKind.APPROVE)
    with pytest.raises(ConflictError, match="alice already decided"):
        engine.decide(
            DecisionRequest(
                task_id, DecisionKind.REJECT, person("bob"), expected_version=version, reason="x"
            )
        )
    assert len(engine.detail(task_id).decisions) == 1


def test_racing_decisions_from_threads_give_exactly_one_winner(engine: Engine) -> None:
    task_id = drafted(engine)
    version = engine.get(task_id).version
    wins: list[str] = []
    conflicts: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            engine.decide(
                DecisionRequest(
                    task_id, DecisionKind.APPROVE, person(f"r{n}"), expected_version=version
                )
            )
            wins.append(f"r{n}")
        except ConflictError:
            conflicts.append(f"r{n}")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1 and len(conflicts) == 7
    detail = engine.detail(task_id)
    assert len(detail.decisions) == 1 and detail.decisions[0].actor == wins[0]


def test_an_expired_lease_is_drafted_by_the_next_worker(engine: Engine, clock: Clock) -> None:
    task = engine.submit("onboarding_email", NAME, "dev", claim_as="crashed")
    assert engine.claim("w2") is None  # the lease is live
    clock.now += engine.settings.lease_seconds + 1
    taken = engine.claim("w2")
    assert taken is not None and taken.lease_owner == "w2" and taken.attempt == 1
    engine.draft(taken, "w2")
    assert engine.get(task.id).status is S.AWAITING_REVIEW
    assert [e.type for e in engine.detail(task.id).events][-2:] == ["reclaim", "save_draft"]


def test_the_old_lease_holder_cannot_save_after_losing_the_lease(
    engine: Engine, clock: Clock
) -> None:
    task = engine.submit("onboarding_email", NAME, "dev", claim_as="slow")
    clock.now += engine.settings.lease_seconds + 1
    taken = engine.claim("fast")
    assert taken is not None
    engine.draft(taken, "fast")
    with pytest.raises(ConflictError):
        engine.draft(task, "slow")
    assert len(engine.detail(task.id).drafts) == 1


def test_a_failing_provider_fails_the_task_and_retry_requeues_it(
    engine: Engine, fake: FakeProvider
) -> None:
    fake.fail_with = ProviderUnavailableError("model server down")
    task = engine.submit("onboarding_email", NAME, "dev", claim_as="w")
    with pytest.raises(ProviderUnavailableError):
        engine.draft(task, "w")
    failed = engine.get(task.id)
    assert failed.status is S.FAILED and failed.attempt == 0
    assert engine.detail(task.id).events[-1].payload["error"] == "model server down"
    fake.fail_with = None
    assert engine.retry(task.id, "dev").status is S.QUEUED


def test_an_interrupted_draft_goes_back_to_the_queue(engine: Engine, fake: FakeProvider) -> None:
    task = engine.submit("onboarding_email", NAME, "dev", claim_as="w")

    def interrupt(_chunk: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine.draft(task, "w", on_chunk=interrupt)
    assert engine.get(task.id).status is S.QUEUED
    assert engine.get(task.id).attempt == 0


def test_idempotency_key_returns_the_same_task(engine: Engine) -> None:
    first = engine.submit("onboarding_email", NAME, "dev", idempotency_key="k1")
    again = engine.submit("onboarding_email", NAME, "dev", idempotency_key="k1")
    assert again.id == first.id


def test_cancel_ends_a_waiting_task(engine: Engine) -> None:
    task_id = drafted(engine)
    assert engine.cancel(task_id, "dev", "no longer needed").status is S.CANCELLED
    with pytest.raises(ConflictError):
        decide(engine, task_id, DecisionKind.APPROVE)


def test_every_chain_verifies_and_tampering_is_caught(engine: Engine) -> None:
    task_id = drafted(engine)
    decide(engine, task_id, DecisionKind.EDIT, text="Edited.")
    assert verify_store(engine).ok
    import sqlalchemy as sa

    from placet.store.schema import drafts

    with engine.store._engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.update(drafts).values(output="forged"))
    problems = verify_store(engine).problems
    assert any("was altered" in p.problem for p in problems)


def test_wait_returns_when_another_thread_decides(engine: Engine) -> None:
    task_id = drafted(engine)
    timer = threading.Timer(0.2, lambda: decide(engine, task_id, DecisionKind.APPROVE))
    timer.start()
    task = engine.wait(task_id, lambda t: t.status.is_final, timeout=10)
    timer.join()
    assert task.status is S.APPROVED


def check_nul_characters(engine: Engine) -> None:
    """Input keeps its NULs; a model's NUL becomes U+FFFD; a person's text with one is refused.

    Shared with the PostgreSQL tests: its text type cannot hold NUL at all.
    """
    task = engine.submit("onboarding_email", {"name": "Ra\x00hul"}, "dev", claim_as="w1")
    task = engine.draft(task, "w1")
    assert task.current_draft_id is not None
    output = engine.store.get_draft(task.current_draft_id).output
    assert "\x00" not in output and "Ra\ufffdhul" in output
    assert engine.get(task.id).input == {"name": "Ra\x00hul"}
    refused = [
        DecisionRequest(task.id, DecisionKind.EDIT, person("alice"), text="Dear\x00 Rahul"),
        DecisionRequest(task.id, DecisionKind.REVISE, person("alice"), feedback="warmer\x00"),
        DecisionRequest(task.id, DecisionKind.REJECT, person("alice"), reason="\x00"),
        DecisionRequest(task.id, DecisionKind.APPROVE, person("ali\x00ce")),
    ]
    for request in refused:
        with pytest.raises(InvalidInputError, match="contains a NUL character"):
            engine.decide(request)
    with pytest.raises(InvalidInputError, match="the requester contains a NUL"):
        engine.submit("onboarding_email", NAME, "d\x00ev")
    approved = engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("alice")))
    assert approved.status is S.APPROVED and approved.final_output == output
    assert verify_store(engine).ok


def test_nul_characters_on_sqlite(engine: Engine) -> None:
    check_nul_characters(engine)


# -- a decision starts from the task as this engine wrote it --------------------------


@pytest.fixture
def elsewhere(engine: Engine) -> Iterator[Engine]:
    """Another engine on the same database, as in another process."""
    store = SqlStore(engine.store.url)
    yield Engine(store, engine.settings, provider_for=lambda _model: FakeProvider())
    store.close()


def statements_during(engine: Engine, action: Callable[[], object]) -> list[str]:
    backend = engine.store._db  # type: ignore[attr-defined]
    conn = backend._connections.get()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        conn.set_trace_callback(None)
    return seen


def test_deciding_on_a_draft_this_engine_saved_reads_no_task_back(engine: Engine) -> None:
    task_id = drafted(engine)
    request = DecisionRequest(task_id, DecisionKind.APPROVE, person("alice"))
    seen = statements_during(engine, lambda: engine.decide(request))
    assert not [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")], seen
    assert engine.store.get_task(task_id).status is S.APPROVED


def test_a_decision_already_made_elsewhere_is_reported_as_such(
    engine: Engine, elsewhere: Engine
) -> None:
    task_id = drafted(engine)  # this engine's copy: awaiting review
    elsewhere.decide(
        DecisionRequest(task_id, DecisionKind.REJECT, person("bob"), reason="off tone")
    )
    with pytest.raises(ConflictError, match="bob already decided"):
        engine.decide(DecisionRequest(task_id, DecisionKind.APPROVE, person("alice")))
    detail = engine.detail(task_id)
    assert detail.task.status is S.REJECTED and len(detail.decisions) == 1


def test_a_newer_draft_saved_elsewhere_can_be_decided_here(
    engine: Engine, elsewhere: Engine
) -> None:
    task_id = drafted(engine)  # this engine's copy waits on draft 1
    elsewhere.decide(
        DecisionRequest(task_id, DecisionKind.REVISE, person("bob"), feedback="shorter")
    )
    claimed = elsewhere.claim("w2", task_id)
    assert claimed is not None
    second = elsewhere.draft(claimed, "w2")
    approved = engine.decide(
        DecisionRequest(
            task_id, DecisionKind.APPROVE, person("alice"), draft_id=second.current_draft_id
        )
    )
    assert approved.status is S.APPROVED
    detail = engine.detail(task_id)
    assert approved.final_output == detail.drafts[-1].output != detail.drafts[0].output
    assert [d.draft_id for d in detail.decisions][-1] == second.current_draft_id


# -- a draft that cannot be made as configured ------------------------------------------

MISSING_MODEL = "local:/nowhere/model.gguf"
GOOD = TaskKind(name="onboarding_email", template="Welcome {name}.")
BROKEN = TaskKind(name="policy_answer", template="Answer {name}.", model=MISSING_MODEL)


@pytest.fixture
def two_kinds(tmp_path: Path, fake: FakeProvider) -> Iterator[Engine]:
    """One kind drafts with the fake provider, one with a model file that is not there."""
    store = temp_store(tmp_path)
    settings = Settings(database_url=store.url, kinds={GOOD.name: GOOD, BROKEN.name: BROKEN})
    # The real registry for the broken kind's model: its real error.
    yield Engine(
        store,
        settings,
        provider_for=lambda model: resolve(model, settings) if model == MISSING_MODEL else fake,
    )
    store.close()


def queued_elsewhere(engine: Engine, kind: str, claim_as: str | None = None) -> str:
    """A task queued by a process whose configuration can draft every kind (the API, say)."""
    fake = FakeProvider()
    elsewhere = Engine(engine.store, engine.settings, provider_for=lambda _model: fake)
    return elsewhere.submit(kind, NAME, "dev", claim_as=claim_as).id


def test_a_kind_defined_in_code_with_a_stray_brace_is_refused(engine: Engine) -> None:
    with pytest.raises(ConfigError, match=r"kind 'greeting': template: the '\{' at character 4"):
        engine.register_kind(TaskKind(name="greeting", template="Hi {name"))
    assert "greeting" not in engine.kinds


def test_a_kind_whose_model_cannot_be_used_is_refused_at_submit(two_kinds: Engine) -> None:
    for claim_as in (None, "w"):
        with pytest.raises(UnusableModelError) as refused:
            two_kinds.submit("policy_answer", NAME, "dev", claim_as=claim_as)
        said = refused.value.message
        assert "kind 'policy_answer'" in said and MISSING_MODEL in said
        assert "local model file not found" in said and "nothing was submitted" in said
    assert isinstance(refused.value, ConfigError)  # a configuration to fix (CLI: exit 1)
    assert two_kinds.store.list_tasks(TaskFilter()) == []  # nothing left behind
    assert two_kinds.submit("onboarding_email", NAME, "dev").status is S.QUEUED


def test_the_registry_checks_a_model_without_making_its_provider(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    kinds = {GOOD.name: replace(GOOD, model="groq:llama-3.3-70b-versatile")}
    try:
        engine = Engine(store, Settings(database_url=store.url, kinds=kinds))
        with pytest.raises(UnusableModelError, match="groq: models need GROQ_API_KEY"):
            engine.submit("onboarding_email", NAME, "dev")
        keyed = Engine(store, Settings(database_url=store.url, kinds=kinds, groq_api_key="k"))
        assert keyed.submit("onboarding_email", NAME, "dev").status is S.QUEUED
        assert keyed._providers == {}  # checked, not made: no client, no network
    finally:
        store.close()


def test_a_model_that_cannot_be_used_fails_the_task_with_the_reason(two_kinds: Engine) -> None:
    task = two_kinds.get(queued_elsewhere(two_kinds, "policy_answer", claim_as="w"))
    with pytest.raises(ConfigError, match="local model file not found"):
        two_kinds.draft(task, "w")
    failed = two_kinds.get(task.id)
    assert failed.status is S.FAILED and failed.attempt == 0
    assert "not found" in two_kinds.detail(task.id).events[-1].payload["error"]
    assert two_kinds.retry(task.id, "dev").status is S.QUEUED


def test_a_task_whose_kind_is_gone_fails_instead_of_staying_claimed(engine: Engine) -> None:
    task = engine.submit("onboarding_email", NAME, "dev", claim_as="w")
    del engine._kinds["onboarding_email"]  # placet.toml no longer has it
    with pytest.raises(UnknownKindError):
        engine.draft(task, "w")
    assert engine.get(task.id).status is S.FAILED


def test_a_worker_reports_a_task_it_cannot_draft_and_drafts_the_next(two_kinds: Engine) -> None:
    broken = two_kinds.get(queued_elsewhere(two_kinds, "policy_answer"))
    good = two_kinds.submit("onboarding_email", NAME, "dev")
    lines: list[str] = []
    Worker(two_kinds, name="w", report=lines.append).run(max_tasks=1)
    assert two_kinds.get(broken.id).status is S.FAILED
    assert two_kinds.get(good.id).status is S.AWAITING_REVIEW
    assert any(f"failed {broken.id}: local model file not found" in line for line in lines)
    assert any(f"placet retry {broken.id}" in line for line in lines)


def test_kinds_whose_model_cannot_be_used_are_named_before_drafting(two_kinds: Engine) -> None:
    problems = two_kinds.model_problems()
    assert list(problems) == ["policy_answer"]
    assert problems["policy_answer"].startswith(f"{MISSING_MODEL}: local model file not found")
