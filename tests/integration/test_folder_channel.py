"""The review folder through the real watcher thread, a real folder and a SQLite store."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from placet.channels.folder import FolderChannel
from placet.config import Settings, default_actor
from placet.domain.learning import Learning
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine
from placet.errors import ConflictError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person, temp_store

WAIT_SECONDS = 5.0
T = TypeVar("T")


@dataclass
class Env:
    """An engine on a temp store, a review folder, and what the channel said."""

    engine: Engine
    store: SqlStore
    root: Path
    messages: list[str] = field(default_factory=list)

    def channel(self) -> FolderChannel:
        return FolderChannel(self.engine, self.root, on_message=self.messages.append)

    def drafted(self, topic: str = "tea") -> Task:
        task = self.engine.submit("note", {"topic": topic}, "requester", claim_as="worker")
        return self.engine.draft(task, "worker")

    def path(self, folder: str, name: str) -> Path:
        return self.root / folder / name

    def wait_status(self, task_id: str, *statuses: TaskStatus) -> Task:
        task = self.engine.wait(task_id, lambda t: t.status in statuses, WAIT_SECONDS)
        assert task.status in statuses, f"task is {task.status.value}; messages: {self.messages}"
        return task


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = temp_store(tmp_path / "db")
    kind = TaskKind(name="note", template="Write a short note about {topic}.", max_attempts=3)
    settings = Settings(kinds={"note": kind}, review_dir=tmp_path / "human_feedback")
    provider = FakeProvider()
    engine = Engine(store, settings, provider_for=lambda _name: provider)
    yield Env(engine, store, settings.review_dir)
    store.close()


@pytest.fixture
def running(env: Env) -> Iterator[Env]:
    with env.channel():
        yield env


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("placet-folder")]
    assert not left, f"threads still running: {left}"


def eventually(probe: Callable[[], T | None], what: str) -> T:
    """Poll until ``probe`` gives a value; fail after a bounded wait."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = probe()
        if value is not None and value is not False:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def decided(path: Path) -> dict[str, Any] | None:
    """The file's decision object, once it has one."""
    if not path.exists():
        return None
    decision: dict[str, Any] | None = read_json(path).get("decision")
    return decision


def pending_file(env: Env, task: Task) -> Path:
    path = env.path("pending", f"{task.id}.json")
    eventually(path.exists, f"{path} to appear")
    return path


def move(path: Path, folder: str, edit: dict[str, Any] | None = None) -> Path:
    """What a reviewer does: optionally edit the file in place, then move it."""
    if edit:
        document = read_json(path)
        document.update(edit)
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    target = path.parent.parent / folder / path.name
    os.replace(path, target)
    return target


# -- publishing ---------------------------------------------------------------------


def test_a_draft_appears_in_pending_readable_by_a_person(running: Env) -> None:
    task = running.drafted(topic="Zoë's café")
    path = pending_file(running, task)
    raw = path.read_bytes()
    document = read_json(path)
    assert "Zoë's café".encode() in raw  # non-ASCII kept as is
    assert raw.startswith(b'{\n  "task_id"')  # indented for people
    assert document["task_id"] == task.id
    assert document["kind"] == "note"
    assert document["input"] == {"topic": "Zoë's café"}
    assert document["draft"] == running.engine.store.get_draft(task.current_draft_id or "").output
    assert document["draft_id"] == task.current_draft_id
    assert document["task_version"] == task.version
    assert document["attempt"] == 1
    assert document["feedback"] == "" and document["reason"] == ""
    assert "approved/" in " ".join(document["how_to_decide"])
    assert "decision" not in document
    assert not list((running.root / ".tmp").glob("*.part"))  # temp files cleaned up
    assert running.channel().publish(task) == path  # idempotent: the file is left as it is
    assert path.read_bytes() == raw


# -- decisions by moving files ------------------------------------------------------------


def test_moving_to_approved_approves_and_records_the_decision(running: Env) -> None:
    task = running.drafted()
    target = move(pending_file(running, task), "approved")
    done = running.wait_status(task.id, TaskStatus.APPROVED)
    draft = running.engine.store.get_draft(task.current_draft_id or "")
    assert done.final_output == draft.output
    decision = eventually(lambda: decided(target), "the decision in the approved file")
    assert decision["kind"] == "approve"
    # No accounts: the one local person who runs Placet decides, and the audit says how.
    assert decision["actor"] == default_actor()
    assert decision["status"] == "approved"
    assert "T" in decision["at"]
    event = running.engine.detail(task.id).events[-1]
    assert event.payload["channel"] == "folder" and event.payload["mode"] == "single_user"
    # Said just after the file is written back: wait for it, do not race it.
    said = f"approved {task.id} ({default_actor()})"
    eventually(lambda: any(m.startswith(said) for m in running.messages), "the approval message")
    assert not running.path("pending", f"{task.id}.json").exists()


def test_changing_the_draft_then_approving_records_an_edit_with_a_diff(running: Env) -> None:
    task = running.drafted()
    edit = {"draft": "Dear team,\nhere is my own text.", "reviewer": "alice"}
    target = move(pending_file(running, task), "approved", edit)
    done = running.wait_status(task.id, TaskStatus.APPROVED)
    assert done.final_output == "Dear team,\nhere is my own text."
    [stored] = running.engine.detail(task.id).decisions
    assert stored.kind is DecisionKind.EDIT
    assert stored.actor == "alice"
    assert stored.diff and "+here is my own text." in stored.diff
    decision = eventually(lambda: decided(target), "the decision in the edited file")
    assert decision["kind"] == "edit" and decision["actor"] == "alice"
    assert "+here is my own text." in decision["diff"]


def test_feedback_in_rejected_asks_for_a_revision_and_the_next_draft_appears(
    running: Env,
) -> None:
    task = running.drafted()
    move(pending_file(running, task), "rejected", {"feedback": "Shorter, please."})
    queued = running.wait_status(task.id, TaskStatus.QUEUED)
    assert queued.pending_feedback == "Shorter, please."
    # The decided file keeps its record under a name the next draft cannot overwrite.
    kept = running.path("rejected", f"{task.id}.attempt-1.json")
    decision = eventually(lambda: decided(kept), "the revise decision")
    assert decision["kind"] == "revise" and decision["status"] == "queued"
    assert "new draft will appear in pending/" in decision["note"]

    claimed = running.engine.claim("worker", task.id)
    assert claimed is not None
    second = running.engine.draft(claimed, "worker")
    path = running.path("pending", f"{task.id}.json")
    document = eventually(
        lambda: path.exists() and read_json(path).get("draft_id") == second.current_draft_id,
        "the second draft in pending/",
    )
    assert document
    republished = read_json(path)
    assert republished["attempt"] == 2
    assert republished["earlier_feedback"][0]["feedback"] == "Shorter, please."


@pytest.mark.parametrize(
    ("reason", "recorded"),
    [("Off topic.", "Off topic."), ("", "rejected in the review folder")],
)
def test_rejected_without_feedback_rejects(running: Env, reason: str, recorded: str) -> None:
    task = running.drafted()
    target = move(pending_file(running, task), "rejected", {"reason": reason})
    running.wait_status(task.id, TaskStatus.REJECTED)
    [stored] = running.engine.detail(task.id).decisions
    assert stored.kind is DecisionKind.REJECT and stored.reason == recorded
    decision = eventually(lambda: decided(target), "the reject decision")
    assert decision["kind"] == "reject" and decision["status"] == "rejected"


# -- bad input ---------------------------------------------------------------------------


def drop(env: Env, folder: str, name: str, data: bytes) -> None:
    """Create a file elsewhere and move it in, as a reviewer would."""
    staging = env.root.parent / f"staging-{name}"
    staging.write_bytes(data)
    os.replace(staging, env.path(folder, name))


def quarantined(env: Env, name: str) -> tuple[bytes, str]:
    bad, error = env.path("_bad", name), env.path("_bad", f"{name}.error.txt")
    eventually(lambda: bad.exists() and error.exists(), f"_bad/{name} and its .error.txt")
    return bad.read_bytes(), error.read_text(encoding="utf-8")


def test_malformed_and_unknown_files_are_quarantined_with_the_bytes_kept(running: Env) -> None:
    task = running.drafted()
    pending_file(running, task)
    broken = b'{"task_id": "01J", "draft": '
    drop(running, "approved", "broken.json", broken)
    drop(running, "rejected", "notes.txt", b"remember the milk")
    unknown = dict(read_json(running.path("pending", f"{task.id}.json")), task_id="01NOSUCHTASK")
    drop(running, "approved", "unknown.json", json.dumps(unknown).encode())
    wrong_type = dict(read_json(running.path("pending", f"{task.id}.json")), feedback=42)
    drop(running, "rejected", "typed.json", json.dumps(wrong_type).encode())

    stale = dict(read_json(running.path("pending", f"{task.id}.json")))
    stale["task_version"] -= 1
    drop(running, "approved", "stale.json", json.dumps(stale).encode())

    data, error = quarantined(running, "broken.json")
    assert data == broken and "malformed JSON" in error and "What to do" in error
    data, error = quarantined(running, "notes.txt")
    assert data == b"remember the milk" and "not a .json file" in error
    data, error = quarantined(running, "unknown.json")
    assert json.loads(data) == unknown and "01NOSUCHTASK" in error
    data, error = quarantined(running, "typed.json")
    assert "'feedback' must be text" in error
    _, error = quarantined(running, "stale.json")
    assert "changed since you looked at it" in error
    # The same name again gets a new name in _bad/; nothing is overwritten.
    drop(running, "approved", "broken.json", b"{")
    eventually(running.path("_bad", "broken.1.json").exists, "_bad/broken.1.json")
    assert running.path("_bad", "broken.json").read_bytes() == broken
    assert running.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


# -- the folder mirrors the store -----------------------------------------------------------


def test_a_terminal_decision_moves_the_pending_file_out(running: Env) -> None:
    approved, revised = running.drafted("one"), running.drafted("two")
    for task in (approved, revised):
        pending_file(running, task)
    # Past the file watcher's first wake-up: from now on only the store's change
    # signal can tell the channel about these decisions.
    time.sleep(1.2)
    decide = running.engine.decide
    decide(DecisionRequest(approved.id, DecisionKind.APPROVE, person("bob")))
    decide(DecisionRequest(revised.id, DecisionKind.REVISE, person("bob"), feedback="More tea."))

    moved = running.path("approved", f"{approved.id}.json")
    decision = eventually(lambda: decided(moved), "the approved mirror")
    assert decision["kind"] == "approve" and decision["actor"] == "bob"
    assert "decided elsewhere: approve by bob" in decision["note"]
    stale = running.path("rejected", f"{revised.id}.attempt-1.json")
    decision = eventually(lambda: decided(stale), "the revised mirror")
    assert decision["kind"] == "revise" and decision["status"] == "queued"
    # A mirror is linked into place before the pending name is unlinked, so the two
    # names can coexist for an instant: wait for the pending ones to go.
    for task in (approved, revised):
        pending = running.path("pending", f"{task.id}.json")
        eventually(lambda p=pending: not p.exists(), f"{pending} to be gone")


def test_a_file_move_racing_a_terminal_decision_gives_exactly_one(running: Env) -> None:
    outcomes = set()
    for round_ in range(6):
        task = running.drafted(f"race {round_}")
        path = pending_file(running, task)
        target = running.path("approved", path.name)
        mover = threading.Thread(target=os.replace, args=(path, target))
        mover.start()
        if round_ % 2:
            time.sleep(0.15)  # let the watcher get there first in some rounds
        try:
            running.engine.decide(
                DecisionRequest(task.id, DecisionKind.REJECT, person("bob"), reason="no")
            )
            terminal_won = True
        except ConflictError:
            terminal_won = False
        mover.join()
        final = running.wait_status(task.id, TaskStatus.APPROVED, TaskStatus.REJECTED)
        assert len(running.engine.detail(task.id).decisions) == 1
        if terminal_won:
            assert final.status is TaskStatus.REJECTED
            _, error = quarantined(running, path.name)
            assert "nothing was changed" in error and "decided elsewhere" in error
        else:
            assert final.status is TaskStatus.APPROVED
            assert eventually(lambda t=target: decided(t), "the folder's decision")
        outcomes.add(terminal_won)
    assert outcomes  # both orders are legal; each must leave one decision and no lost file


def test_a_processed_file_is_never_processed_twice(env: Env) -> None:
    with env.channel():
        task = env.drafted()
        target = move(pending_file(env, task), "approved")
        env.wait_status(task.id, TaskStatus.APPROVED)
        eventually(lambda: decided(target), "the decision")
    before = target.read_bytes()
    events = len(env.engine.events([task.id])[task.id])
    # A hand-made file that already holds a decision must not decide a live task either.
    other = env.drafted("other")
    env.channel().sync()
    copy = read_json(env.path("pending", f"{other.id}.json"))
    copy["decision"] = {"kind": "approve", "actor": "someone"}
    drop(env, "approved", f"{other.id}.json", json.dumps(copy).encode())

    with env.channel():  # restart over the same folder
        time.sleep(0.5)  # give a wrong second decision the chance to happen
    assert target.read_bytes() == before
    assert len(env.engine.events([task.id])[task.id]) == events
    assert len(env.engine.detail(task.id).decisions) == 1
    assert env.engine.get(other.id).status is TaskStatus.AWAITING_REVIEW
    assert not list((env.root / "_bad").iterdir())


def test_moves_and_decisions_made_while_stopped_are_caught_up_at_start(env: Env) -> None:
    moved, decided_elsewhere = env.drafted("moved"), env.drafted("elsewhere")
    env.channel().sync()
    target = move(env.path("pending", f"{moved.id}.json"), "approved")
    env.engine.decide(
        DecisionRequest(decided_elsewhere.id, DecisionKind.REJECT, person("bob"), reason="x")
    )
    with env.channel():
        assert env.engine.get(moved.id).status is TaskStatus.APPROVED
        assert decided(target)
        mirror = env.path("rejected", f"{decided_elsewhere.id}.json")
        assert (decided(mirror) or {}).get("actor") == "bob"


def test_a_draft_repeating_an_example_says_so_in_its_pending_file(tmp_path: Path) -> None:
    store = temp_store(tmp_path / "db")
    kind = TaskKind(name="note", template="Write a note about {topic}.", learn=Learning(examples=1))
    settings = Settings(kinds={"note": kind}, review_dir=tmp_path / "human_feedback")
    provider = FakeProvider()
    env = Env(Engine(store, settings, provider_for=lambda _name: provider), store, tmp_path)
    env.root = settings.review_dir
    first = env.drafted("tea")
    env.engine.decide(DecisionRequest(first.id, DecisionKind.APPROVE, person("rita")))
    again = env.drafted("tea")  # the fake writes its example again, one word apart
    try:
        with env.channel():
            path = pending_file(env, again)
            assert read_json(path)["copies_example"].startswith(
                f"This draft repeats the approved task {first.id} nearly word for word ("
            )
            # Left in the file the reviewer approves: information, not an error.
            move(path, "approved")
            env.wait_status(again.id, TaskStatus.APPROVED)
    finally:
        store.close()
