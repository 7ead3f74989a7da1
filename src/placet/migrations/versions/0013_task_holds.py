"""Holds: who took a waiting item to review, and until when.

Revision ID: 0013
Revises: 0012

A reviewer may take an item so that others' queues skip it for a while
(domain/holds.py). The task row keeps the holder and when the hold lapses;
both are proved by the task's ``taken`` and ``released`` events. Existing
tasks are held by nobody.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("held_by", sa.String(200), nullable=True))
    op.add_column("tasks", sa.Column("held_until", sa.Float(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place since 3.35 (a rebuild would trip foreign keys).
    op.drop_column("tasks", "held_until")
    op.drop_column("tasks", "held_by")
