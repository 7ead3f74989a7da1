"""Examples from approved work: the approved tasks a kind's prompts may show, searchable.

Revision ID: 0015
Revises: 0014

A kind with ``learn = { examples = N }`` puts the N approved tasks most like
the task at hand into its prompt (domain/examples.py). ``examples`` keeps a row
per approved task: the words of its input and whether a reviewer marked it
"not an example". It is searched with the database's own full-text search: on
PostgreSQL a GIN index on the body's ``tsvector`` (a column a trigger sets);
on SQLite an FTS5 table whose content is ``examples``, kept current by triggers.

Every task approved before this revision gets its row here, oldest approval
first, so that the latest approvals have the highest ids (the order a search
falls back on). The searched text is computed by the domain's own function,
as ``placet audit verify`` computes it again.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from placet.domain.examples import example_text

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 1000
SQLITE_ONLY = (
    "CREATE VIRTUAL TABLE examples_fts USING fts5(body, content='examples', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER examples_fts_insert AFTER INSERT ON examples BEGIN "
    "INSERT INTO examples_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER examples_fts_delete AFTER DELETE ON examples BEGIN "
    "INSERT INTO examples_fts (examples_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "END",
    "CREATE TRIGGER examples_fts_update AFTER UPDATE OF body ON examples BEGIN "
    "INSERT INTO examples_fts (examples_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO examples_fts (rowid, body) VALUES (new.id, new.body); END",
)


POSTGRESQL_ONLY = (
    "CREATE TRIGGER examples_terms BEFORE INSERT OR UPDATE ON examples FOR EACH ROW "
    "EXECUTE FUNCTION tsvector_update_trigger(terms, 'pg_catalog.english', body)",
)


def upgrade() -> None:
    op.create_table(
        "examples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(26), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("kind", sa.String(200), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")),
    )
    op.create_index("ux_examples_task_id", "examples", ["task_id"], unique=True)
    op.create_index("ix_examples_kind_id", "examples", ["kind", "id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_ONLY if sqlite else POSTGRESQL_ONLY:
        op.execute(statement)
    _backfill()
    if not sqlite:  # built once, after the rows are in
        op.create_index("ix_examples_terms", "examples", ["terms"], postgresql_using="gin")


def _backfill() -> None:
    bind = op.get_bind()
    approved = sa.text(
        "SELECT id, kind, input FROM tasks WHERE status = 'approved' ORDER BY updated_at, id"
    )
    insert = sa.text(
        "INSERT INTO examples (task_id, kind, excluded, body) VALUES (:task_id, :kind, :no, :body)"
    )
    rows = bind.execute(approved, execution_options={"yield_per": BATCH})
    for batch in rows.partitions():
        values = [
            {
                "task_id": r.id,
                "kind": r.kind,
                "no": False,
                "body": example_text(json.loads(r.input)),
            }
            for r in batch
        ]
        bind.execute(insert, values)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER examples_fts_{trigger}")
        op.execute("DROP TABLE examples_fts")
    else:
        op.drop_index("ix_examples_terms", "examples")
        op.execute("DROP TRIGGER examples_terms ON examples")
    op.drop_index("ix_examples_kind_id", "examples")
    op.drop_index("ux_examples_task_id", "examples")
    op.drop_table("examples")
