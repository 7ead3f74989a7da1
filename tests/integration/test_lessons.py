"""Lessons from reviewers (issue 18): proposed from feedback as lessons:KIND tasks, decided
by people like any draft, and only then put into the kind's prompt; retired and restored by
chained events; every draft records the lesson set it was made with.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from placet.config import Settings
from placet.domain import lessons
from placet.domain.learning import LESSONS_OPEN, Learning, lessons_version
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.domain.policy import Role
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import InvalidInputError, PermissionDeniedError
from placet.providers.base import Chunk, Completion, CompletionRequest, collect
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person

REPLY = TaskKind(name="reply", template="Reply to {message}", learn=Learning(every=4))
RITA = person("rita", Role.REVIEWER)
ADMIN = person("ada", Role.ADMIN)


class Teacher(FakeProvider):
    """Drafts as FakeProvider does, and answers a lesson proposal with ``lines``."""

    def __init__(self) -> None:
        super().__init__()
        self.lines = "Sign as 'The Support Team'\nNever give a delivery date"

    def complete(self, request: CompletionRequest) -> Completion:
        return collect(self.stream(request))

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        if request.messages[0]["content"] == lessons.SYSTEM:
            self.requests.append(request)
            yield Chunk(self.lines)
            return
        yield from super().stream(request)


@pytest.fixture
def teacher() -> Teacher:
    return Teacher()


@pytest.fixture
def engine(url: str, teacher: Teacher) -> Iterator[Engine]:
    settings = Settings(database_url=url, kinds={"reply": REPLY})
    made = Engine(SqlStore(url), settings, provider_for=lambda _: teacher)
    yield made
    made.store.close()


def proposals(engine: Engine) -> list[Task]:
    return engine.list_tasks(TaskFilter(kinds=("lessons:reply",)))


def drafted(engine: Engine, task_id: str) -> Task:
    claimed = engine.claim("w", task_id)
    assert claimed is not None
    return engine.draft(claimed, "w")


def decide(engine: Engine, task: Task, kind: DecisionKind, **said: str) -> Task:
    return engine.decide(DecisionRequest(task.id, kind, RITA, **said))


def reviewed_with_feedback(engine: Engine) -> Task:
    """A reply asked for again with feedback, then approved."""
    task = drafted(engine, engine.submit("reply", {"message": "Where is my parcel?"}, "sam").id)
    decide(engine, task, DecisionKind.REVISE, feedback="Sign as The Support Team, please")
    task = drafted(engine, task.id)
    return decide(engine, task, DecisionKind.APPROVE)


def system_prompt(engine: Engine) -> str:
    task = drafted(engine, engine.submit("reply", {"message": "Hello"}, "sam").id)
    return task_prompt(engine, task)


def task_prompt(engine: Engine, task: Task) -> str:
    draft = engine.detail(task.id).current_draft
    assert draft is not None
    return "\n".join(m["content"] for m in draft.messages if m["role"] == "system")


def proposed_and_drafted(engine: Engine) -> Task:
    proposal = engine.learning.propose("reply", "sam")
    assert proposal.kind == "lessons:reply"
    return drafted(engine, proposal.id)


def test_a_proposal_is_made_from_feedback_and_changes_nothing_until_approved(
    engine: Engine, teacher: Teacher
) -> None:
    reviewed_with_feedback(engine)
    proposal = proposed_and_drafted(engine)
    assert proposal.status is TaskStatus.AWAITING_REVIEW
    asked = teacher.requests[-1].messages[-1]["content"]
    assert "asked for a revision: Sign as The Support Team, please" in asked
    assert LESSONS_OPEN not in system_prompt(engine)  # awaiting a person: not in use
    decide(engine, proposal, DecisionKind.APPROVE)
    prompt = system_prompt(engine)
    assert LESSONS_OPEN in prompt and "1. Sign as 'The Support Team'" in prompt
    assert engine.learning.active_lessons("reply") == (
        "Sign as 'The Support Team'",
        "Never give a delivery date",
    )
    assert verify_store(engine).ok


def test_a_rejected_proposal_never_reaches_a_prompt(engine: Engine, teacher: Teacher) -> None:
    reviewed_with_feedback(engine)
    proposal = proposed_and_drafted(engine)
    decide(engine, proposal, DecisionKind.REJECT, reason="Not what we meant")
    task = drafted(engine, engine.submit("reply", {"message": "Hello"}, "sam").id)
    sent = teacher.requests[-1]
    assert all("Sign as" not in message["content"] for message in sent.messages)
    assert LESSONS_OPEN not in task_prompt(engine, task)


def test_an_edited_proposal_teaches_the_edited_lines(engine: Engine) -> None:
    reviewed_with_feedback(engine)
    proposal = proposed_and_drafted(engine)
    decide(engine, proposal, DecisionKind.EDIT, text="Sign as 'Support'")
    assert engine.learning.active_lessons("reply") == ("Sign as 'Support'",)


def test_each_draft_records_its_lesson_set(engine: Engine) -> None:
    reviewed_with_feedback(engine)
    before = drafted(engine, engine.submit("reply", {"message": "Hello"}, "sam").id)
    decide(engine, proposed_and_drafted(engine), DecisionKind.APPROVE)
    after = drafted(engine, engine.submit("reply", {"message": "Hello"}, "sam").id)

    def version(task: Task) -> object:
        saved = [e for e in engine.detail(task.id).events if e.type == "save_draft"][-1]
        return saved.payload.get("lessons")

    assert version(before) is None
    assert version(after) == lessons_version(engine.learning.active_lessons("reply"))
    assert str(version(after)).startswith("L2-")


def test_active_lessons_are_not_proposed_again(engine: Engine, teacher: Teacher) -> None:
    reviewed_with_feedback(engine)
    decide(engine, proposed_and_drafted(engine), DecisionKind.APPROVE)
    teacher.lines = "Never give a delivery date\nKeep it under 120 words"
    reviewed_with_feedback(engine)
    again = proposed_and_drafted(engine)
    draft = engine.detail(again.id).current_draft
    assert draft is not None and draft.output == "Keep it under 120 words"
    assert "- Never give a delivery date" in teacher.requests[-1].messages[-1]["content"]


def test_contradicting_lessons_are_pointed_out() -> None:
    active = ["Sign as 'The Support Team'", "Always give a delivery date"]
    found = lessons.contradictions(["Sign as 'Ana'", "Never give a delivery date"], active)
    assert ("Sign as 'Ana'", "Sign as 'The Support Team'") in found
    assert ("Never give a delivery date", "Always give a delivery date") in found
    assert lessons.contradictions(["Keep it short"], active) == []


def test_lessons_are_retired_and_restored_in_the_chain(engine: Engine) -> None:
    reviewed_with_feedback(engine)
    decide(engine, proposed_and_drafted(engine), DecisionKind.APPROVE)
    retired = engine.learning.retire(RITA, "reply", 1)
    assert not retired.active and retired.retired_by == "rita"
    assert engine.learning.active_lessons("reply") == ("Never give a delivery date",)
    with pytest.raises(InvalidInputError, match="already retired"):
        engine.learning.retire(RITA, "reply", 1)
    engine.learning.restore(ADMIN, "reply", 1)
    assert len(engine.learning.active_lessons("reply")) == 2
    with pytest.raises(PermissionDeniedError):
        engine.learning.retire(person("sam", Role.REQUESTER), "reply", 1)
    assert verify_store(engine).ok


def test_nothing_to_learn_from_is_said(engine: Engine) -> None:
    with pytest.raises(InvalidInputError, match="nothing to learn from yet"):
        engine.learning.propose("reply", "sam")


def test_every_n_decisions_a_proposal_is_made_once(engine: Engine) -> None:
    reviewed_with_feedback(engine)  # two decisions: a revision and an approval
    assert not proposals(engine)
    reviewed_with_feedback(engine)  # four: learn.every = 4
    (proposal,) = proposals(engine)
    assert proposal.requester == "learning:reply"
    reviewed_with_feedback(engine)  # six: the same round
    assert len(proposals(engine)) == 1


def test_without_a_model_the_reviewers_own_words_are_proposed_most_said_first(url: str) -> None:
    kind = TaskKind(name="reply", template="Reply to {message}", learn=Learning(distill="feedback"))
    provider = FakeProvider()
    engine = Engine(
        SqlStore(url), Settings(database_url=url, kinds={"reply": kind}), lambda _: provider
    )
    try:
        for feedback in [
            "Please sign as The Support Team. Keep it short",
            "Sign as the Support Team, and never start with Dear",
        ]:
            task = drafted(engine, engine.submit("reply", {"message": "Hi"}, "sam").id)
            decide(engine, task, DecisionKind.REVISE, feedback=feedback)
        calls = len(provider.requests)
        proposal = engine.learning.propose("reply", "sam")
        assert proposal.status is TaskStatus.AWAITING_REVIEW and len(provider.requests) == calls
        draft = engine.detail(proposal.id).current_draft
        assert draft is not None and draft.output.splitlines() == [
            "Sign as the Support Team",  # as said most recently
            "Never start with Dear",
            "Keep it short",
        ]
        assert verify_store(engine).ok
    finally:
        engine.store.close()


def test_the_stats_show_first_pass_approvals_drafts_per_approval_and_lessons(
    engine: Engine,
) -> None:
    from placet.engine.stats import collect_stats
    from placet.web.charts import learning_chart

    reviewed_with_feedback(engine)  # two drafts
    first = drafted(engine, engine.submit("reply", {"message": "Hi"}, "sam").id)
    decide(engine, first, DecisionKind.APPROVE)  # one
    decide(engine, proposed_and_drafted(engine), DecisionKind.APPROVE)
    (day,) = collect_stats(engine).learning("reply")
    assert (day.approved, day.first_pass_rate, day.mean_attempts) == (2, 0.5, 1.5)
    assert day.lessons_approved == 1
    chart = learning_chart(collect_stats(engine), "reply").decode()
    assert "First-pass approvals (%)" in chart and "Lessons approved" in chart


def test_without_a_model_nothing_new_makes_no_proposal(url: str) -> None:
    kind = TaskKind(name="reply", template="Reply to {message}", learn=Learning(distill="feedback"))
    provider = FakeProvider()
    engine = Engine(
        SqlStore(url), Settings(database_url=url, kinds={"reply": kind}), lambda _: provider
    )
    try:
        task = drafted(engine, engine.submit("reply", {"message": "Hi"}, "sam").id)
        decide(engine, task, DecisionKind.REVISE, feedback="A: Sign as The Support Team")
        proposal = engine.learning.propose("reply", "sam")
        decide(engine, proposal, DecisionKind.APPROVE)
        assert engine.learning.active_lessons("reply") == ("Sign as The Support Team",)
        with pytest.raises(InvalidInputError, match="nothing new to learn"):
            engine.learning.propose("reply", "sam")
    finally:
        engine.store.close()
