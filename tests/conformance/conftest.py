"""The store conformance suite: every Store implementation passes these tests.

A new store joins by adding a factory to ``STORE_FACTORIES``; no test changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from placet.domain import audit
from placet.domain.changes import Change
from placet.domain.ids import new_id
from placet.domain.models import Event, Task, TaskStatus
from placet.store.base import Store
from placet.store.sql import SqlStore
from tests.conformance import postgres

StoreFactory = Callable[[Path], Store]
_schemas: set[str] = set()  # made by postgres_store during the current test


def sqlite_store(tmp_path: Path) -> Store:
    return SqlStore(f"sqlite:///{tmp_path / 'conformance.db'}")


def postgres_store(tmp_path: Path) -> Store:
    """A store on a schema of its own; every store made for one test shares it."""
    name = postgres.new_schema_name(str(tmp_path))
    url = postgres.create_schema(name)
    _schemas.add(name)
    return SqlStore(url)


STORE_FACTORIES: dict[str, StoreFactory] = {"sqlite": sqlite_store, "postgresql": postgres_store}


@pytest.fixture(autouse=True)
def _drop_postgres_schemas() -> Iterator[None]:
    # Autouse fixtures are set up first, so this runs after the stores are closed.
    yield
    while _schemas:
        postgres.drop_schema(_schemas.pop())


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    factory: StoreFactory = STORE_FACTORIES[request.param]
    return factory


@pytest.fixture
def store(store_factory: StoreFactory, tmp_path: Path) -> Iterator[Store]:
    opened = store_factory(tmp_path)
    yield opened
    opened.close()


def new_task(
    kind: str = "k", status: TaskStatus = TaskStatus.QUEUED, **fields: object
) -> tuple[Task, Event]:
    now = float(fields.pop("now", 1000.0))  # type: ignore[arg-type]
    task = Task(
        id=new_id(),
        kind=kind,
        input={"name": "Rahul", "ü": [1, 2]},
        requester="dev",
        status=status,
        version=1,
        attempt=0,
        max_attempts=3,
        created_at=now,
        updated_at=now,
        head_hash=audit.GENESIS_HASH,
        event_count=0,
        **fields,  # type: ignore[arg-type]
    )
    event = audit.seal(Event(task.id, 1, "submitted", "dev", now, {"kind": kind}), task.head_hash)
    return replace(task, head_hash=event.hash, event_count=1), event


def change(task: Task, status: TaskStatus, event_type: str = "step", **fields: object) -> Change:
    moved = replace(task, status=status, version=task.version + 1, **fields)  # type: ignore[arg-type]
    event = audit.seal(
        Event(task.id, task.event_count + 1, event_type, "tester", 2000.0, {"to": status.value}),
        task.head_hash,
    )
    moved = replace(moved, head_hash=event.hash, event_count=event.seq)
    return Change(moved, task.version, task.status, event)
