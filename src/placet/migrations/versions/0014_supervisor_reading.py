"""The supervisor's reading of a task's current draft: its risk score and flags.

Revision ID: 0014
Revises: 0013

A kind with a supervisor has every draft scanned before a person reads it
(domain/supervision.py). What was found is kept in the draft's event; the
task row keeps the risk score and the flagged types, for the queue's badge and
filter, proved by that event. Existing tasks were read by no supervisor.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("risk", sa.Integer(), nullable=True))
    op.add_column("tasks", sa.Column("flags", sa.String(1000), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place since 3.35 (a rebuild would trip foreign keys).
    op.drop_column("tasks", "flags")
    op.drop_column("tasks", "risk")
