"""Migrating an empty database gives exactly the schema the models describe.

On SQLite and on PostgreSQL (a fresh schema on PLACET_TEST_DATABASE_URL):
the comparison is Alembic's own autogenerate diff, so a column, index or
constraint that the models have and the migrations lack (or the other way
round) is found, not assumed away.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from placet.domain.examples import example_text
from placet.errors import StoreError
from placet.store import schema
from placet.store.engines import make_engine
from placet.store.migrate import (
    HEAD_REVISION,
    alembic_config,
    current_revision,
    status,
    upgrade,
)
from placet.store.schema import metadata
from placet.store.sql import SqlStore
from tests.conformance import postgres


def differences(engine: sa.engine.Engine) -> list[object]:
    def on_this_dialect(item: object, name: str | None, type_: str, *_: object) -> bool:
        # Alembic's comparison does not read an index's ddl_if (schema.ONLY_ON).
        return type_ != "index" or schema.ONLY_ON.get(name or "", dialect) == dialect

    def described(name: str | None, type_: str, *_: object) -> bool:
        # SQLite's full-text table of the examples (and FTS5's own tables behind it) is
        # no SQLAlchemy table: schema.SQLITE_ONLY holds its statements, compared below.
        return type_ != "table" or not (name or "").startswith(schema.EXAMPLES_FTS)

    dialect = engine.dialect.name
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": on_this_dialect,
                "include_name": described,
            },
        )
        with warnings.catch_warnings():
            # The examples' GIN index is PostgreSQL's alone (schema.ONLY_ON); Alembic warns
            # that SQLite cannot compare an index on an expression before it asks the filter.
            warnings.filterwarnings(
                "ignore", r".*expression-based index 'ix_examples_terms'; dialect 'sqlite'"
            )
            return list(compare_metadata(context, metadata))


def postgresql_triggers(engine: sa.engine.Engine) -> list[str]:
    """The examples table's triggers as PostgreSQL describes them (the schema name left out)."""
    with engine.connect() as conn:
        schema_name = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        found = conn.exec_driver_sql(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = 'examples'::regclass AND NOT tgisinternal ORDER BY tgname"
        )
        return [str(row[0]).replace(f"{schema_name}.", "") for row in found]


def sqlite_only_statements(engine: sa.engine.Engine) -> tuple[str, ...]:
    """The statements that made the examples' FTS5 table and its triggers, as SQLite keeps them."""
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = ? OR (type = 'trigger' AND tbl_name = ?) "
            "ORDER BY type = 'trigger', name",
            (schema.EXAMPLES_FTS, "examples"),
        )
        return tuple(str(row[0]) for row in found)


def index_names(engine: sa.engine.Engine) -> set[str]:
    return {str(index["name"]) for index in sa.inspect(engine).get_indexes("tasks")}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """An engine on an empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    with postgres.fresh_schema() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_upgrading_an_empty_database_matches_the_models(empty_engine: sa.engine.Engine) -> None:
    upgrade(empty_engine)
    assert differences(empty_engine) == []
    if empty_engine.dialect.name == "sqlite":
        # The FTS5 table first, then its triggers by name: delete, insert, update.
        assert sqlite_only_statements(empty_engine) == schema.SQLITE_ONLY[:1] + tuple(
            sorted(schema.SQLITE_ONLY[1:], key=lambda sql: sql.split()[2])
        )
    else:
        assert not sa.inspect(empty_engine).has_table(schema.EXAMPLES_FTS)
        # As PostgreSQL spells it back: the trigger function's arguments quoted.
        found = [
            sql.replace("'terms'", "terms").replace("'body'", "body")
            for sql in postgresql_triggers(empty_engine)
        ]
        assert found == list(schema.POSTGRESQL_ONLY)
    with empty_engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION


def test_a_missing_table_would_be_noticed(empty_engine: sa.engine.Engine) -> None:
    upgrade(empty_engine, "0001")
    assert differences(empty_engine)  # the accounts tables of 0002 are missing
    upgrade(empty_engine)
    assert differences(empty_engine) == []


def test_status_names_the_pending_revisions(empty_engine: sa.engine.Engine) -> None:
    before = status(empty_engine)
    after_first = (
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
        "0013",
        "0014",
        "0015",
        "0016",  # notifications
        "0017",  # e-mail addresses, used links
        "0018",  # slack_posts
        "0019",  # provider_pace
    )
    expected = (None, HEAD_REVISION, ("0001", *after_first))
    assert (before.current, before.head, before.pending) == expected
    upgrade(empty_engine, "0001")
    assert status(empty_engine).pending == after_first
    upgrade(empty_engine)
    assert status(empty_engine).up_to_date


def task_row(task_id: str, key: str | None) -> dict[str, object]:
    return {
        "id": task_id,
        "kind": "note",
        "input": "{}",
        "requester": "olga",
        "status": "queued",
        "version": 1,
        "attempt": 0,
        "max_attempts": 3,
        "created_at": 1.0,
        "updated_at": 1.0,
        "head_hash": "0" * 64,
        "event_count": 1,
        "idempotency_key": key,
    }


def event_row(task_id: str) -> dict[str, object]:
    return {
        "task_id": task_id,
        "seq": 1,
        "type": "submitted",
        "actor": "olga",
        "created_at": 1.0,
        "payload": "{}",
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }


def test_the_keyed_tasks_index_keeps_rows_references_and_uniqueness(
    empty_engine: sa.engine.Engine,
) -> None:
    """0005 rebuilds the tasks table on SQLite: nothing is lost, and keys stay unique."""
    upgrade(empty_engine, "0004")
    ids = ["T1", "T2", "T3"]
    with empty_engine.begin() as conn:
        conn.execute(
            sa.insert(schema.tasks),
            [task_row("T1", "k1"), task_row("T2", None), task_row("T3", None)],
        )
        conn.execute(sa.insert(schema.events), [event_row(task_id) for task_id in ids])
    upgrade(empty_engine)
    assert differences(empty_engine) == []
    with empty_engine.connect() as conn:
        found = conn.execute(sa.select(schema.tasks.c.id, schema.tasks.c.idempotency_key))
        assert sorted(found) == [("T1", "k1"), ("T2", None), ("T3", None)]
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar() == 3
    with empty_engine.begin() as conn:  # tasks without a key are many; a key is used once
        conn.execute(sa.insert(schema.tasks), [task_row("T4", None)])
    with pytest.raises(sa.exc.IntegrityError), empty_engine.begin() as conn:
        conn.execute(sa.insert(schema.tasks), [task_row("T5", "k1")])
    with pytest.raises(sa.exc.IntegrityError), empty_engine.begin() as conn:
        conn.execute(sa.insert(schema.events), [event_row("no such task")])


def test_sqlite_keeps_one_index_of_the_status_and_postgresql_two(
    empty_engine: sa.engine.Engine,
) -> None:
    """0006 drops (status, id) on SQLite only; its downgrade makes it again."""
    sqlite = empty_engine.dialect.name == "sqlite"
    upgrade(empty_engine, "0005")
    with empty_engine.begin() as conn:
        conn.execute(sa.insert(schema.tasks), [task_row("T1", None), task_row("T2", "k2")])
    assert "ix_tasks_status_id" in index_names(empty_engine)
    upgrade(empty_engine)
    assert ("ix_tasks_status_id" in index_names(empty_engine)) is not sqlite
    assert "ix_tasks_kind_status_id" in index_names(empty_engine)
    assert differences(empty_engine) == []
    with empty_engine.connect() as conn:
        assert sorted(conn.execute(sa.select(schema.tasks.c.id)).scalars()) == ["T1", "T2"]
    with empty_engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0005")
        conn.commit()
    assert "ix_tasks_status_id" in index_names(empty_engine)


def test_every_user_starts_in_session_generation_zero(empty_engine: sa.engine.Engine) -> None:
    """0007 adds users.session_generation: existing users get 0; its downgrade drops it."""
    upgrade(empty_engine, "0006")
    user = {"name": "rita", "password_hash": "x", "roles": "reviewer", "created_at": 1.0}
    with empty_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (name, password_hash, roles, created_at) "
                "VALUES (:name, :password_hash, :roles, :created_at)"
            ),
            user,
        )
    upgrade(empty_engine, "0007")
    with empty_engine.connect() as conn:
        found = conn.execute(sa.select(schema.users.c.name, schema.users.c.session_generation))
        assert list(found) == [("rita", 0)]
    with empty_engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0006")
        conn.commit()
    columns = {column["name"] for column in sa.inspect(empty_engine).get_columns("users")}
    assert "session_generation" not in columns and "disabled" in columns


def test_tasks_already_logged_start_counted_and_the_downgrade_queues_the_rest(
    empty_engine: sa.engine.Engine,
) -> None:
    """0009 counts each task's logged events; its downgrade queues what the log lacks."""
    upgrade(empty_engine, "0008")
    with empty_engine.begin() as conn:
        conn.execute(sa.insert(schema.tasks), [task_row("T1", None)])
        conn.execute(sa.insert(schema.events), [event_row("T1")])
        conn.execute(sa.text("DELETE FROM audit_pending"))  # as if sealed
    upgrade(empty_engine)
    assert differences(empty_engine) == []
    unlogged = sa.text("SELECT id FROM tasks WHERE event_count <> logged_count")
    with empty_engine.begin() as conn:
        assert list(conn.execute(unlogged)) == []  # T1's event was logged before
        conn.execute(sa.insert(schema.tasks), [task_row("T2", None)])  # counted 0
        conn.execute(sa.insert(schema.events), [event_row("T2")])
        assert list(conn.execute(unlogged).scalars()) == ["T2"]
    with empty_engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0008")
        conn.commit()
    with empty_engine.connect() as conn:
        queued = conn.execute(sa.text("SELECT kind, task_id, seq FROM audit_pending"))
        assert list(queued) == [("event", "T2", 1)]
    columns = {column["name"] for column in sa.inspect(empty_engine).get_columns("tasks")}
    assert "logged_count" not in columns


def test_drafts_made_before_seeds_were_kept_have_none(empty_engine: sa.engine.Engine) -> None:
    """0012 adds drafts.seed: an existing draft gets none; its downgrade drops the column."""
    upgrade(empty_engine, "0011")
    draft = {
        "id": "D1",
        "task_id": "T1",
        "attempt": 1,
        "provider": "local:smollm2",
        "model": "local:smollm2",
        "messages": "[]",
        "output": "Hello",
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "latency_ms": 1.0,
        "created_at": 1.0,
    }
    with empty_engine.begin() as conn:
        conn.execute(sa.insert(schema.tasks), [task_row("T1", None)])
        names = ", ".join(draft)
        values = ", ".join(f":{name}" for name in draft)
        conn.execute(sa.text(f"INSERT INTO drafts ({names}) VALUES ({values})"), draft)
    upgrade(empty_engine)
    assert differences(empty_engine) == []
    with empty_engine.connect() as conn:
        found = conn.execute(sa.select(schema.drafts.c.id, schema.drafts.c.seed))
        assert list(found) == [("D1", None)]
    with empty_engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0011")
        conn.commit()
    columns = {column["name"] for column in sa.inspect(empty_engine).get_columns("drafts")}
    assert "seed" not in columns and "output" in columns


def test_a_sqlite_migration_that_breaks_a_reference_is_rolled_back(tmp_path: Path) -> None:
    """Foreign keys are off while SQLite migrates; the check before commit stands in for them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'placet.db'}")
    upgrade(engine, "0004")
    with engine.connect() as conn:  # an orphan event, as a faulty migration could leave
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.execute(sa.insert(schema.events), [event_row("no such task")])
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    with pytest.raises(StoreError, match="1 rows refer to rows that do not exist"):
        upgrade(engine)
    with engine.connect() as conn:
        assert current_revision(conn) == "0004"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_a_database_a_newer_placet_migrated_is_refused_with_a_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'placet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:  # as a later Placet's migration would leave it
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    engine.dispose()
    newer = "revision 0099, which a newer Placet made.*upgrade Placet"
    with pytest.raises(StoreError, match=newer):
        SqlStore(url)
    engine = make_engine(url)
    for call in (status, upgrade):  # `placet db status` and `placet db upgrade`
        with pytest.raises(StoreError, match=newer):
            call(engine)
    with engine.connect() as conn:  # and left as it was
        assert current_revision(conn) == "0099"
    engine.dispose()


def test_tasks_approved_before_examples_become_searchable(empty_engine: sa.engine.Engine) -> None:
    """0015 gives every approved task an example row, oldest approval first, searchable by
    its input's words; its downgrade drops the rows, the full-text index and its triggers."""
    upgrade(empty_engine, "0014")
    later = {**task_row("T1", None), "status": "approved", "updated_at": 9.0}
    later["input"] = '{"question": "My kettle arrived broken: a refund?"}'
    earlier = {**task_row("T2", None), "status": "approved", "updated_at": 5.0}
    earlier["input"] = '{"question": "Where is my parcel?", "order": 1234}'
    rejected = {**task_row("T3", None), "status": "rejected", "input": later["input"]}
    with empty_engine.begin() as conn:
        conn.execute(sa.insert(schema.tasks), [later, earlier, rejected])
    upgrade(empty_engine)
    assert differences(empty_engine) == []
    rows = sa.select(schema.examples).order_by(schema.examples.c.id)
    with empty_engine.connect() as conn:
        found = [(r.task_id, r.kind, r.excluded, r.body) for r in conn.execute(rows)]
    assert found == [
        ("T2", "note", False, "Where is my parcel\n1234"),
        ("T1", "note", False, "My kettle arrived broken a refund"),
    ]
    assert found[1][3] == example_text(json.loads(later["input"]))
    if empty_engine.dialect.name == "sqlite":
        match = "SELECT e.task_id FROM examples_fts f JOIN examples e ON e.id = f.rowid "
        match += "WHERE examples_fts MATCH 'kettles'"  # the porter stemmer's doing
    else:
        match = "SELECT task_id FROM examples WHERE terms @@ to_tsquery('english', 'kettles')"
    with empty_engine.connect() as conn:
        assert list(conn.exec_driver_sql(match).scalars()) == ["T1"]
    with empty_engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0014")
        conn.commit()
    assert not sa.inspect(empty_engine).has_table("examples")
    assert not sa.inspect(empty_engine).has_table(schema.EXAMPLES_FTS)
