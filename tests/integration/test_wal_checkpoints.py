"""The SQLite store copies its WAL back into the database on a thread of its own."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import TaskKind
from placet.domain.queries import TaskFilter
from placet.engine import Engine
from placet.store import checkpoints
from placet.store.sql import SqlStore
from placet.store.sqlite import SqliteBackend
from placet.testing import FakeProvider, temp_store

THREAD_NAME = "placet-wal-checkpoint"


def engine_on(store: SqlStore) -> Engine:
    kind = TaskKind(name="onboarding_email", template="Welcome {name}.")
    settings = Settings(database_url=store.url, kinds={kind.name: kind})
    return Engine(store, settings, provider_for=lambda _m: FakeProvider())


def submit(engine: Engine, count: int) -> None:
    for index in range(count):
        engine.submit("onboarding_email", {"name": f"user{index}"}, "dev")


def checkpointer_of(store: SqlStore) -> checkpoints.WalCheckpointer:
    backend = store._db
    assert isinstance(backend, SqliteBackend)
    return backend._checkpointer


def wait_for_checkpoints(store: SqlStore, at_least: int) -> None:
    deadline = time.monotonic() + 10
    while checkpointer_of(store).completed < at_least:
        assert time.monotonic() < deadline, "no background checkpoint ran"
        time.sleep(0.01)


def tasks_in_the_database_file_alone(db: Path, scratch: Path) -> int:
    """Tasks in the main file, leaving out what is still only in the WAL."""
    copy = scratch / "copy.db"
    shutil.copyfile(db, copy)
    with closing(sqlite3.connect(copy)) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        if "tasks" not in tables:  # even the schema is still only in the WAL
            return 0
        (count,) = conn.execute("SELECT count(*) FROM tasks").fetchone()
    return int(count)


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


@pytest.fixture
def every_five(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints, "COMMITS_PER_CHECKPOINT", 5)


@pytest.mark.usefixtures("every_five")
def test_commits_reach_the_database_file_without_a_writer_checkpointing(tmp_path: Path) -> None:
    store = temp_store(tmp_path / "db")
    engine = engine_on(store)
    db = tmp_path / "db" / "placet.db"
    submit(engine, 4)  # below the count: everything is still in the WAL only
    assert tasks_in_the_database_file_alone(db, tmp_path) == 0
    submit(engine, 8)  # the 5th and 10th commits wake the thread
    wait_for_checkpoints(store, 1)
    # SQLite's own checkpoint comes only after 10,000 WAL pages: the thread copied these.
    assert tasks_in_the_database_file_alone(db, tmp_path) >= 5
    assert len(engine.list_tasks(TaskFilter())) == 12
    store.close()


@pytest.mark.usefixtures("every_five")
def test_closing_the_store_stops_its_thread(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    submit(engine_on(store), 5)
    wait_for_checkpoints(store, 1)
    assert checkpoint_threads()
    store.close()
    assert not checkpoint_threads()


def test_a_store_that_commits_a_little_starts_no_thread(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    submit(engine_on(store), 3)
    assert not checkpoint_threads()
    assert checkpointer_of(store).completed == 0
    store.close()


def test_zero_turns_background_checkpoints_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "COMMITS_PER_CHECKPOINT", 0)
    store = temp_store(tmp_path)
    submit(engine_on(store), 20)
    assert not checkpoint_threads()
    store.close()


@pytest.mark.usefixtures("every_five")
def test_a_forked_child_checkpoints_on_a_thread_of_its_own(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    engine = engine_on(store)
    submit(engine, 5)
    wait_for_checkpoints(store, 1)
    before = checkpointer_of(store).completed
    pid = os.fork()
    if pid == 0:  # the parent's thread does not exist here: the child must start its own
        try:
            submit(engine, 5)
            deadline = time.monotonic() + 10
            while checkpointer_of(store).completed == before and time.monotonic() < deadline:
                time.sleep(0.01)
            os._exit(0 if checkpointer_of(store).completed > before else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.close()
