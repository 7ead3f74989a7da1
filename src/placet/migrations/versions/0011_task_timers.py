"""Timers: when a waiting task's next reminder, escalation or deadline is due.

Revision ID: 0011
Revises: 0010

A kind may remind, escalate and end a task nobody decided (domain/timers.py).
The task row keeps when its next timer is due; a partial index holds only the
tasks that have one, so a sweep reads the few that are due, however many tasks
there are. Existing tasks have none until their next draft.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMED = sa.text("due_at IS NOT NULL")


def upgrade() -> None:
    op.add_column("tasks", sa.Column("due_at", sa.Float(), nullable=True))
    op.create_index(
        "ix_tasks_due_at", "tasks", ["due_at"], sqlite_where=TIMED, postgresql_where=TIMED
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_due_at", table_name="tasks")
    # SQLite drops a column in place since 3.35 (a rebuild would trip foreign keys).
    op.drop_column("tasks", "due_at")
