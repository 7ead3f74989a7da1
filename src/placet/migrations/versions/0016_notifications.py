"""Notifications to channels (webhooks first): the outbox, and each channel's health.

Revision ID: 0016
Revises: 0014

A change people should hear of (a draft awaiting review, a reminder, an
escalation, a decision, a failure) records one notification per configured
channel in its own transaction; a worker sends each after commit, at least
once (store/notifications.py). ``channel_health`` keeps, per channel, since
when its tries have been failing, for the dashboard's banner, /readyz and the
metrics. Existing tasks had no channels: nothing to fill in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ID = sa.String(length=26)
PENDING = sa.text("status = 'pending'")
FAILED = sa.text("status = 'failed'")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notifications_task_id", "notifications", ["task_id"])
    op.create_index(
        "ix_notifications_pending",
        "notifications",
        ["next_try_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index(
        "ix_notifications_failed",
        "notifications",
        ["finished_at"],
        sqlite_where=FAILED,
        postgresql_where=FAILED,
    )
    op.create_table(
        "channel_health",
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("failing_since", sa.Float(), nullable=True),
        sa.Column("last_ok_at", sa.Float(), nullable=True),
        sa.Column("last_failed_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )


def downgrade() -> None:
    op.drop_table("channel_health")
    op.drop_index("ix_notifications_failed", table_name="notifications")
    op.drop_index("ix_notifications_pending", table_name="notifications")
    op.drop_index("ix_notifications_task_id", table_name="notifications")
    op.drop_table("notifications")
