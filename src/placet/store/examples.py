"""Examples from approved work, in SQL: the rows, and the full-text searches over them.

A row (``schema.examples``) is written in the transaction of the change that
approves a task or marks it (``EXAMPLE_UPSERT_*``, run by the backends'
``apply``). A search ranks a kind's approved tasks by their input's words:

- SQLite: an FTS5 table on the rows' bodies (porter stemming, kept by triggers),
  ranked by ``bm25``;
- PostgreSQL: a GIN index on the rows' ``tsvector`` (set from the body by a trigger),
  ranked by ``ts_rank``.

Both look at no more than SEARCH_CANDIDATES matching rows, the latest first,
before ranking them: a query's cost is bounded however many tasks share a
word with the input. Search terms are quoted here as each database's query
syntax wants, so no text of an input is ever read as an operator.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from placet.domain.examples import MARKS, ExampleEntry, example_text
from placet.domain.models import JsonObject, TaskStatus
from placet.store import schema
from placet.store.statements import TASK_COLUMNS

X = schema.examples
SEARCH_CANDIDATES = 1000  # matching rows ranked at most, the latest first
BACKFILL_BATCH = 500
_APPROVED = TaskStatus.APPROVED.value
_TASK = ", ".join(f"t.{name}" for name in TASK_COLUMNS)
_CONFIG = schema.TEXT_SEARCH_CONFIG
# Where a kind's approved, not excluded, examples meet their tasks (whose status and
# kind the chain proves, so a forged row cannot bring in a task never approved).
_USABLE = f"t.kind = :kind AND t.status = '{_APPROVED}' AND t.id <> :besides"

EXAMPLE_UPSERT_SQLITE = (
    "INSERT INTO examples (task_id, kind, excluded, body) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (task_id) DO UPDATE SET excluded = excluded.excluded"
)
# A CTE of PostgreSQL's one-statement change (store/postgres.py): only if the task moved.
EXAMPLE_UPSERT_PG = (
    "new_example AS (INSERT INTO examples (task_id, kind, excluded, body) "
    "SELECT %s, %s, %s::boolean, %s FROM moved "
    "ON CONFLICT (task_id) DO UPDATE SET excluded = EXCLUDED.excluded)"
)

SIMILAR_SQLITE = sa.text(
    f"SELECT {_TASK} FROM ("
    "SELECT e.id AS example_id, e.task_id AS task_id, bm25(examples_fts) AS score "
    "FROM examples_fts JOIN examples e ON e.id = examples_fts.rowid "
    "WHERE examples_fts MATCH :query AND e.kind = :kind AND NOT e.excluded "
    "ORDER BY examples_fts.rowid DESC LIMIT :candidates"
    f") AS m JOIN tasks t ON t.id = m.task_id WHERE {_USABLE} "
    "ORDER BY m.score, m.example_id DESC LIMIT :limit"
)
SIMILAR_PG = sa.text(
    f"SELECT {_TASK} FROM ("
    "SELECT e.id AS example_id, e.task_id AS task_id, e.terms AS terms FROM examples e "
    f"WHERE e.terms @@ to_tsquery('{_CONFIG}', :query) AND e.kind = :kind AND NOT e.excluded "
    "ORDER BY e.id DESC LIMIT :candidates"
    f") AS m JOIN tasks t ON t.id = m.task_id WHERE {_USABLE} "
    f"ORDER BY ts_rank(m.terms, to_tsquery('{_CONFIG}', :query)) DESC, "
    "m.example_id DESC LIMIT :limit"
)
# The kind's latest rows first, walking ix_examples_kind_id backwards, then their tasks:
# joined the other way round, SQLite read every approved task of the kind to sort them.
LATEST = sa.text(
    f"SELECT {_TASK} FROM ("
    "SELECT e.id AS example_id, e.task_id AS task_id FROM examples e "
    "WHERE e.kind = :kind AND NOT e.excluded ORDER BY e.id DESC LIMIT :window"
    f") AS m JOIN tasks t ON t.id = m.task_id WHERE {_USABLE} "
    "ORDER BY m.example_id DESC LIMIT :limit"
)
LATEST_SLACK = 10  # rows the window reads beyond those wanted (one a forged row may cost)
ENTRY = sa.select(X.c.task_id, X.c.kind, X.c.body, X.c.excluded).where(
    X.c.task_id == sa.bindparam("id")
)
T, E = schema.tasks, schema.events
# Whether a task was ever marked (an example row lost since must not come back unmarked).
_MARKED = (
    sa.exists()
    .where(E.c.task_id == T.c.id)
    .where(E.c.type.in_([sa.literal(mark) for mark in sorted(MARKS)]))
)
UNINDEXED = (
    sa.select(T.c.id, T.c.kind, T.c.input, _MARKED.label("marked"))
    .where(T.c.kind == sa.bindparam("kind"))
    .where(T.c.status == _APPROVED)
    .where(~sa.exists().where(X.c.task_id == T.c.id))
    .order_by(T.c.updated_at, T.c.id)
    .limit(BACKFILL_BATCH)
)
FTS_INTEGRITY = "INSERT INTO examples_fts (examples_fts, rank) VALUES ('integrity-check', 1)"
TERMS_ASTRAY = sa.text(  # PostgreSQL: rows whose stored tsvector is not their body's
    "SELECT task_id FROM examples "
    f"WHERE terms IS DISTINCT FROM to_tsvector('{_CONFIG}', body) ORDER BY id LIMIT 10"
)


def fts5_query(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of the terms, each a quoted string (never an operator)."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def tsquery(terms: Sequence[str]) -> str:
    """A tsquery matching any of the terms, each a quoted lexeme (never an operator)."""
    quoted = (term.replace("\\", "\\\\").replace("'", "''") for term in terms)
    return " | ".join(f"'{term}'" for term in quoted)


def similar_params(kind: str, query: str, limit: int, besides: str) -> dict[str, str | int]:
    """The parameters of SIMILAR_SQLITE and SIMILAR_PG."""
    return {
        "kind": kind,
        "query": query,
        "limit": limit,
        "besides": besides,
        "candidates": SEARCH_CANDIDATES,
    }


def entry_values(entry: ExampleEntry) -> tuple[str, str, bool, str]:
    """An example row's values, in the order the upserts bind them."""
    return (entry.task_id, entry.kind, entry.excluded, entry.body)


def entry(row: Sequence[Any]) -> ExampleEntry:
    """An example row as the domain's record."""
    task_id, kind, body, excluded = row
    return ExampleEntry(str(task_id), str(kind), str(body), bool(excluded))


def backfill_rows(
    found: Sequence[Sequence[Any]], excluded: Callable[[str], bool]
) -> list[dict[str, Any]]:
    """Rows for approved tasks that have none yet, their bodies made as an approval makes
    them; ``excluded`` reads the mark of a task that has one from its events."""
    rows = []
    for task_id, kind, text, marked in found:
        values: JsonObject = json.loads(str(text))
        body = example_text(values)
        out = bool(marked) and excluded(str(task_id))
        rows.append({"task_id": task_id, "kind": kind, "excluded": out, "body": body})
    return rows


def insert_missing(dialect: str) -> sa.Insert:
    """Insert example rows, leaving a task that has one (a race, or a mark) as it is."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(X).on_conflict_do_nothing(index_elements=["task_id"])
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(X).on_conflict_do_nothing(index_elements=["task_id"])
