"""Where a quorum shows: the dashboard, the API, ``placet show`` and the review folder.

Each says ``1 of 2 approvals: NAME``; after an edit each shows the edited text as the
one under approval, and approving it unchanged counts (it is not another edit).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from placet.channels.folder import FolderChannel
from placet.config import Settings
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine, accounts
from placet.engine.auditing import verify_store
from placet.testing import FakeProvider, person, temp_store
from tests.integration.test_pages import decide
from tests.integration.web_helpers import WebWorld, serving, web_world

QUORUM = """\
[groups]
legal = ["rita", "rob", "ada"]
[kinds.onboarding_email]
template = "Welcome {name}."
reviewers = ["group:legal"]
approvals = 2
"""


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, toml=QUORUM) as found:
        for name in ("rita", "rob"):
            found.add_user(name, "reviewer")
        found.add_user("alice", "requester")
        yield found


def test_the_dashboard_and_the_api_show_the_count_and_the_text_under_approval(
    world: WebWorld,
) -> None:
    task = world.awaiting_review()
    rita, rita_csrf = world.session_client("rita")
    answer = decide(rita, rita_csrf, task, "approve")
    assert answer.status_code == 303 and "done=counted" in answer.headers["location"]
    page = rita.get(f"/tasks/{task.id}").text
    assert "1 of 2 approvals: rita" in page
    detail = world.client_as("rob").get(f"/api/v1/tasks/{task.id}").json()
    assert detail["status"] == "awaiting_review"
    assert detail["approvals"] == {
        "needed": 2,
        "approved_by": ["rita"],
        "shown": "1 of 2 approvals: rita",
    }
    # rob edits: his edit is his approval of the new text, and rita's no longer counts.
    task = world.engine.get(task.id)
    rob, rob_csrf = world.session_client("rob")
    edited = "Welcome aboard, Grace.\nThe Team"
    assert decide(rob, rob_csrf, task, "edit", text=edited).status_code == 303
    page = rita.get(f"/tasks/{task.id}").text
    assert "1 of 2 approvals: rob" in page and "Text under approval (as rob edited it)" in page
    assert "Welcome aboard, Grace." in page
    task = world.engine.get(task.id)
    assert decide(rita, rita_csrf, task, "approve").status_code == 303
    done = world.engine.get(task.id)
    assert done.status is TaskStatus.APPROVED and done.final_output == edited
    assert world.client_as("rob").get(f"/api/v1/tasks/{task.id}").json()["approvals"] is None


def test_the_review_folder_counts_an_approval_and_shows_the_edited_text(tmp_path: Path) -> None:
    store = temp_store(tmp_path / "db")
    kind = TaskKind(name="note", template="A note about {topic}.", approvals=2)
    settings = Settings(kinds={"note": kind}, review_dir=tmp_path / "review", review_as="ana")
    provider = FakeProvider()
    engine = Engine(store, settings, provider_for=lambda _name: provider)
    for name in ("ana", "li"):
        engine.accounts.add_user(name, "s3cret-pass", ["reviewer"])
    pending = settings.review_dir / "pending"
    try:
        said: list[str] = []
        with FolderChannel(engine, settings.review_dir, on_message=said.append):
            task = engine.submit("note", {"topic": "tea"}, "rita", claim_as="w")
            task = engine.draft(task, "w")
            # li edits through another door first; the file then shows li's text.
            edited = "Tea at four.\nAna and Li"
            engine.decide(DecisionRequest(task.id, DecisionKind.EDIT, person("li"), text=edited))
            path = pending / f"{task.id}.json"
            document = _eventually(lambda: _with_text(path, edited))
            assert document["approvals"] == "1 of 2 approvals: li"
            os.replace(path, settings.review_dir / "approved" / path.name)  # moved unchanged
            done = engine.wait(task.id, lambda t: t.status.is_final, 10)
        assert done.status is TaskStatus.APPROVED and done.final_output == edited, said
        kinds = [d.kind for d in engine.detail(task.id).decisions]
        assert kinds == [DecisionKind.EDIT, DecisionKind.APPROVE]  # ana's was an approval
    finally:
        store.close()


def _with_text(path: Path, text: str) -> dict[str, object] | None:
    if not path.exists():
        return None
    document: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return document if document.get("draft") == text else None


def _eventually(probe):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_three_reviewers_deciding_at_once_over_http_never_approve_on_one(
    tmp_path: Path,
) -> None:
    """2-of-3 through the REST API of a real server: 100 tasks, three reviewers posting
    their decisions at the same moment; every task ends approved by exactly two different
    people, or rejected once; the audit verifies."""
    with web_world(tmp_path, toml=QUORUM) as world:
        people = ("rita", "rob", "ada")
        for name in people:
            world.add_user(name, "reviewer")
        tokens = {name: world.token(name) for name in people}
        tasks = [world.awaiting_review() for _ in range(100)]
        answers: list[tuple[int, str]] = []
        with serving(world.app) as live, httpx.Client(base_url=live.url, timeout=30) as http:
            for index, task in enumerate(tasks):
                rejecter = people[index % 3] if index % 10 == 0 else None
                barrier = threading.Barrier(3)

                def post(
                    who: str,
                    task: Task = task,
                    rejecter: str | None = rejecter,
                    barrier: threading.Barrier = barrier,
                ) -> None:
                    body: dict[str, object] = {
                        "kind": "approve",
                        "draft_id": task.current_draft_id,
                        "version": task.version,  # as each saw it, before the others decided
                    }
                    if who == rejecter:
                        body = {**body, "kind": "reject", "reason": "no"}
                    barrier.wait()
                    answer = http.post(
                        f"/api/v1/tasks/{task.id}/decisions",
                        json=body,
                        headers={"Authorization": f"Bearer {tokens[who]}"},
                    )
                    answers.append((answer.status_code, answer.text))

                threads = [threading.Thread(target=post, args=(who,)) for who in people]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
        assert len(answers) == 300
        assert all(code in (200, 409) for code, _ in answers), answers
        for task in tasks:
            detail = world.engine.detail(task.id)
            verdicts = [(d.actor, d.kind) for d in detail.decisions]
            approvers = [actor for actor, kind in verdicts if kind is DecisionKind.APPROVE]
            if detail.task.status is TaskStatus.APPROVED:
                assert len(set(approvers)) == len(approvers) == 2, verdicts
            else:
                assert detail.task.status is TaskStatus.REJECTED, verdicts
                assert [k for _, k in verdicts].count(DecisionKind.REJECT) == 1, verdicts
                assert len(approvers) <= 1, verdicts
        assert verify_store(world.engine).ok
