"""The SQLite store's connections and writer lock across threads and forks."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import TaskKind
from placet.domain.queries import TaskFilter
from placet.engine import Engine
from placet.errors import StoreError
from placet.store import sqlite
from placet.store.sql import SqlStore
from placet.store.sqlite import SqliteBackend
from placet.testing import FakeProvider, temp_store


def test_a_forked_child_opens_its_own_connection_and_can_write(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    backend = store._db
    assert isinstance(backend, SqliteBackend)
    parent_conn = backend._connections.get()
    pid = os.fork()
    if pid == 0:  # the child: a connection of its own, and it works
        try:
            own = backend._connections.get()
            own.execute("CREATE TABLE forked (n INTEGER)")
            os._exit(0 if own is not parent_conn else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert backend._connections.get() is parent_conn  # the parent's is untouched
    store.close()


def test_each_thread_has_its_own_connection(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    backend = store._db
    assert isinstance(backend, SqliteBackend)
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(backend._connections.get()))
    thread.start()
    thread.join()
    assert seen[0] is not backend._connections.get()
    store.close()


def _submit_from_threads(store: SqlStore, threads: int, each: int) -> list[BaseException]:
    kind = TaskKind(name="onboarding_email", template="Welcome {name}.")
    settings = Settings(database_url=store.url, kinds={kind.name: kind})
    engine = Engine(store, settings, provider_for=lambda _m: FakeProvider())
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for index in range(each):
            try:
                task = engine.submit("onboarding_email", {"name": f"n{index}"}, "dev", claim_as="w")
                engine.draft(task, "w")
            except StoreError as exc:
                errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_writers_in_one_process_take_turns_before_sqlite_sees_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no busy timeout at all, two connections that both tried to write
    # at once would fail at once ("database is locked"): none may.
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_SECONDS", 0)
    store = temp_store(tmp_path)
    try:
        assert _submit_from_threads(store, threads=8, each=25) == []
        assert len(store.list_tasks(TaskFilter(limit=500))) == 200
    finally:
        store.close()


def test_a_writer_lock_held_at_a_fork_does_not_block_the_child(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    backend = store._db
    assert isinstance(backend, SqliteBackend)
    turn = sqlite._writer_locks[backend._lock_key]
    # Another thread has its turn (before its BEGIN: SQLite itself cannot be
    # forked mid-transaction) when the process forks.
    assert turn.acquire()
    pid = os.fork()
    if pid == 0:  # the child: the thread holding the parent's lock does not exist here
        try:
            backend.extend_lease("none", "nobody", 0.0)  # a write: it needs a turn
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    turn.release()
    assert os.waitstatus_to_exitcode(status) == 0
    store.close()


def _page_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        return int(size)
    finally:
        conn.close()


def test_a_new_database_is_made_with_the_stores_page_size(tmp_path: Path) -> None:
    temp_store(tmp_path).close()
    assert _page_size(tmp_path / "placet.db") == sqlite.PAGE_SIZE_BYTES


def test_an_existing_database_keeps_its_page_size_and_its_tasks(tmp_path: Path) -> None:
    path = tmp_path / "placet.db"
    conn = sqlite3.connect(path)  # made before Placet, with SQLite's default pages
    conn.execute("PRAGMA page_size=4096")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    store = SqlStore(f"sqlite:///{path}")
    kind = TaskKind(name="onboarding_email", template="Welcome {name}.")
    engine = Engine(store, Settings(database_url=store.url, kinds={kind.name: kind}))
    task = engine.submit(kind.name, {"name": "Rahul"}, "alice")
    store.close()
    assert _page_size(path) == 4096
    reopened = SqlStore(f"sqlite:///{path}")
    assert reopened.get_task(task.id).input == {"name": "Rahul"}
    reopened.close()
