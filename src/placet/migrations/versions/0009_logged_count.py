"""The global audit log follows tasks, not a queue row per event.

Revision ID: 0009
Revises: 0008

Each event used to write a second row, its entry in ``audit_pending``, and the
sealer logged every event one by one. Now a task's row counts how many of its
events the log covers (``logged_count``); the tasks whose count differs from
``event_count`` are the sealer's work, found through a small partial index,
and one entry for a task's newest event covers those before it through the
task's own hash chain. Every event of an existing task is already logged or
queued (migration 0008 queued them, and Placet queued each since), so existing
tasks start fully counted; what waits in ``audit_pending`` is sealed as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNLOGGED = sa.text("event_count <> logged_count")


def upgrade() -> None:
    op.add_column(
        "tasks", sa.Column("logged_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.execute("UPDATE tasks SET logged_count = event_count")
    op.create_index(
        "ix_tasks_unlogged", "tasks", ["id"], sqlite_where=UNLOGGED, postgresql_where=UNLOGGED
    )


def downgrade() -> None:
    # Queue what the log does not cover yet, as the older code expects to find it.
    op.execute(
        "INSERT INTO audit_pending (kind, task_id, seq, entry_hash) "
        "SELECT 'event', e.task_id, e.seq, e.hash FROM events e JOIN tasks t ON t.id = e.task_id "
        "WHERE e.seq > t.logged_count ORDER BY e.task_id, e.seq"
    )
    op.drop_index("ix_tasks_unlogged", table_name="tasks")
    # SQLite drops a column in place since 3.35; a table rebuild would trip the
    # events' foreign keys.
    op.drop_column("tasks", "logged_count")
