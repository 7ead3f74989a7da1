"""``placet migrate-store`` and ``placet db``: moving an installation to PostgreSQL.

An installation with tasks in every state, revisions, edits, executions and
accounts is copied from SQLite to PostgreSQL; every row must arrive as it
left (ids, hashes, JSON text byte for byte, floats bit for bit) and
``placet audit verify`` must pass on the copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from placet.config import Settings
from placet.domain.channels import ChannelSettings, Webhook
from placet.domain.learning import Learning
from placet.domain.models import DecisionKind, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.engine.accounts import Accounts
from placet.engine.auditing import verify_store
from placet.errors import ProviderError, UsageError
from placet.sdk.client import Client
from placet.store import schema
from placet.store.copy import RENUMBERED, TABLES, TargetNotEmptyError, copy_store
from placet.store.engines import make_engine
from placet.store.migrate import HEAD_REVISION, upgrade
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person
from tests.conformance import postgres as pg

KIND = TaskKind(
    name="onboarding_email",
    template="Write a short onboarding email to {name}.",
    learn=Learning(examples=1),  # approved tasks have example rows, searched in full text
)
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg.fresh_schema() as url:
        yield url


def build_installation(url: str) -> None:
    """Tasks in every state, with revisions, edits, an execution, accounts, handler deliveries."""
    store = SqlStore(url)
    provider = FakeProvider()
    ops = Webhook("ops", "https://hooks.example.com/placet", WEBHOOK_SECRET)
    settings = Settings(
        database_url=url,
        kinds={KIND.name: KIND},
        channels=ChannelSettings({"ops": ops}),
        notify=(ops.address,),  # the notifications outbox fills as tasks move
    )
    engine = Engine(store, settings, provider_for=lambda _model: provider)
    try:

        def drafted(name: str, **values: Any) -> str:
            task = engine.submit(KIND.name, {"name": name, **values}, "dev", claim_as="w")
            return engine.draft(task, "w").id

        edited = drafted("Zoë ☃", ratio=0.1 + 0.2, tiny=5e-324)
        engine.decide(
            DecisionRequest(edited, DecisionKind.REVISE, person("alice"), feedback="Warmer.")
        )
        claimed = engine.claim("w")
        assert claimed is not None
        engine.draft(claimed, "w")
        engine.decide(
            DecisionRequest(edited, DecisionKind.EDIT, person("alice"), text="Hi Zoë! 👋")
        )
        engine.start_execution(edited, "agent", "key-1")
        engine.record(edited, "agent", "execution_finished", {"ok": True, "ms": 12.5})
        engine.decide(
            DecisionRequest(drafted("Bo"), DecisionKind.REJECT, person("bob"), reason="No.")
        )
        approved = drafted("Cy")
        engine.decide(DecisionRequest(approved, DecisionKind.APPROVE, person("bob")))
        engine.examples.mark(person("bob"), approved, example=False)
        drafted("Di")  # awaiting review
        engine.cancel(engine.submit(KIND.name, {"name": "Ed"}, "dev").id, "dev", "not needed")
        engine.submit(KIND.name, {"name": "Fay"}, "dev", claim_as="w")  # drafting, leased
        for n in range(30):
            engine.submit(KIND.name, {"name": f"user{n}"}, "dev", idempotency_key=f"k{n}")
        provider.fail_with = ProviderError("the model is down")
        failing = engine.submit(KIND.name, {"name": "Gil"}, "dev", claim_as="w")
        with pytest.raises(ProviderError):
            engine.draft(failing, "w")
        accounts = Accounts(store.accounts())
        accounts.add_user("alice", "correct horse battery", ["reviewer", "admin"])
        accounts.create_token("alice", "laptop")
        accounts.record("alice", "sign_in", "allowed", remote="127.0.0.1")
        handlers = Client(engine, requester="dev")  # delivered to both approved tasks
        handlers.on_approved(KIND.name, name="app.send", backfill=True)(lambda _o, _k: None)
        assert handlers.run_pending_handlers() == 2
        outbox = engine.notifications()  # one notification tried, and failed for good
        tried = outbox.claim("w", time.time() + 1, 30.0)
        assert tried is not None and outbox.fail(tried, "HTTP 500", 500, None, time.time())
    finally:
        engine.close()
        store.close()


def all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every copied table, in primary-key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {table.name: _rows(conn, table) for table in TABLES}
    finally:
        engine.dispose()


def _rows(conn: sa.Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    # The queue's numbers are the target's own (its order is what is kept), and so are
    # the columns a database derives itself (PostgreSQL's tsvector of an example).
    derived = schema.DERIVED.get(table.name, ())
    columns = [
        c for c in table.c if c.name not in derived and not (table in RENUMBERED and c.name == "id")
    ]
    query = sa.select(*columns).order_by(*table.primary_key.columns)
    return [tuple(row) for row in conn.execute(query)]


@pytest.fixture
def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'placet.db'}"
    build_installation(url)
    return url


def test_every_row_arrives_as_it_left_and_verifies(source: str, pg_url: str) -> None:
    reports: list[tuple[str, int, int]] = []
    counts = copy_store(source, pg_url, batch_size=7, progress=lambda *r: reports.append(r))
    assert counts["tasks"] == 37 and counts["events"] == 54 and counts["users"] == 1
    assert counts["examples"] == 2
    assert counts["handlers"] == 1 and counts["handler_deliveries"] == 2
    assert counts["notifications"] == 9 and counts["channel_health"] == 1
    assert {table.name for table in TABLES} == set(schema.metadata.tables)  # none left behind
    before, after = all_rows(source), all_rows(pg_url)
    assert after == before  # floats compare bit for bit, text character for character
    assert ("events", counts["events"], counts["events"]) in reports
    store = SqlStore(pg_url)
    try:
        report = verify_store(Engine(store, Settings()))
        assert report.ok and report.tasks == 37 and report.events == counts["events"]
        found = store.similar_examples(KIND.name, ["zoë"], 2, "none")  # the target's tsvectors
        assert [task.input["name"] for task in found] == ["Zoë ☃"]
    finally:
        store.close()


def test_a_copy_back_to_sqlite_verifies_too(source: str, pg_url: str, tmp_path: Path) -> None:
    copy_store(source, pg_url)
    back = f"sqlite:///{tmp_path / 'back.db'}"
    copy_store(pg_url, back)
    assert all_rows(back) == all_rows(source)
    store = SqlStore(back)  # its full-text index was made as the rows arrived
    try:
        found = store.similar_examples(KIND.name, ["zoë"], 2, "none")
        assert [task.input["name"] for task in found] == ["Zoë ☃"]  # Cy is not an example
        assert store.examples_index_problems() == []
    finally:
        store.close()


def test_a_non_empty_target_is_refused_unless_forced(source: str, pg_url: str) -> None:
    copy_store(source, pg_url)
    with pytest.raises(TargetNotEmptyError, match="--force"):
        copy_store(source, pg_url)
    counts = copy_store(source, pg_url, force=True)
    assert all_rows(pg_url) == all_rows(source) and counts["tasks"] == 37


def test_a_source_behind_the_migrations_is_refused(tmp_path: Path, pg_url: str) -> None:
    old = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(old)
    upgrade(engine, "0001")
    engine.dispose()
    with pytest.raises(UsageError, match="placet db upgrade"):
        copy_store(old, pg_url)


# -- the commands, as a user runs them ---------------------------------------------------


def placet(
    folder: Path, *args: str, database: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
    env["COLUMNS"] = "200"
    if database:
        env["PLACET_DATABASE_URL"] = database
    return subprocess.run(
        [sys.executable, "-m", "placet", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_store_then_audit_verify(source: str, pg_url: str, tmp_path: Path) -> None:
    copied = placet(tmp_path, "migrate-store", "--from", source, "--to", pg_url)
    assert copied.returncode == 0, copied.stderr
    assert "copied 1 users, 1 api_tokens, 2 security_events, 37 tasks" in copied.stdout
    verified = placet(tmp_path, "audit", "verify", database=pg_url)
    assert verified.returncode == 0, verified.stderr
    assert "37 tasks" in verified.stdout and "every chain verifies" in verified.stdout
    again = placet(tmp_path, "migrate-store", "--from", source, "--to", pg_url)
    assert again.returncode == 2 and "--force" in again.stderr  # a usage error
    forced = placet(tmp_path, "migrate-store", "--from", source, "--to", pg_url, "--force")
    assert forced.returncode == 0, forced.stderr


def test_migrate_store_copies_the_configured_database_and_never_onto_itself(
    source: str, pg_url: str, tmp_path: Path
) -> None:
    copied = placet(tmp_path, "migrate-store", "--to", pg_url, database=source)
    assert copied.returncode == 0, copied.stderr
    assert "37 tasks" in copied.stdout and f"from {source}" in copied.stdout
    assert "━" not in copied.stderr  # piped: no progress bars
    before = all_rows(source)
    for same in (source, "sqlite:///./placet.db"):  # the same file, spelled another way
        refused = placet(tmp_path, "migrate-store", "--to", same, "--force", database=source)
        assert refused.returncode == 2
        assert "is the database to copy from" in refused.stderr
    assert all_rows(source) == before


def test_db_status_and_upgrade(pg_url: str, tmp_path: Path) -> None:
    before = placet(tmp_path, "db", "status", database=pg_url)
    assert before.returncode == 0, before.stderr
    assert "none (empty database)" in before.stdout and "0001, 0002" in before.stdout
    upgraded = placet(tmp_path, "db", "upgrade", database=pg_url)
    assert upgraded.returncode == 0 and f"upgraded from empty to {HEAD_REVISION}" in upgraded.stdout
    after = placet(tmp_path, "db", "status", "--database", pg_url)
    assert "up to date" in after.stdout
    assert (
        f"already at revision {HEAD_REVISION}"
        in placet(tmp_path, "db", "upgrade", database=pg_url).stdout
    )
