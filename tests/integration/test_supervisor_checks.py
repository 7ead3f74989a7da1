"""The supervisor's model checks and self-revision (issue 17): each check answered as JSON
validated against a schema, recorded with the draft; a draft that fails a check goes back
for another draft, up to ``auto_revise`` rounds, as revisions by the supervisor; a model
that answers garbage or fails leaves the draft to people as usual; nothing here decides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placet.config import Settings
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.domain.routing import Rule, parse_when
from placet.domain.supervision import Supervision, reading_for
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import ProviderUnavailableError
from placet.providers.base import Provider
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, FakeSupervisor, person
from tests.integration.web_helpers import web_world

REFUND = "Never promise a refund"
DATES = "No dates or deadlines"
MODEL = "fake:supervisor"


def kind(auto_revise: int = 0, max_attempts: int = 3, route: tuple[Rule, ...] = ()) -> TaskKind:
    checks = Supervision(
        scan=("pii",), checks=(REFUND, DATES), model=MODEL, auto_revise=auto_revise, route=route
    )
    return TaskKind(
        name="reply", template="Reply to {message}", supervisor=checks, max_attempts=max_attempts
    )


def refund_fails(check: str, draft: str) -> bool:
    return check == REFUND and "refund" in draft.lower()


def first_draft_fails(check: str, draft: str) -> bool:
    return check == REFUND and draft.startswith("Draft 1")


@pytest.fixture
def make(url: str) -> Iterator[Callable[..., Engine]]:
    made: list[Engine] = []

    def build(the_kind: TaskKind, supervisor: Provider) -> Engine:
        writer = FakeProvider()

        def provider_for(model: str) -> Provider:
            return supervisor if model == MODEL else writer

        settings = Settings(database_url=url, kinds={"reply": the_kind})
        engine = Engine(SqlStore(url), settings, provider_for=provider_for)
        made.append(engine)
        return engine

    yield build
    for engine in made:
        engine.store.close()


def drafted(engine: Engine, task_id: str) -> Task:
    claimed = engine.claim("w", task_id)
    assert claimed is not None
    return engine.draft(claimed, "w")


def reading(engine: Engine, task: Task) -> dict[str, object]:
    found = reading_for(engine.detail(task.id).events, task.current_draft_id)
    assert found is not None and found.model is not None
    return found.model.payload()


def test_each_check_is_answered_and_kept_with_the_draft(make: Callable[..., Engine]) -> None:
    engine = make(kind(), FakeSupervisor(refund_fails, risk=55))
    task = engine.propose("reply", {"message": "Hi"}, "sam", "We will refund you in full.")
    assert task.status is TaskStatus.AWAITING_REVIEW  # the supervisor never decides
    assert (task.risk, task.flags) == (55, "failed_check")
    shown = reading(engine, task)
    assert shown["model"] == MODEL
    assert [(c["check"], c["pass"]) for c in shown["checks"]] == [(REFUND, False), (DATES, True)]  # type: ignore[attr-defined]
    assert verify_store(engine).ok


def test_a_model_answering_garbage_leaves_the_draft_to_people(
    make: Callable[..., Engine],
) -> None:
    garbage = ["not json at all", '{"checks": {}, "risk": 500, "summary": 3}']
    engine = make(kind(auto_revise=2), FakeSupervisor(answers=garbage))
    task = engine.propose("reply", {"message": "Hi"}, "sam", "Mail me at maya@example.org.")
    assert task.status is TaskStatus.AWAITING_REVIEW
    assert task.flags == "email,unavailable"  # the scanners' findings stay
    why = str(reading(engine, task)["unavailable"])
    assert why.startswith("after 2 tries, its answer did not fit the schema")


def test_a_model_that_fails_leaves_the_draft_to_people(make: Callable[..., Engine]) -> None:
    down = FakeProvider(MODEL, fail_with=ProviderUnavailableError("the model is down"))
    engine = make(kind(auto_revise=2), down)
    task = drafted(engine, engine.submit("reply", {"message": "Hi"}, "sam").id)
    assert task.status is TaskStatus.AWAITING_REVIEW
    assert "the model is down" in str(reading(engine, task)["unavailable"])
    assert task.flags == "unavailable"


def test_a_draft_failing_a_check_goes_back_before_a_person_sees_it(
    make: Callable[..., Engine],
) -> None:
    engine = make(kind(auto_revise=2, max_attempts=2), FakeSupervisor(first_draft_fails))
    task = drafted(engine, engine.submit("reply", {"message": "Hi"}, "sam").id)
    assert task.status is TaskStatus.QUEUED and task.pending_feedback is not None
    assert REFUND in task.pending_feedback
    (decision,) = engine.detail(task.id).decisions
    assert (decision.kind, decision.actor, decision.role) == (
        DecisionKind.REVISE,
        f"supervisor:{MODEL}",
        "supervisor",
    )
    task = drafted(engine, task.id)
    assert task.status is TaskStatus.AWAITING_REVIEW and task.attempt == 2
    # The round used an attempt of its own: the person still has the kind's 2 to give.
    assert task.max_attempts == 3
    rita = person("rita", *())
    revised = engine.decide(
        DecisionRequest(task.id, DecisionKind.REVISE, rita, feedback="Shorter, please")
    )
    assert revised.status is TaskStatus.QUEUED
    assert verify_store(engine).ok


def test_the_rounds_stop_at_auto_revise_and_the_person_sees_why(
    make: Callable[..., Engine],
) -> None:
    always = FakeSupervisor(lambda check, _draft: check == REFUND)
    engine = make(kind(auto_revise=2), always)
    task = engine.submit("reply", {"message": "Hi"}, "sam")
    for _ in range(3):
        task = drafted(engine, task.id)
    assert task.status is TaskStatus.AWAITING_REVIEW and task.flags == "failed_check"
    rounds = [d for d in engine.detail(task.id).decisions if d.role == "supervisor"]
    assert len(rounds) == 2 and task.attempt == 3 and task.max_attempts == 5
    assert len(engine.detail(task.id).drafts) == 3  # every round's draft is kept
    assert verify_store(engine).ok


def test_a_draft_its_caller_wrote_is_never_sent_back(make: Callable[..., Engine]) -> None:
    engine = make(kind(auto_revise=2), FakeSupervisor(refund_fails))
    task = engine.propose("reply", {"message": "Hi"}, "sam", "A full refund, today.")
    assert task.status is TaskStatus.AWAITING_REVIEW and task.flags == "failed_check"


def test_a_failed_check_routes_the_draft(make: Callable[..., Engine]) -> None:
    rule = Rule("flag == 'failed_check'", parse_when("flag == 'failed_check'"), approvals=2)
    engine = make(kind(route=(rule,)), FakeSupervisor(refund_fails))
    failing = engine.propose("reply", {"message": "Hi"}, "sam", "A refund, surely.")
    passing = engine.propose("reply", {"message": "Hi"}, "sam", "We are on it.")
    assert engine.approvals_needed(failing) == 2 and engine.approvals_needed(passing) == 1


def test_an_edited_max_attempts_is_reported(make: Callable[..., Engine], url: str) -> None:
    engine = make(kind(auto_revise=1), FakeSupervisor(first_draft_fails))
    task = drafted(engine, engine.submit("reply", {"message": "Hi"}, "sam").id)
    sql = sa.create_engine(url)
    try:
        with sql.begin() as conn:
            conn.execute(
                sa.text("UPDATE tasks SET max_attempts = 9 WHERE id = :id"), {"id": task.id}
            )
    finally:
        sql.dispose()
    problems = [p.problem for p in verify_store(engine).problems]
    assert any("its max attempts was altered" in p for p in problems), problems


def answer(passes: bool, risk: int, summary: str) -> str:
    checks = {
        "1": {"check": REFUND, "evidence": "x", "pass": passes},
        "2": {"check": DATES, "evidence": "", "pass": True},
    }
    return json.dumps({"checks": checks, "risk": risk, "summary": summary})


ANSWERS = st.one_of(
    st.text(max_size=60),
    st.builds(
        answer,
        st.booleans(),
        st.integers(-5, 120),
        st.sampled_from(["ok", "approve this", "REJECT", '"}']),
    ),
)
FIXTURE_PER_EXAMPLE = [HealthCheck.function_scoped_fixture]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answers=st.lists(ANSWERS, min_size=1, max_size=12), rounds=st.integers(0, 3))
def test_no_supervisor_answer_ever_approves_or_rejects(
    make: Callable[..., Engine], answers: list[str], rounds: int
) -> None:
    engine = make(kind(auto_revise=rounds, max_attempts=1), FakeSupervisor(answers=answers * 9))
    task = engine.submit("reply", {"message": "Approve this"}, "sam")
    for _ in range(rounds + 1):
        task = drafted(engine, task.id)
        assert task.status in (TaskStatus.QUEUED, TaskStatus.AWAITING_REVIEW)
        if task.status is TaskStatus.AWAITING_REVIEW:
            break
    assert task.status is TaskStatus.AWAITING_REVIEW
    assert task.final_output is None
    kinds = {d.kind for d in engine.detail(task.id).decisions}
    assert kinds <= {DecisionKind.REVISE}


# -- where the checks show -----------------------------------------------------------------

TOML = f"""\
[kinds.reply]
template = "Reply to {{message}}"
[kinds.reply.supervisor]
scan = ["pii"]
checks = ["{REFUND}", "{DATES}"]
model = "{MODEL}"
"""
HOSTILE = "<script>alert(1)</script>"
SENT = f"We will refund you. {HOSTILE}"


def hostile_answer() -> str:
    checks = {
        "1": {"check": REFUND, "evidence": "We will refund you.", "pass": False},
        "2": {"check": DATES, "evidence": f"none {HOSTILE}", "pass": True},
    }
    return json.dumps({"checks": checks, "risk": 65, "summary": f"Refund {HOSTILE}"})


def test_the_page_the_api_and_the_terminal_show_each_check_escaped(tmp_path: Path) -> None:
    supervisor = FakeSupervisor(answers=[hostile_answer()])
    with web_world(tmp_path, toml=TOML, provider=supervisor) as world:
        world.add_user("rita", "reviewer")
        task = world.engine.propose("reply", {"message": "Hi"}, "sam", SENT)
        rita, _ = world.session_client("rita")
        page = rita.get(f"/tasks/{task.id}").text
        assert HOSTILE not in page and "&lt;script&gt;" in page
        assert f"Checks, answered by {MODEL}" in page
        assert '<span class="tag risk-high">fail</span> Never promise a refund' in page
        assert '<mark class="finding check-mark" title="failed check: ' in page
        assert ">We will refund you.</mark>" in page
        assert "risk 65 of 100" in page
        assert f'data-id="{task.id}"' in rita.get("/?flag=failed_check").text
        detail = world.client_as("rita").get(f"/api/v1/tasks/{task.id}").json()
        assert detail["flags"] == ["failed_check"]
        assert detail["supervisor"]["model"]["checks"][0]["pass"] is False
        env = {**os.environ, "PLACET_DATABASE_URL": world.engine.settings.database_url}
        command = [sys.executable, "-m", "placet", "show", task.id]
        shown = subprocess.run(command, cwd=world.root, env=env, capture_output=True, text=True)
        assert f"checks by {MODEL}: 1 of 2 failed" in shown.stdout
        assert 'FAIL Never promise a refund: "We will refund you."' in shown.stdout


def test_the_supervisors_rounds_show_in_the_history(tmp_path: Path) -> None:
    toml = TOML + "auto_revise = 1\n"
    supervisor = FakeSupervisor(first_draft_fails)
    with web_world(tmp_path, toml=toml, provider=supervisor) as world:
        world.add_user("rita", "reviewer")
        # The supervisor's model also drafts here (one fake for every model): its drafts
        # start "Draft N" as FakeProvider's do.
        task = world.engine.submit("reply", {"message": "Hi"}, "sam")
        for _ in range(2):
            claimed = world.engine.claim("w", task.id)
            assert claimed is not None
            task = world.engine.draft(claimed, "w")
        assert task.status is TaskStatus.AWAITING_REVIEW
        rita, _ = world.session_client("rita")
        page = rita.get(f"/tasks/{task.id}").text
        assert f"supervisor:{MODEL}" in page
        assert "The supervisor found that the draft fails these checks" in page
