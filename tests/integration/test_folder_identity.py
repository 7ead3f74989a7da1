"""Who decides a moved review file: the folder's identity, checked by the engine's policy.

A name written in the file never decides; once accounts exist, a decision the
policy refuses moves the file to _bad/ with the reason beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.config import Settings, default_actor
from placet.domain.models import TaskKind, TaskStatus
from placet.engine import Engine
from placet.testing import FakeProvider, temp_store
from tests.integration.test_folder_channel import Env, decided, move, read_json

PASSWORD = "s3cret-pass"
KINDS = {
    "note": TaskKind(name="note", template="Write a short note about {topic}.", max_attempts=3),
    "contract": TaskKind(name="contract", template="Review {topic}.", reviewers=("lena",)),
}


def make_env(tmp_path: Path, review_as: str | None, accounts: bool = True) -> Env:
    store = temp_store(tmp_path / "db")
    settings = Settings(kinds=KINDS, review_dir=tmp_path / "human_feedback", review_as=review_as)
    provider = FakeProvider()
    engine = Engine(store, settings, provider_for=lambda _name: provider)
    if accounts:
        engine.accounts.add_user("rita", PASSWORD, "requester,reviewer")
        engine.accounts.add_user("lena", PASSWORD, "reviewer")
        engine.accounts.add_user("otto", PASSWORD, "reviewer")
    return Env(engine, store, settings.review_dir)


@pytest.fixture
def envs(tmp_path: Path) -> Iterator[list[Env]]:
    made: list[Env] = []
    yield made
    for env in made:
        env.store.close()


def drafted_file(env: Env, requester: str, kind: str = "note") -> tuple[str, Path]:
    task = env.engine.submit(kind, {"topic": "tea"}, requester, claim_as="worker")
    env.engine.draft(task, "worker")
    env.channel().sync()
    return task.id, env.path("pending", f"{task.id}.json")


def bad_reason(env: Env, name: str) -> str:
    assert env.path("_bad", name).exists(), f"{name} was not quarantined"
    return env.path("_bad", f"{name}.error.txt").read_text(encoding="utf-8")


def test_a_name_written_in_the_file_does_not_decide(tmp_path: Path, envs: list[Env]) -> None:
    env = make_env(tmp_path, review_as="otto")
    envs.append(env)
    task_id, pending = drafted_file(env, requester="rita")
    move(pending, "approved", {"reviewer": "lena"})
    env.channel().sync()
    reason = bad_reason(env, f"{task_id}.json")
    assert "names reviewer 'lena'" in reason and "decides as 'otto'" in reason
    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
    refused = [e for e in env.engine.accounts.security_events() if e.outcome == "refused"]
    assert refused and refused[0].actor == "otto" and refused[0].target == task_id


def test_the_requester_cannot_approve_their_own_file(tmp_path: Path, envs: list[Env]) -> None:
    env = make_env(tmp_path, review_as="rita")
    envs.append(env)
    task_id, pending = drafted_file(env, requester="rita")
    move(pending, "approved")
    env.channel().sync()
    assert "rita asked for task" in bad_reason(env, f"{task_id}.json")
    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW


def test_a_reviewer_outside_the_kinds_list_cannot_decide(tmp_path: Path, envs: list[Env]) -> None:
    env = make_env(tmp_path, review_as="otto")
    envs.append(env)
    task_id, pending = drafted_file(env, requester="rita", kind="contract")
    move(pending, "rejected", {"reason": "no"})
    env.channel().sync()
    assert "otto does not review contract tasks" in bad_reason(env, f"{task_id}.json")
    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW


def test_the_configured_identity_decides_and_the_audit_says_so(
    tmp_path: Path, envs: list[Env]
) -> None:
    env = make_env(tmp_path, review_as="lena")
    envs.append(env)
    task_id, pending = drafted_file(env, requester="rita", kind="contract")
    target = move(pending, "approved", {"reviewer": "lena"})  # the same name: fine
    env.channel().sync()
    assert env.engine.get(task_id).status is TaskStatus.APPROVED
    record = decided(target)
    assert record is not None and record["actor"] == "lena"
    payload = env.engine.detail(task_id).events[-1].payload
    assert payload["channel"] == "folder" and "mode" not in payload


def test_without_review_as_the_user_running_placet_needs_an_account(
    tmp_path: Path, envs: list[Env]
) -> None:
    env = make_env(tmp_path, review_as=None)
    envs.append(env)
    task_id, pending = drafted_file(env, requester="rita")
    move(pending, "approved")
    env.channel().sync()
    assert f"{default_actor()} has no Placet account" in bad_reason(env, f"{task_id}.json")
    assert "review_as" in bad_reason(env, f"{task_id}.json")  # says how to fix it


def test_single_user_mode_keeps_the_seeds_flow(tmp_path: Path, envs: list[Env]) -> None:
    env = make_env(tmp_path, review_as=None, accounts=False)
    envs.append(env)
    me = default_actor()
    task_id, pending = drafted_file(env, requester=me)
    target = move(pending, "approved", {"reviewer": "Ana"})
    env.channel().sync()
    assert env.engine.get(task_id).status is TaskStatus.APPROVED
    record = read_json(target)["decision"]
    assert record["actor"] == "Ana"  # the name the one person gave, kept as given
    payload = env.engine.detail(task_id).events[-1].payload
    assert payload["mode"] == "single_user" and payload["entered_by"] == me


def test_a_folder_whose_identity_cannot_decide_says_so_as_it_starts(
    tmp_path: Path, envs: list[Env]
) -> None:
    env = make_env(tmp_path, review_as="nobody")
    envs.append(env)
    with env.channel():
        pass
    (warning,) = [m for m in env.messages if m.startswith("warning:")]
    assert "decides as nobody" in warning and "review_as" in warning
    quiet = make_env(tmp_path / "other", review_as="otto")
    envs.append(quiet)
    with quiet.channel():
        pass
    assert not [m for m in quiet.messages if m.startswith("warning:")]
