"""The review folder stays in its folder: symbolic links in it are never followed.

Each test puts real files and folders outside the review folder, points links at
them from inside it, and checks that Placet moved the links (never their
targets) and that every outside file is still there, byte for byte.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.channels.folder_fs import FolderLock, UnsafeFolderError
from placet.channels.folder_watch import FolderWatcher
from placet.config import Settings
from placet.domain.models import TaskKind, TaskStatus
from placet.engine import Engine
from placet.testing import FakeProvider, temp_store
from tests.integration.test_folder_channel import Env, eventually, read_json

FOLDERS = ("pending", "approved", "rejected", "_bad", ".tmp")
Snapshot = dict[str, tuple[str, bytes, int, int, int]]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = temp_store(tmp_path / "db")
    kind = TaskKind(name="note", template="Write a short note about {topic}.", max_attempts=3)
    settings = Settings(kinds={"note": kind}, review_dir=tmp_path / "human_feedback")
    provider = FakeProvider()
    engine = Engine(store, settings, provider_for=lambda _name: provider)
    yield Env(engine, store, settings.review_dir)
    store.close()
    left = [t.name for t in threading.enumerate() if t.name.startswith("placet-folder")]
    assert not left, f"threads still running: {left}"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the review folder, holding files nobody may touch through it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"the payroll\n")
    (folder / "notes.json").write_bytes(b'{"not": "a review file"}\n')
    return folder


def snapshot(folder: Path) -> Snapshot:
    """Every entry under a folder: its kind, bytes, inode, links and modification time."""
    seen: Snapshot = {}
    for path in sorted(folder.rglob("*")):
        status = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        data = path.read_bytes() if kind == "file" else b""
        relative = str(path.relative_to(folder))
        seen[relative] = (kind, data, status.st_ino, status.st_nlink, status.st_mtime_ns)
    return seen


def published(env: Env, topic: str = "tea") -> tuple[str, dict[str, object]]:
    """A drafted task and its pending document, written by a sync."""
    task = env.engine.submit("note", {"topic": topic}, "requester", claim_as="worker")
    env.engine.draft(task, "worker")
    env.channel().sync()
    return task.id, read_json(env.path("pending", f"{task.id}.json"))


def quarantined_link(env: Env, name: str, target: Path) -> str:
    """Assert ``_bad/name`` is the link itself, still pointing where it did; its error text."""
    moved = env.path("_bad", name)
    assert moved.is_symlink(), f"_bad/{name} is not the link: {sorted(os.listdir(moved.parent))}"
    assert os.readlink(moved) == str(target)
    return env.path("_bad", f"{name}.error.txt").read_text(encoding="utf-8")


# -- links to files -------------------------------------------------------------------------


def test_a_link_in_approved_to_a_valid_review_file_outside_decides_nothing(
    env: Env, outside: Path
) -> None:
    task_id, document = published(env)
    forged = outside / "forged.json"
    forged.write_text(json.dumps(document), encoding="utf-8")  # a valid file, but outside
    before = snapshot(outside)
    os.symlink(forged, env.path("approved", f"{task_id}.json"))

    env.channel().sync()

    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
    assert env.engine.detail(task_id).decisions == []
    error = quarantined_link(env, f"{task_id}.json", forged)
    assert "is a symbolic link" in error and "The link was moved here" in error
    assert "what it points to was not read, moved or changed" in error
    assert snapshot(outside) == before
    assert any("is a symbolic link" in m for m in env.messages)


@pytest.mark.parametrize("folder", ["approved", "rejected", "pending"])
def test_links_to_outside_files_are_quarantined_as_links(
    env: Env, outside: Path, folder: str
) -> None:
    task_id, _ = published(env)
    before = snapshot(outside)
    os.symlink(outside / "secret.txt", env.path(folder, "secret.txt"))
    os.symlink(outside / "notes.json", env.path(folder, "notes.json"))
    os.symlink(outside / "gone.json", env.path(folder, "dangling.json"))  # points nowhere
    os.symlink(outside, env.path(folder, "folder.json"))  # a link to a folder

    env.channel().sync()

    for name, target in (
        ("secret.txt", outside / "secret.txt"),
        ("notes.json", outside / "notes.json"),
        ("dangling.json", outside / "gone.json"),
        ("folder.json", outside),
    ):
        assert "is a symbolic link" in quarantined_link(env, name, target)
        assert not os.path.lexists(env.path(folder, name))
    assert snapshot(outside) == before
    assert not (outside / "gone.json").exists()  # nothing was created through the link
    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
    assert env.path("pending", f"{task_id}.json").is_file()  # the real file is untouched


def test_a_pending_file_replaced_by_a_link_is_quarantined_and_published_again(
    env: Env, outside: Path
) -> None:
    task_id, document = published(env)
    (outside / "copy.json").write_text(json.dumps(document), encoding="utf-8")
    before = snapshot(outside)
    pending = env.path("pending", f"{task_id}.json")
    pending.unlink()
    os.symlink(outside / "copy.json", pending)

    env.channel().sync()

    quarantined_link(env, f"{task_id}.json", outside / "copy.json")
    assert pending.is_file() and not pending.is_symlink()  # a fresh copy, written by Placet
    assert read_json(pending)["draft_id"] == document["draft_id"]
    assert snapshot(outside) == before


def test_a_file_swapped_for_a_link_after_it_was_listed_is_not_followed(
    env: Env, outside: Path
) -> None:
    """``process`` on a path that became a link (the race between listing and opening)."""
    task_id, document = published(env)
    (outside / "forged.json").write_text(json.dumps(document), encoding="utf-8")
    before = snapshot(outside)
    target = env.path("approved", f"{task_id}.json")
    os.symlink(outside / "forged.json", target)

    env.channel().process(target)

    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
    quarantined_link(env, target.name, outside / "forged.json")
    assert snapshot(outside) == before


def test_a_moved_file_is_still_decided_through_a_running_channel(env: Env, outside: Path) -> None:
    """Links are refused, real files still work, in the same pass."""
    task_id, document = published(env)
    (outside / "forged.json").write_text(json.dumps(document), encoding="utf-8")
    before = snapshot(outside)
    os.symlink(outside / "forged.json", env.path("rejected", "forged.json"))
    with env.channel():
        os.replace(env.path("pending", f"{task_id}.json"), env.path("approved", f"{task_id}.json"))
        env.wait_status(task_id, TaskStatus.APPROVED)
        eventually(env.path("_bad", "forged.json").is_symlink, "the link in _bad/")
    assert snapshot(outside) == before


# -- folders that are links -------------------------------------------------------------------


def test_a_linked_rejected_folder_moves_nothing_out_of_the_folder_it_points_to(
    env: Env, outside: Path
) -> None:
    """Once, Placet moved every file of the folder a linked rejected/ pointed to into _bad/."""
    task_id, document = published(env)
    (outside / "forged.json").write_text(json.dumps(document), encoding="utf-8")
    (outside / "sub").mkdir()
    (outside / "sub" / "deep.txt").write_bytes(b"deeper\n")
    env.channel().sync()
    (env.root / "rejected").rmdir()
    os.symlink(outside, env.root / "rejected")
    os.replace(env.path("pending", f"{task_id}.json"), env.path("approved", f"{task_id}.json"))
    before, bad_before = snapshot(outside), snapshot(env.root / "_bad")

    with pytest.raises(UnsafeFolderError, match=r"rejected is a symbolic link"):
        env.channel().sync()
    with env.channel():  # running, it says so once and keeps going; it does not crash
        pass

    assert snapshot(outside) == before
    assert snapshot(env.root / "_bad") == bad_before
    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW  # approved/ left alone
    warnings = [m for m in env.messages if "symbolic link" in m]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert "\n" not in warnings[0] and "rejected" in warnings[0]
    assert os.readlink(env.root / "rejected") == str(outside)  # the link itself is left as is


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_folder_of_the_review_folder_may_be_a_link(env: Env, outside: Path, folder: str) -> None:
    task_id, document = published(env)
    (outside / f"{task_id}.json").write_text(json.dumps(document), encoding="utf-8")
    real = env.root / folder
    for child in real.iterdir():  # keep what was there, out of the way
        os.replace(child, env.root.parent / f"kept-{child.name}")
    real.rmdir()
    os.symlink(outside, real)
    before = snapshot(outside)

    with pytest.raises(UnsafeFolderError, match=rf"{folder} is a symbolic link"):
        env.channel().sync()
    assert env.channel().publish(env.engine.get(task_id)) is None  # refused, said, not raised
    with env.channel():
        pass

    assert snapshot(outside) == before  # no lock file, no temp file, no move, no decision
    assert env.engine.get(task_id).status is TaskStatus.AWAITING_REVIEW
    assert any(m.startswith("warning: ") and folder in m for m in env.messages)


def test_a_folder_that_is_a_file_is_refused_too(env: Env) -> None:
    env.root.mkdir(parents=True)
    (env.root / "approved").write_bytes(b"not a folder")
    with pytest.raises(UnsafeFolderError, match="approved is not a folder"):
        env.channel().sync()
    assert (env.root / "approved").read_bytes() == b"not a folder"


def test_the_channel_resumes_once_the_link_is_replaced_by_a_folder(env: Env, outside: Path) -> None:
    before = snapshot(outside)
    env.root.mkdir(parents=True)
    os.symlink(outside, env.root / "approved")
    with env.channel():
        eventually(lambda: any("symbolic link" in m for m in env.messages), "the refusal")
        (env.root / "approved").unlink()
        (env.root / "approved").mkdir()
        eventually(lambda: any("in use again" in m for m in env.messages), "the channel back")
        task = env.engine.submit("note", {"topic": "tea"}, "requester", claim_as="worker")
        env.engine.draft(task, "worker")
        pending = env.path("pending", f"{task.id}.json")
        eventually(pending.exists, "the pending file")
        os.replace(pending, env.path("approved", pending.name))
        env.wait_status(task.id, TaskStatus.APPROVED)
    assert snapshot(outside) == before


def test_descriptors_keep_pointing_at_the_real_folders(env: Env, outside: Path) -> None:
    """A folder swapped for a link while Placet works in it: the work stays in the real one."""
    env.channel().sync()
    before = snapshot(outside)
    with FolderLock(env.root) as tree:
        os.replace(env.root / "approved", env.root / "approved.real")
        os.symlink(outside, env.root / "approved")
        assert tree.listing("approved") == ([], [])  # the real folder, not outside's files
        tree.write(env.path("approved", "new.json"), b"{}\n")
    assert (env.root / "approved.real" / "new.json").read_bytes() == b"{}\n"
    assert snapshot(outside) == before


def test_the_review_folder_itself_may_be_a_link(env: Env, tmp_path: Path) -> None:
    """review_dir is the operator's own setting: a link there (a shared drive) is followed."""
    real = tmp_path / "shared" / "reviews"
    real.mkdir(parents=True)
    os.symlink(real, env.root)
    task_id, _ = published(env)
    assert (real / "pending" / f"{task_id}.json").is_file()
    mode = os.lstat(real / "pending").st_mode
    assert stat.S_ISDIR(mode)


def test_the_file_watcher_never_watches_through_a_link(env: Env, outside: Path) -> None:
    """A recursive watch would follow approved/ -> / and walk the whole disk."""
    (env.root / "pending").mkdir(parents=True)
    os.symlink(outside, env.root / "approved")
    watcher = FolderWatcher(env.root, lambda: None, env.engine, env.messages.append)
    root = env.root.resolve()
    assert watcher._targets() == [root, root / "pending"]


def test_other_links_in_the_root_are_left_alone_and_never_followed(env: Env, outside: Path) -> None:
    env.root.mkdir(parents=True)
    os.symlink(outside, env.root / "archive")
    os.symlink(outside / "secret.txt", env.root / "secret.json")
    before = snapshot(outside)
    task_id, _ = published(env)
    with env.channel():
        pass
    assert os.readlink(env.root / "archive") == str(outside)
    assert os.readlink(env.root / "secret.json") == str(outside / "secret.txt")
    assert snapshot(outside) == before
    assert env.path("pending", f"{task_id}.json").is_file()
