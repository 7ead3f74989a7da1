"""Outcome handlers: who is registered, and each delivery's state.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(length=26)


def upgrade() -> None:
    op.create_table(
        "handlers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("first_seen_at", sa.Float(), nullable=False),
        sa.Column("swept_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "handler_deliveries",
        sa.Column("handler", sa.String(length=200), nullable=False),
        sa.Column("decision_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("handler", "decision_id"),
    )
    op.create_index(
        "ix_handler_deliveries_status_next_try_at",
        "handler_deliveries",
        ["status", "next_try_at"],
    )
    op.create_index("ix_handler_deliveries_task_id", "handler_deliveries", ["task_id"])


def downgrade() -> None:
    op.drop_table("handler_deliveries")
    op.drop_table("handlers")
