"""The PostgreSQL store on a real server: URLs, races, claims, wake-ups, first opens.

Each test gets a schema of its own (see ``tests/conformance/postgres.py``);
without PLACET_TEST_DATABASE_URL they skip, and with CI=true they fail instead.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from placet.config import Settings, load_settings
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.errors import ConfigError, ConflictError, NotFoundError
from placet.store import open_store, postgres
from placet.store.engines import parse_url
from placet.store.pgnotify import listener_name
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person
from tests.conformance import postgres as pg
from tests.conftest import Clock

KIND = TaskKind(name="onboarding_email", template="Write a short onboarding email to {name}.")
S = TaskStatus


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg.fresh_schema() as url:
        yield url


@pytest.fixture
def stores(pg_url: str) -> Iterator[Callable[[], SqlStore]]:
    """Opens stores on the test's schema; closes them all afterwards."""
    opened: list[SqlStore] = []

    def open_one() -> SqlStore:
        opened.append(SqlStore(pg_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def engine_on(store: SqlStore, clock: Callable[[], float] = time.time) -> Engine:
    settings = Settings(database_url=store.url, kinds={KIND.name: KIND}, lease_seconds=30.0)
    provider = FakeProvider()
    return Engine(store, settings, provider_for=lambda _model: provider, clock=clock)


def awaiting_review(engine: Engine, name: str = "Rahul") -> Task:
    task = engine.submit(KIND.name, {"name": name}, "dev", claim_as="w0")
    return engine.draft(task, "w0")


# -- URLs and configuration ------------------------------------------------------------


def test_postgresql_urls_map_to_psycopg() -> None:
    for url in ("postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"):
        assert parse_url(url).drivername == "postgresql+psycopg"
    assert parse_url("sqlite:///placet.db").drivername == "sqlite"
    with pytest.raises(ConfigError, match="postgresql://"):
        parse_url("mysql://u@h/db")


def test_the_environment_points_placet_at_postgres(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACET_DATABASE_URL", pg_url)
    settings = load_settings(tmp_path)
    store = open_store(settings.database_url)
    try:
        assert isinstance(store, SqlStore) and store.sql_engine.dialect.name == "postgresql"
        task = engine_on(store).submit(KIND.name, {"name": "Rahul"}, "dev")
        assert store.get_task(task.id) == task
    finally:
        store.close()


def _prepared_statements(store: SqlStore) -> int:
    backend = store._db
    assert isinstance(backend, postgres.PostgresBackend)
    with backend._connection() as conn:  # a pooled connection: the one the store used
        found = conn.run("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert found is not None
    return int(found[0])


@pytest.mark.parametrize(("setting", "prepared"), [("on", True), ("off", False)])
def test_prepared_statements_can_be_turned_off_for_poolers(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, setting: str, prepared: bool
) -> None:
    monkeypatch.setenv(postgres.PREPARED_ENV, setting)
    monkeypatch.setenv(postgres.POOL_SIZE_ENV, "1")  # every statement on the one connection
    store = SqlStore(pg_url)
    try:
        engine = engine_on(store)
        for index in range(8):  # psycopg prepares a statement on its fifth run
            awaiting_review(engine, name=f"user{index}")
        assert (_prepared_statements(store) > 0) is prepared
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [(postgres.POOL_SIZE_ENV, "0"), (postgres.POOL_SIZE_ENV, "ten"), (postgres.PREPARED_ENV, "x")],
)
def test_bad_connection_settings_are_refused(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        SqlStore(pg_url)


def test_nul_characters_on_postgresql(stores: Callable[[], SqlStore]) -> None:
    from tests.integration.test_engine import check_nul_characters

    check_nul_characters(engine_on(stores()))  # KIND is named onboarding_email too


# -- the lifecycle -------------------------------------------------------------------------


def test_a_whole_lifecycle_verifies(stores: Callable[[], SqlStore]) -> None:
    store = stores()
    engine = engine_on(store)
    task = awaiting_review(engine)
    engine.decide(
        DecisionRequest(task.id, DecisionKind.REVISE, person("alice"), feedback="Shorter.")
    )
    claimed = engine.claim("w1")
    assert claimed is not None and claimed.id == task.id and claimed.attempt == 2
    drafted = engine.draft(claimed, "w1")
    done = engine.decide(
        DecisionRequest(task.id, DecisionKind.EDIT, person("alice"), text="Hi Rahul!")
    )
    assert done.status is S.APPROVED and done.final_output == "Hi Rahul!"
    detail = store.detail(task.id)
    assert [d.attempt for d in detail.drafts] == [1, 2] and drafted.attempt == 2
    assert [d.kind for d in detail.decisions] == [DecisionKind.REVISE, DecisionKind.EDIT]
    assert verify_store(engine).ok


def test_json_and_floats_round_trip_exactly(stores: Callable[[], SqlStore], pg_url: str) -> None:
    store = stores()
    values = {"name": "Zoë ☃ \u2028", "ratio": 0.1 + 0.2, "tiny": 5e-324, "big": 2**62, "q": '"'}
    task = engine_on(store, clock=lambda: 1_700_000_000.123456789).submit(KIND.name, values, "dev")
    assert store.get_task(task.id) == task and task.created_at == 1_700_000_000.123456789
    with psycopg.connect(pg.url_for_schema(pg.server_url(), _schema(pg_url))) as conn:
        row = conn.execute("SELECT input FROM tasks WHERE id = %s", (task.id,)).fetchone()
    assert row is not None
    assert row[0] == json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _schema(url: str) -> str:
    return url.split("search_path%3D", 1)[1]


# -- races -------------------------------------------------------------------------------


def _connection_budget(wanted: int) -> int:
    """How many more connections the server can take now, keeping some for others."""
    with psycopg.connect(pg.url_for_schema(pg.server_url(), "public")) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend'"
        ).fetchone()
    assert row is not None
    return max(2, min(wanted, int(row[0]) - 10))


def test_a_hundred_concurrent_decisions_have_one_winner(
    stores: Callable[[], SqlStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 deciders, each with its own engine, race on one draft; one wins.

    Each store keeps exactly one connection, and there are as many stores as
    the server has connections to spare (100 where max_connections allows):
    every decision commits on a connection of its own.
    """
    monkeypatch.setattr(postgres, "POOL_SIZE", 1)
    task = awaiting_review(engine_on(stores()))
    engines = [engine_on(stores()) for _ in range(_connection_budget(100))]
    start = threading.Barrier(100)
    outcomes: list[str] = []

    def decide(engine: Engine, actor: str) -> None:
        start.wait()
        try:
            engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person(actor)))
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=decide, args=(engines[n % len(engines)], f"reviewer{n}"))
        for n in range(100)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(outcomes) == {"won": 1, "conflict": 99}
    events = engines[0].store.events(task.id)
    assert [e.type for e in events].count("approve") == 1
    assert len(engines[0].store.detail(task.id).decisions) == 1


def test_workers_never_draft_the_same_attempt(stores: Callable[[], SqlStore]) -> None:
    submitter = engine_on(stores())
    ids = {submitter.submit(KIND.name, {"name": f"user{n}"}, "dev").id for n in range(200)}
    drafted: list[str] = []

    def work(engine: Engine, name: str) -> None:
        while (task := engine.claim(name)) is not None:
            drafted.append(engine.draft(task, name).id)

    workers = [threading.Thread(target=work, args=(engine_on(stores()), f"w{n}")) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(drafted) == sorted(ids)
    store = submitter.store
    for task_id in ids:
        detail = store.detail(task_id)
        assert [d.attempt for d in detail.drafts] == [1]
        assert detail.task.status is S.AWAITING_REVIEW


def test_a_claim_skips_a_row_someone_holds(stores: Callable[[], SqlStore], pg_url: str) -> None:
    engine = engine_on(stores())
    first = engine.submit(KIND.name, {"name": "first"}, "dev")
    second = engine.submit(KIND.name, {"name": "second"}, "dev")
    with psycopg.connect(pg.url_for_schema(pg.server_url(), _schema(pg_url))) as holder:
        holder.execute("SELECT id FROM tasks WHERE id = %s FOR UPDATE", (first.id,))
        started = time.monotonic()
        claimed = engine.claim("w1")
        assert time.monotonic() - started < 5  # skipped, not waited for
        assert claimed is not None and claimed.id == second.id
        assert engine.claim("w1", task_id=first.id) is None  # held: not claimable now
    claimed_first = engine.claim("w1", task_id=first.id)
    assert claimed_first is not None and claimed_first.status is S.DRAFTING
    with pytest.raises(NotFoundError):
        engine.claim("w1", task_id="no-such-task")


def test_an_expired_lease_goes_to_another_worker(stores: Callable[[], SqlStore]) -> None:
    clock = Clock()
    first, second = engine_on(stores(), clock), engine_on(stores(), clock)
    task = first.submit(KIND.name, {"name": "Rahul"}, "dev")
    held = first.claim("crashed")
    assert held is not None and second.claim("w2") is None  # the lease is live
    clock.now += 31  # past the 30 s lease: the holder is presumed dead
    taken = second.claim("w2")
    assert taken is not None and taken.id == task.id and taken.lease_owner == "w2"
    assert taken.attempt == held.attempt  # the same attempt, drafted by the new holder
    second.draft(taken, "w2")
    with pytest.raises(ConflictError):
        first.draft(held, "crashed")  # too late: its save is refused
    assert [d.attempt for d in second.store.detail(task.id).drafts] == [1]


# -- first opens -----------------------------------------------------------------------------


def test_concurrent_first_opens_do_not_race(pg_url: str) -> None:
    opened: list[SqlStore] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(SqlStore(pg_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in opened:
        store.close()
    assert errors == [] and len(opened) == 6


# -- wake-ups ------------------------------------------------------------------------------


def _woken_after(waiter: SqlStore, write: Callable[[], None]) -> float:
    """Seconds from a commit in another store to the waiter's wake-up."""
    token = waiter.change_token()
    committed: list[float] = []

    def later() -> None:
        time.sleep(0.05)
        write()
        committed.append(time.monotonic())

    thread = threading.Thread(target=later)
    thread.start()
    new = waiter.wait_for_change(token, timeout=10)
    woke = time.monotonic()
    thread.join()
    assert new != token
    return woke - committed[0]


def test_a_commit_wakes_a_waiter_in_another_process_at_once(
    stores: Callable[[], SqlStore],
) -> None:
    waiter, writer = stores(), engine_on(stores())
    delays = [
        _woken_after(waiter, lambda: writer.submit(KIND.name, {"name": "x"}, "dev"))
        for _ in range(5)
    ]
    assert sorted(delays)[2] < postgres_poll_seconds() / 2  # NOTIFY, not the fallback poll


def postgres_poll_seconds() -> float:
    from placet.store import pgnotify

    return pgnotify.POLL_SECONDS


def test_a_lost_notification_is_caught_by_polling(stores: Callable[[], SqlStore]) -> None:
    waiter, writer = stores(), stores()
    writer._db.channel = "placet_changes_nobody_listens"  # type: ignore[attr-defined]
    engine = engine_on(writer)
    delay = _woken_after(waiter, lambda: engine.submit(KIND.name, {"name": "x"}, "dev"))
    assert delay < postgres_poll_seconds() * 3


def test_the_listener_comes_back_after_its_connection_drops(
    stores: Callable[[], SqlStore],
) -> None:
    waiter, writer = stores(), engine_on(stores())
    waiter.change_token()  # the listener is connected
    with psycopg.connect(pg.url_for_schema(pg.server_url(), "public"), autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (listener_name(waiter._db.channel),),  # type: ignore[attr-defined]
        ).fetchone()
    assert killed == (1,)
    time.sleep(0.2)
    delays = [
        _woken_after(waiter, lambda: writer.submit(KIND.name, {"name": "x"}, "dev"))
        for _ in range(3)
    ]
    assert min(delays) < postgres_poll_seconds() * 3


def test_closing_a_store_stops_its_listener(pg_url: str) -> None:
    store = SqlStore(pg_url)
    store.wait_for_change(store.change_token(), 0.01)
    store.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("placet-listen")]


def test_a_task_submitted_twice_with_one_key_is_one_task(stores: Callable[[], SqlStore]) -> None:
    engines = [engine_on(stores()) for _ in range(4)]
    start = threading.Barrier(4)
    ids: list[str] = []

    def submit(engine: Engine) -> None:
        start.wait()
        ids.append(engine.submit(KIND.name, {"name": "x"}, "dev", idempotency_key="k-1").id)

    threads = [threading.Thread(target=submit, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert engines[0].store.get_task(ids[0]).idempotency_key == "k-1"
