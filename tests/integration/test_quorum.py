"""Quorum and reviewer groups: ``approvals = k`` distinct people approve the same text.

Through the engine's one decision path, on SQLite and PostgreSQL; the audit
replays every count from the chain, and three reviewers deciding at once never
approve a task on fewer approvals than its kind needs.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import ConfigError, ConflictError, InvalidInputError, PermissionDeniedError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person

GROUPS = {"legal": ("ana", "li", "omar")}
CLAUSE = TaskKind(
    name="clause",
    template="Draft a clause about {topic}.",
    reviewers=("group:legal",),
    approvals=2,
)
PLAIN = TaskKind(name="note", template="Write a note about {topic}.")


def make_engine(url: str) -> Engine:
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds={"clause": CLAUSE, "note": PLAIN}, groups=GROUPS)
    return Engine(SqlStore(url), settings, provider_for=lambda _model: provider)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    made = make_engine(url)
    yield made
    made.store.close()


def drafted(engine: Engine, kind: str = "clause") -> str:
    task = engine.submit(kind, {"topic": "liability"}, "rita", claim_as="w")
    return engine.draft(task, "w").id


def decide(engine: Engine, task_id: str, who: str, kind: DecisionKind, **texts: str) -> TaskStatus:
    request = DecisionRequest(task_id, kind, person(who), **texts)
    return engine.decide(request).status


def test_two_of_three_approve_the_same_text(engine: Engine) -> None:
    task_id = drafted(engine)
    assert decide(engine, task_id, "ana", DecisionKind.APPROVE) is TaskStatus.AWAITING_REVIEW
    task = engine.get(task_id)
    assert task.final_output is None
    count = engine.tally(task_id, engine.get_draft(str(task.current_draft_id)), 2)
    assert count.shown() == "1 of 2 approvals: ana" and not count.met
    with pytest.raises(InvalidInputError, match="ana already approved this text"):
        decide(engine, task_id, "ana", DecisionKind.APPROVE)
    assert decide(engine, task_id, "omar", DecisionKind.APPROVE) is TaskStatus.APPROVED
    detail = engine.detail(task_id)
    assert detail.task.final_output == detail.drafts[-1].output
    assert [e.payload.get("approvals") for e in detail.events[-2:]] == [
        {"needed": 2, "by": ["ana"]},
        {"needed": 2, "by": ["ana", "omar"]},
    ]
    assert verify_store(engine).ok


def test_an_edit_is_its_editors_approval_of_the_new_text(engine: Engine) -> None:
    task_id = drafted(engine)
    decide(engine, task_id, "ana", DecisionKind.APPROVE)
    # li edits: ana's approval was of the old text and no longer counts.
    edited = "Liability is capped at the fees paid."
    assert decide(engine, task_id, "li", DecisionKind.EDIT, text=edited) is (
        TaskStatus.AWAITING_REVIEW
    )
    draft = engine.get_draft(str(engine.get(task_id).current_draft_id))
    assert engine.tally(task_id, draft, 2).shown() == "1 of 2 approvals: li"
    assert decide(engine, task_id, "ana", DecisionKind.APPROVE) is TaskStatus.APPROVED
    assert engine.get(task_id).final_output == edited
    assert verify_store(engine).ok


def test_one_reject_ends_it_and_a_revision_starts_the_count_again(engine: Engine) -> None:
    rejected = drafted(engine)
    decide(engine, rejected, "ana", DecisionKind.APPROVE)
    assert decide(engine, rejected, "li", DecisionKind.REJECT, reason="too broad") is (
        TaskStatus.REJECTED
    )
    revised = drafted(engine)
    decide(engine, revised, "ana", DecisionKind.APPROVE)
    decide(engine, revised, "li", DecisionKind.REVISE, feedback="shorter")
    again = engine.draft(engine.claim("w") or engine.get(revised), "w")
    assert again.status is TaskStatus.AWAITING_REVIEW
    draft = engine.get_draft(str(again.current_draft_id))
    assert engine.tally(revised, draft, 2).shown() == "0 of 2 approvals"
    decide(engine, revised, "ana", DecisionKind.APPROVE)
    assert decide(engine, revised, "li", DecisionKind.APPROVE) is TaskStatus.APPROVED
    assert verify_store(engine).ok


def test_only_the_group_decides_and_the_requester_never_counts(engine: Engine) -> None:
    task_id = drafted(engine)
    with pytest.raises(PermissionDeniedError, match="does not review clause tasks"):
        decide(engine, task_id, "zoe", DecisionKind.APPROVE)
    mine = engine.submit("clause", {"topic": "fees"}, "ana", claim_as="w")
    engine.draft(mine, "w")
    with pytest.raises(PermissionDeniedError, match="ana asked for task"):
        decide(engine, mine.id, "ana", DecisionKind.APPROVE)
    # A kind with one approval is decided as before, by any reviewer.
    assert decide(engine, drafted(engine, "note"), "zoe", DecisionKind.APPROVE) is (
        TaskStatus.APPROVED
    )


def test_a_forged_count_in_the_database_is_reported(engine: Engine, url: str) -> None:
    import sqlalchemy as sa

    task_id = drafted(engine)
    decide(engine, task_id, "ana", DecisionKind.APPROVE)
    sql = sa.create_engine(url)
    try:
        with sql.begin() as conn:  # as if ana's approval had been the second one
            conn.execute(
                sa.text(
                    "UPDATE tasks SET status = 'approved', final_output = 'x' WHERE id = :task"
                ),
                {"task": task_id},
            )
    finally:
        sql.dispose()
    problems = "\n".join(p.problem for p in verify_store(engine).problems)
    assert "its status was altered" in problems and "its final output was altered" in problems


def test_three_reviewers_at_once_never_approve_on_one_approval(url: str) -> None:
    """2-of-3, all three deciding each task at once, each through its own engine."""
    rounds = 100 if url.startswith("postgresql") else 60
    with ExitStack() as stack:
        engines = [make_engine(url) for _ in range(3)]
        for made in engines:
            stack.callback(made.store.close)
        task_ids = [drafted(engines[0]) for _ in range(rounds)]
        reviewers = ("ana", "li", "omar")
        for index, task_id in enumerate(task_ids):
            rejecter = reviewers[index % 3] if index % 10 == 0 else None
            barrier = threading.Barrier(3)

            threads = [
                threading.Thread(
                    target=_decide_at_once, args=(made, task_id, who, rejecter, barrier)
                )
                for who, made in zip(reviewers, engines, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for task_id in task_ids:
            detail = engines[0].detail(task_id)
            verdicts = [(d.actor, d.kind) for d in detail.decisions]
            approvers = [actor for actor, kind in verdicts if kind is DecisionKind.APPROVE]
            if detail.task.status is TaskStatus.APPROVED:
                assert len(set(approvers)) == len(approvers) == 2, verdicts
                assert detail.events[-1].payload["approvals"]["by"] == approvers
            else:
                assert detail.task.status is TaskStatus.REJECTED, verdicts
                assert [k for _, k in verdicts].count(DecisionKind.REJECT) == 1, verdicts
                assert len(approvers) <= 1, verdicts
        assert verify_store(engines[0]).ok


def _decide_at_once(
    made: Engine, task_id: str, who: str, rejecter: str | None, barrier: threading.Barrier
) -> None:
    rejecting = who == rejecter
    kind = DecisionKind.REJECT if rejecting else DecisionKind.APPROVE
    texts = {"reason": "no"} if rejecting else {}
    barrier.wait()
    with contextlib.suppress(ConflictError):  # decided first by others: told, nothing changes
        decide(made, task_id, who, kind, **texts)


def test_bad_policies_are_refused_naming_the_kind_and_the_setting(tmp_path: Path) -> None:
    from placet.config import load_settings

    cases = {
        'reviewers = ["group:finance"]': "[kinds.clause] reviewers: unknown group 'finance'",
        'reviewers = ["group:legal"]\napprovals = 4': "[kinds.clause] approvals = 4, but only 3",
        "approvals = 0": "[kinds.clause]: approvals must be a whole number from 1 to 100",
        'approvals = "two"': "[kinds.clause]: approvals must be a whole number",
    }
    for setting, message in cases.items():
        (tmp_path / "placet.toml").write_text(
            '[groups]\nlegal = ["ana", "li", "omar"]\n\n'
            f'[kinds.clause]\ntemplate = "About {{topic}}."\n{setting}\n',
            encoding="utf-8",
        )
        with pytest.raises(ConfigError) as caught:
            load_settings(tmp_path)
        assert message in str(caught.value), (setting, str(caught.value))
    engine = make_engine(f"sqlite:///{tmp_path / 'placet.db'}")
    try:
        with pytest.raises(ConfigError, match="unknown group 'ops'"):
            engine.register_kind(TaskKind("ops_note", "x", reviewers=("group:ops",)))
    finally:
        engine.store.close()


def test_an_approval_seen_before_anothers_approval_counts_but_not_before_an_edit(
    engine: Engine,
) -> None:
    task_id = drafted(engine)
    seen = engine.get(task_id)
    draft_id = seen.current_draft_id
    decide(engine, task_id, "ana", DecisionKind.APPROVE)  # the same text, counted
    late = DecisionRequest(task_id, DecisionKind.APPROVE, person("li"), draft_id, seen.version)
    assert engine.decide(late).status is TaskStatus.APPROVED

    task_id = drafted(engine)
    seen = engine.get(task_id)
    decide(engine, task_id, "ana", DecisionKind.EDIT, text="Liability is capped.")
    stale = DecisionRequest(
        task_id, DecisionKind.APPROVE, person("li"), seen.current_draft_id, seen.version
    )
    with pytest.raises(ConflictError, match="changed since you looked"):
        engine.decide(stale)  # li saw the text before ana's edit: not what is under approval
    assert engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
