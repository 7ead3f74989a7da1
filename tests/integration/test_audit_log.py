"""The keyed chains and the global audit log, attacked as someone who can write the database.

Deleting a task, cutting a task's tail, rolling a task back, and forging an
event with its chain recomputed are each reported, on SQLite and PostgreSQL;
the log's own tail cut is reported against a signed checkpoint.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from placet.config import Settings
from placet.domain import audit
from placet.domain.auditlog import Checkpoint
from placet.domain.models import DecisionKind, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import AuditReport, verify_store
from placet.errors import ConfigError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person
from tests.conformance import postgres as pg

KEY = b"a test audit key, 32 characters!"
KIND = TaskKind(name="note", template="Write a note about {topic}.", max_attempts=3)
# What migration 0008 does to the events already there.
QUEUE_LEGACY = (
    "INSERT INTO audit_pending (kind, task_id, seq, entry_hash) "
    "SELECT 'legacy_event', task_id, seq, hash FROM events ORDER BY task_id, seq"
)
COUNT_TASKS = "UPDATE tasks SET logged_count = event_count"  # what migration 0009 does


@dataclass
class World:
    """A store, an engine with (or without) the audit key, and SQL beside them."""

    store: SqlStore
    engine: Engine
    sql: sa.Engine

    def with_key(self, key: bytes | None) -> Engine:
        provider = FakeProvider()
        settings = Settings(kinds={"note": KIND}, audit_key=key)
        return Engine(self.store, settings, provider_for=lambda _: provider)

    def task(self, topic: str, engine: Engine | None = None) -> str:
        engine = engine or self.engine
        task = engine.submit("note", {"topic": topic}, "rita", claim_as="w")
        drafted = engine.draft(task, "w")
        engine.decide(DecisionRequest(drafted.id, DecisionKind.APPROVE, person("lena")))
        engine.seal_audit_log()
        return drafted.id

    def verify(
        self, engine: Engine | None = None, against: Checkpoint | None = None
    ) -> AuditReport:
        return verify_store(engine or self.engine, against=against)

    def problems(self, engine: Engine | None = None, against: Checkpoint | None = None) -> str:
        found = self.verify(engine, against).problems
        return "\n".join(f"{p.task_id}: {p.problem}" for p in found)

    def run(self, sql: str, **params: object) -> None:
        with self.sql.begin() as conn:
            conn.execute(sa.text(sql), params)


def make_world(url: str) -> Iterator[World]:
    store = SqlStore(url)
    sql = sa.create_engine(url)
    world = World(store, None, sql)  # type: ignore[arg-type]
    world.engine = world.with_key(KEY)
    try:
        yield world
    finally:
        sql.dispose()
        store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        yield from make_world(f"sqlite:///{tmp_path / 'placet.db'}")
    else:
        with pg.fresh_schema() as url:
            yield from make_world(url)


def test_an_untouched_keyed_store_verifies_and_without_the_key_says_what_it_skipped(
    world: World,
) -> None:
    world.task("tea")
    world.task("cake")
    report = world.verify()
    assert report.ok and report.unchecked == 0 and report.log is not None
    # One entry a task: its newest event, which its chain links to the two before it.
    assert report.log.size == 2 and report.log.keyed
    keyless = world.verify(world.with_key(None))
    assert keyless.ok and keyless.unchecked == 6 + 2  # the events' hashes and the log's


def test_a_forged_event_with_its_chain_recomputed_is_reported(world: World) -> None:
    task_id = world.task("tea")
    events = world.engine.detail(task_id).events
    # The attacker forges the approver and recomputes the plain SHA-256 chain from there.
    forged = [replace(events[0])]
    for event in events[1:]:
        actor = "admin1" if event.type == "approve" else event.actor
        forged.append(audit.seal(replace(event, actor=actor), forged[-1].hash))
    for event in forged:
        world.run(
            "UPDATE events SET actor = :actor, prev_hash = :prev, hash = :hash "
            "WHERE task_id = :task AND seq = :seq",
            actor=event.actor,
            prev=event.prev_hash,
            hash=event.hash,
            task=task_id,
            seq=event.seq,
        )
    world.run("UPDATE decisions SET actor = 'admin1' WHERE task_id = :task", task=task_id)
    world.run("UPDATE tasks SET head_hash = :h WHERE id = :task", h=forged[-1].hash, task=task_id)
    problems = world.problems()
    assert "event was not made with the audit key" in problems
    assert "was rewritten after it was logged" in problems


def test_a_deleted_task_is_reported(world: World) -> None:
    keep, gone = world.task("tea"), world.task("cake")
    for table, column in (("events", "task_id"), ("decisions", "task_id"), ("drafts", "task_id")):
        world.run(f"DELETE FROM {table} WHERE {column} = :task", task=gone)
    world.run("DELETE FROM tasks WHERE id = :task", task=gone)
    problems = world.problems()
    assert "event 3 is gone" in problems and gone in problems and keep not in problems


def test_a_cut_tail_and_a_rollback_are_reported(world: World) -> None:
    task_id = world.task("tea")
    detail = world.engine.detail(task_id)
    before = detail.events[-2]  # the draft saved, awaiting review
    world.run("DELETE FROM events WHERE task_id = :task AND seq = 3", task=task_id)
    world.run("DELETE FROM decisions WHERE task_id = :task", task=task_id)
    world.run(
        "UPDATE tasks SET status = 'awaiting_review', final_output = NULL, version = 2, "
        "event_count = 2, head_hash = :head, updated_at = :at WHERE id = :task",
        head=before.hash,
        at=before.created_at,
        task=task_id,
    )
    assert "event 3 is gone (logged at position 1)" in world.problems()


def test_rewriting_the_log_itself_breaks_its_keyed_chain(world: World) -> None:
    task_id, other = world.task("tea"), world.task("cake")
    world.run("DELETE FROM audit_log WHERE position = 1")
    problems = world.problems()
    assert "log entry 1 is missing" in problems
    assert f"{task_id}: event 1 was never logged" in problems
    assert f"{other}: event" not in problems


def test_the_logs_tail_cut_shows_against_a_checkpoint(world: World) -> None:
    world.task("tea")
    world.task("cake")
    checkpoint = world.engine.audit_log.checkpoint(1.0)
    assert checkpoint.size == 2 and world.verify(against=checkpoint).ok
    later = world.task("jam")
    assert world.verify(against=checkpoint).ok  # growing after it is fine
    # Everything about the later task, its log entries included, is deleted.
    for table in ("events", "decisions", "drafts"):
        world.run(f"DELETE FROM {table} WHERE task_id = :task", task=later)
    world.run("DELETE FROM tasks WHERE id = :task", task=later)
    world.run("DELETE FROM audit_log WHERE position > 2")
    assert world.verify(against=checkpoint).ok  # after the checkpoint: nothing to prove it
    world.run("DELETE FROM audit_log WHERE position > 1")
    problems = world.problems(against=checkpoint)
    assert "the log has 1 entries, the checkpoint 2: entries were deleted" in problems


def test_a_forged_or_foreign_checkpoint_is_refused(world: World, tmp_path: Path) -> None:
    world.task("tea")
    checkpoint = world.engine.audit_log.checkpoint(1.0)
    forged = replace(checkpoint, size=2)
    assert "signature does not verify" in world.problems(against=forged)
    with contextlib.closing(SqlStore(f"sqlite:///{tmp_path / 'other.db'}")) as other_store:
        other = World(other_store, world.engine, world.sql).with_key(
            b"somebody else's key 32 chars!!!"
        )
        theirs = other.audit_log.checkpoint(1.0)
    with pytest.raises(ConfigError, match="another audit key"):
        world.with_key(b"somebody else's key 32 chars!!!").audit_log.checkpoint(1.0)
    assert "not signed with this installation's audit key" in world.problems(against=theirs)
    with pytest.raises(ConfigError, match="placet audit keygen"):
        world.with_key(None).audit_log.checkpoint(1.0)


def test_events_made_before_the_key_are_sealed_as_they_are(world: World) -> None:
    keyless = world.with_key(None)
    old = keyless.submit("note", {"topic": "tea"}, "rita", claim_as="w")
    keyless.draft(old, "w")
    # As migrations 0008 and 0009 leave them: queued as legacy, their task counted.
    world.run(QUEUE_LEGACY)
    world.run(COUNT_TASKS)
    assert world.engine.seal_audit_log() == 2
    world.engine.decide(DecisionRequest(old.id, DecisionKind.APPROVE, person("lena")))
    world.engine.seal_audit_log()
    assert world.verify().ok  # plain events from before the key, a keyed one after
    # A plain event made now (by code without the key) is not accepted as old.
    made_without = world.task("cake", engine=keyless)
    assert world.engine.audit_log.keyed() and world.engine.seal_audit_log() == 1
    assert f"{made_without}: event was not made with the audit key" in world.problems()


def test_the_audit_key_file_is_made_once_and_read(tmp_path: Path) -> None:
    from placet.auditkey import key_path, make_key_file, read_key

    path = key_path({}, tmp_path)
    assert read_key({}, tmp_path) is None
    assert make_key_file(path) and not make_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    key = read_key({}, tmp_path)
    assert key is not None and len(key) == 64
    assert read_key({"PLACET_AUDIT_KEY": "x" * 20}, tmp_path) == b"x" * 20
    with pytest.raises(ConfigError, match="too short"):
        read_key({"PLACET_AUDIT_KEY": "short"}, tmp_path)
    assert hashlib.sha256(key).hexdigest() != ""


def test_security_events_are_logged_and_their_loss_or_change_reported(world: World) -> None:
    world.task("tea")
    world.engine.accounts.record("mallory", "sign_in", "refused", "/login", "bad password")
    world.engine.seal_audit_log()
    assert world.verify().ok
    (event,) = world.engine.accounts.security_events()
    world.run("UPDATE security_events SET detail = 'signed in' WHERE id = :id", id=event.id)
    assert f"security event {event.id} was altered" in world.problems()
    world.run("DELETE FROM security_events WHERE id = :id", id=event.id)
    assert f"security event {event.id} is gone (logged at position 2)" in world.problems()


def test_an_upgraded_database_is_sealed_as_it_was_and_verifies(tmp_path: Path) -> None:
    from placet.store import copy as store_copy
    from placet.store.engines import make_engine
    from placet.store.migrate import upgrade

    made = f"sqlite:///{tmp_path / 'made.db'}"
    with contextlib.closing(SqlStore(made)) as store:
        world = World(store, None, sa.create_engine(made))  # type: ignore[arg-type]
        old = world.with_key(None)  # what a Placet before keys wrote
        # A caller's own draft: no seed, as no draft had one before migration 0009.
        drafted = old.propose("note", {"topic": "tea"}, "rita", "A note about tea.")
        old.decide(DecisionRequest(drafted.id, DecisionKind.APPROVE, person("lena")))
        old.accounts.record("rita", "sign_in", "allowed", "/login")
        old.accounts.add_user("rita", "s3cret-pass", "reviewer")
        world.sql.dispose()
    # The same rows in a database at revision 0007, then upgraded as `placet db upgrade` does.
    older = f"sqlite:///{tmp_path / 'older.db'}"
    target = make_engine(older)
    upgrade(target, "0007")
    source = make_engine(made)
    with source.connect() as src, target.begin() as dst:
        for table in store_copy.TABLES:
            if table.name.startswith("audit_") or not sa.inspect(target).has_table(table.name):
                continue  # the global log is what is tested; later tables were not there
            # Only the columns a database at 0007 has (later migrations add some).
            columns = {column["name"] for column in sa.inspect(target).get_columns(table.name)}
            rows = [
                {name: value for name, value in row._mapping.items() if name in columns}
                for row in src.execute(sa.select(table))
            ]
            # A Placet before this one recorded no account states.
            rows = [row for row in rows if row.get("action") != "account_state"]
            # Only the columns revision 0007 has (drafts.seed came with 0009).
            then = sa.Table(table.name, sa.MetaData(), autoload_with=dst)
            rows = [{column.name: row[column.name] for column in then.c} for row in rows]
            if rows:
                dst.execute(then.insert(), rows)
    source.dispose()
    upgrade(target)
    target.dispose()
    with contextlib.closing(SqlStore(older)) as store:
        engine = World(store, None, None).with_key(KEY)  # type: ignore[arg-type]
        # Three events, the security event, and rita's state as the upgrade recorded it.
        assert engine.seal_audit_log() == 5
        report = verify_store(engine)
        assert report.ok, report.problems
        assert report.log is not None and report.log.size == 5


def test_an_accounts_roles_or_state_edited_in_the_database_are_reported(world: World) -> None:
    world.engine.accounts.add_user("vic", "s3cret-pass", "viewer", by="adam")
    world.engine.accounts.add_user("rita", "s3cret-pass", "reviewer", by="adam")
    world.engine.accounts.set_disabled("rita", True, by="adam")
    world.engine.seal_audit_log()
    assert world.verify().ok
    world.run("UPDATE users SET roles = 'admin,viewer' WHERE name = 'vic'")
    assert "account vic: its roles or state were altered" in world.problems()
    world.run("UPDATE users SET roles = 'viewer' WHERE name = 'vic'")
    world.run("UPDATE users SET disabled = :off WHERE name = 'rita'", off=False)
    assert "account rita: its roles or state were altered" in world.problems()
    world.run("UPDATE users SET disabled = :on WHERE name = 'rita'", on=True)
    assert world.verify().ok
    world.run(
        "INSERT INTO users (name, password_hash, roles, created_at, disabled) "
        "VALUES ('mallory', 'x', 'admin', 1.0, :off)",
        off=False,
    )
    assert "security event for account mallory is missing" in world.problems()


def test_handler_outcomes_edited_in_the_database_are_reported(tmp_path: Path) -> None:
    from placet.sdk.client import connect

    with connect(
        f"sqlite:///{tmp_path / 'placet.db'}",
        directory=str(tmp_path),
        requester="rita",
        provider_for=lambda _model: FakeProvider(),
    ) as client:
        client.engine.register_kind(KIND)

        @client.on_approved("note", name="sent")
        def sent(outcome: object, key: str) -> None:
            return None

        @client.on_approved("note", name="broken", max_attempts=1)
        def broken(outcome: object, key: str) -> None:
            raise RuntimeError("the mail server said no")

        task = client.engine.submit("note", {"topic": "tea"}, "rita", claim_as="w")
        client.engine.draft(task, "w")
        client.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("lena")))
        assert client.run_pending_handlers() == 2
        assert verify_store(client.engine).ok
        sql = sa.create_engine(f"sqlite:///{tmp_path / 'placet.db'}")
        with sql.begin() as conn:
            conn.execute(sa.text("UPDATE handler_deliveries SET status = 'delivered' "
                                 "WHERE handler = 'broken'"))  # fmt: skip
        problems = [p.problem for p in verify_store(client.engine).problems]
        assert any("handler broken: its delivery (delivered" in p for p in problems), problems
        with sql.begin() as conn:
            conn.execute(sa.text("UPDATE handler_deliveries SET status = 'failed', "
                                 "last_error = 'fine' WHERE handler = 'broken'"))  # fmt: skip
        problems = [p.problem for p in verify_store(client.engine).problems]
        assert any("handler broken: its delivery (failed" in p for p in problems), problems
        sql.dispose()


def test_a_task_counted_as_logged_behind_the_sealers_back_is_reported(world: World) -> None:
    """The count only says what waits: an event it hides from the sealer is never logged."""
    task_id = world.task("tea")
    later = world.engine.submit("note", {"topic": "cake"}, "rita", claim_as="w")
    world.run("UPDATE tasks SET logged_count = event_count WHERE id = :task", task=later.id)
    assert world.engine.seal_audit_log() == 0  # nothing looks unlogged any more
    problems = world.problems()
    assert f"{later.id}: event 1 was never logged" in problems and task_id not in problems
    # Counting a logged task short again only logs its head again: nothing is wrong.
    world.run("UPDATE tasks SET logged_count = 0 WHERE id = :task", task=task_id)
    assert world.engine.seal_audit_log() == 1
    assert task_id not in world.problems()
