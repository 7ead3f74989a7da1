"""Idempotency keys: a unique index over the tasks that have one, not a NULL entry for each.

Revision ID: 0005
Revises: 0004

SQLite cannot drop a table's constraint, so there the tasks table is rebuilt
(Alembic's batch mode: copy, drop, rename; its indexes are made again).
``migrate.upgrade`` runs SQLite migrations with foreign keys off, as SQLite
requires for a rebuild, and checks every reference before it commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEYED = sa.text("idempotency_key IS NOT NULL")
# SQLite's reflection gives the column's UNIQUE constraint no name; this names
# it for the batch rebuild. PostgreSQL named it itself.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tasks", naming_convention=SQLITE_NAMES) as batch:
            batch.drop_constraint("uq_tasks_idempotency_key", type_="unique")
    else:
        op.drop_constraint("tasks_idempotency_key_key", "tasks", type_="unique")
    op.create_index(
        "ux_tasks_idempotency_key",
        "tasks",
        ["idempotency_key"],
        unique=True,
        sqlite_where=KEYED,
        postgresql_where=KEYED,
    )


def downgrade() -> None:
    op.drop_index("ux_tasks_idempotency_key", table_name="tasks")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tasks") as batch:
            batch.create_unique_constraint("uq_tasks_idempotency_key", ["idempotency_key"])
    else:
        op.create_unique_constraint("tasks_idempotency_key_key", "tasks", ["idempotency_key"])
