"""A tamper suite: every value Placet shows, edited directly in the database, is reported.

Tried as an attacker with write access to the database would: one UPDATE (or
DELETE) at a time on SQLite and on PostgreSQL, then ``verify_store``, which
must name the task, the row and the field; the edit is then undone and the
store verifies again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from placet.config import Settings
from placet.domain.learning import Learning
from placet.domain.models import DecisionKind, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.engine.auditing import verify_store
from placet.store import schema
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person
from tests.conformance import postgres as pg

# Approved notes are examples for later ones: each has a row in the examples table.
KIND = TaskKind(
    name="note", template="Write a note about {topic}.", max_attempts=3, learn=Learning(examples=2)
)


@dataclass
class World:
    """A store with an edited, a rejected and an approved task, and SQL access beside it."""

    engine: Engine
    sql: sa.Engine
    ids: dict[str, str]  # names below -> ids

    def problems(self) -> list[str]:
        return [problem.problem for problem in verify_store(self.engine).problems]


def populate(engine: Engine) -> dict[str, str]:
    def drafted(topic: str, key: str | None = None) -> str:
        task = engine.submit("note", {"topic": topic}, "rita", key, claim_as="w")
        return engine.draft(task, "w").id

    def decide(task_id: str, kind: DecisionKind, **fields: str) -> None:
        engine.decide(DecisionRequest(task_id, kind, person("lena"), **fields))

    edited = drafted("tea", key="k-1")
    decide(edited, DecisionKind.REVISE, feedback="Warmer.")
    claimed = engine.claim("w", edited)
    assert claimed is not None
    engine.draft(claimed, "w")
    decide(edited, DecisionKind.EDIT, text="A warm note about tea.")
    rejected = drafted("coffee")
    decide(rejected, DecisionKind.REJECT, reason="Off topic.")
    approved = drafted("cake")
    decide(approved, DecisionKind.APPROVE)
    held = drafted("pie")
    engine.take(held, person("lena"))
    marked = drafted("scones")
    decide(marked, DecisionKind.APPROVE)
    engine.examples.mark(person("lena"), marked, example=False)
    detail = engine.detail(edited)
    return {
        "edited": edited,
        "rejected": rejected,
        "approved": approved,
        "held": held,
        "marked": marked,
        "first_draft": detail.drafts[0].id,
        "second_draft": detail.drafts[1].id,
        "revise": detail.decisions[0].id,
        "edit": detail.decisions[1].id,
        "reject": engine.detail(rejected).decisions[0].id,
    }


def make_world(url: str) -> Iterator[World]:
    store = SqlStore(url)
    provider = FakeProvider()
    engine = Engine(store, Settings(kinds={"note": KIND}), provider_for=lambda _: provider)
    sql = sa.create_engine(url)
    try:
        yield World(engine, sql, populate(engine))
    finally:
        sql.dispose()
        store.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("tamper") / "placet.db"
        yield from make_world(f"sqlite:///{path}")
    else:
        with pg.fresh_schema("tamper") as url:
            yield from make_world(url)


# (table, column, which row, a forged value, what the report must say)
EDITS: list[tuple[str, str, str, Any, str]] = [
    ("tasks", "kind", "approved", "other", "task {approved}: its kind was altered"),
    ("tasks", "input", "approved", '{{"topic": "pie"}}', "task {approved}: its input was altered"),
    ("tasks", "requester", "approved", "mallory", "task {approved}: its requester"),
    ("tasks", "status", "rejected", "approved", "task {rejected}: its status was altered"),
    ("tasks", "final_output", "edited", "Wire the money.", "task {edited}: its final output"),
    ("tasks", "final_output", "rejected", "Sent.", "task {rejected}: its final output"),
    ("tasks", "attempt", "edited", 1, "task {edited}: its attempt was altered"),
    ("tasks", "max_attempts", "edited", 9, "task {edited}: its max attempts was altered"),
    ("tasks", "current_draft_id", "edited", "{first_draft}", "task {edited}: its current draft"),
    ("tasks", "pending_feedback", "approved", "psst", "task {approved}: its pending feedback"),
    ("tasks", "idempotency_key", "edited", "k-2", "task {edited}: its idempotency key"),
    ("tasks", "created_at", "edited", 1.0, "task {edited}: its creation time was altered"),
    ("tasks", "updated_at", "edited", 1.0, "task {edited}: its update time was altered"),
    ("tasks", "held_by", "held", "mallory", "task {held}: its holder was altered"),
    ("tasks", "held_until", "held", 9e12, "task {held}: its holder was altered"),
    ("tasks", "held_by", "approved", "mallory", "task {approved}: its holder was altered"),
    ("drafts", "messages", "first_draft", "[]", "draft {first_draft}: its prompt was altered"),
    ("drafts", "model", "first_draft", "groq:x", "draft {first_draft}: its model was altered"),
    ("drafts", "provider", "first_draft", "groq", "draft {first_draft}: its provider"),
    ("drafts", "seed", "first_draft", 7, "draft {first_draft}: its seed was altered"),
    ("drafts", "seed", "second_draft", None, "draft {second_draft}: its seed was altered"),
    ("drafts", "feedback", "second_draft", "none", "draft {second_draft}: its feedback"),
    ("drafts", "output", "first_draft", "Forged.", "draft {first_draft}: its output"),
    ("drafts", "attempt", "first_draft", 3, "draft {first_draft}: its attempt was altered"),
    ("drafts", "created_at", "first_draft", 1.0, "draft {first_draft}: its time was altered"),
    ("decisions", "actor", "edit", "admin1", "decision {edit}: its actor was altered"),
    ("decisions", "role", "edit", "admin", "decision {edit}: its role was altered"),
    ("decisions", "text", "edit", "Forged text.", "decision {edit}: its text was altered"),
    ("decisions", "diff", "edit", "+ forged", "decision {edit}: its diff was altered"),
    ("decisions", "kind", "reject", "approve", "decision {reject}: its kind was altered"),
    ("decisions", "reason", "reject", "Because.", "decision {reject}: its reason was altered"),
    ("decisions", "feedback", "revise", "Colder.", "decision {revise}: its feedback"),
    ("decisions", "created_at", "edit", 1.0, "decision {edit}: its time was altered"),
    ("decisions", "draft_id", "edit", "{first_draft}", "decision {edit}: its draft was altered"),
    ("examples", "excluded", "marked", False, "task {marked}: its example's not-an-example mark"),
    ("examples", "excluded", "approved", True, "task {approved}: its example's not-an-example"),
    (
        "examples",
        "body",
        "approved",
        "forged words",
        "task {approved}: its example's searched text",
    ),
    ("examples", "kind", "approved", "other", "task {approved}: its example's kind was altered"),
]
KEYS = {"tasks": "id", "drafts": "id", "decisions": "id", "examples": "task_id"}


@pytest.mark.parametrize(("table", "column", "row", "forged", "said"), EDITS)
def test_a_direct_edit_of_a_shown_value_is_reported(
    world: World, table: str, column: str, row: str, forged: Any, said: str
) -> None:
    assert world.problems() == []
    target = world.ids[row]
    value = forged.format(**world.ids) if isinstance(forged, str) else forged
    column_ref = sa.table(table, sa.column(KEYS[table]), sa.column(column))
    where = column_ref.c[KEYS[table]] == target
    with world.sql.begin() as conn:
        original = conn.execute(sa.select(column_ref.c[column]).where(where)).scalar_one()
        conn.execute(column_ref.update().where(where).values({column: value}))
    try:
        problems = world.problems()
        expected = said.format(**world.ids)
        assert any(expected in problem for problem in problems), problems
    finally:
        with world.sql.begin() as conn:
            conn.execute(column_ref.update().where(where).values({column: original}))
    assert world.problems() == []


def test_a_deleted_or_added_row_is_reported(world: World) -> None:
    decisions = sa.table("decisions", sa.column("id"))
    edit = world.ids["edit"]
    with world.sql.begin() as conn:
        row = conn.execute(sa.text("SELECT * FROM decisions WHERE id = :id"), {"id": edit}).one()
        conn.execute(decisions.delete().where(decisions.c.id == edit))
    try:
        assert any(f"decision {edit} is missing" in p for p in world.problems())
    finally:
        with world.sql.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO decisions VALUES ("
                    + ", ".join(f":c{i}" for i in range(len(row)))
                    + ")"
                ),
                {f"c{i}": v for i, v in enumerate(row)},
            )
    assert world.problems() == []


def test_a_lost_or_forged_example_row_is_reported(world: World) -> None:
    examples = sa.table("examples", sa.column("task_id"), sa.column("kind"), sa.column("body"))
    marked = world.ids["marked"]
    with world.sql.begin() as conn:
        row = conn.execute(sa.text("SELECT * FROM examples WHERE task_id = :id"), {"id": marked})
        kept = row.one()._mapping
        conn.execute(examples.delete().where(examples.c.task_id == marked))
    try:
        assert any(f"task {marked}: its example row" in p for p in world.problems())
        # Nor does the row come back unmarked when a process adds the rows a kind lacks.
        assert world.engine.store.index_examples("note") == 1
        assert world.engine.store.example_entry(marked).excluded  # type: ignore[union-attr]
        assert world.problems() == []
    finally:
        with world.sql.begin() as conn:
            conn.execute(examples.delete().where(examples.c.task_id == marked))
            conn.execute(sa.insert(schema.examples), [dict(kept)])
    assert world.problems() == []
    rejected = world.ids["rejected"]
    forged = {"task_id": rejected, "kind": "note", "excluded": False, "body": "coffee"}
    with world.sql.begin() as conn:
        conn.execute(sa.insert(schema.examples), [forged])
    try:
        said = f"task {rejected}: it is kept as an example but was never approved"
        assert said in world.problems()
    finally:
        with world.sql.begin() as conn:
            conn.execute(examples.delete().where(examples.c.task_id == rejected))
    assert world.problems() == []


def test_the_search_index_is_checked_against_the_rows(world: World) -> None:
    """SQLite's FTS5 table, or PostgreSQL's stored tsvectors, forged beside the rows."""
    approved = world.ids["approved"]
    if world.sql.dialect.name == "sqlite":
        forge = [
            "INSERT INTO examples_fts (rowid, body) "
            "SELECT id, 'wire the money' FROM examples WHERE task_id = :id"
        ]
        undo = ["INSERT INTO examples_fts (examples_fts) VALUES ('rebuild')"]  # from the rows
        said = "the examples' search index does not match their rows"
    else:  # its trigger sets the column at every write: an attacker turns it off first
        forge = [
            "ALTER TABLE examples DISABLE TRIGGER examples_terms",
            "UPDATE examples SET terms = to_tsvector('wire the money') WHERE task_id = :id",
            "ALTER TABLE examples ENABLE TRIGGER examples_terms",
        ]
        undo = ["UPDATE examples SET body = body WHERE task_id = :id"]  # the trigger again
        said = f"task {approved}: its example's search terms were altered"
    with world.sql.begin() as conn:
        for sql in forge:
            conn.execute(sa.text(sql), {"id": approved})
    try:
        assert any(said in problem for problem in world.problems()), world.problems()
    finally:
        with world.sql.begin() as conn:
            for sql in undo:
                conn.execute(sa.text(sql), {"id": approved})
    assert world.problems() == []
