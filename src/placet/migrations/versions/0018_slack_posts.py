"""Slack: the messages posted for each task, to update them in place when it is decided.

Revision ID: 0018
Revises: 0016

A Slack message is known by its channel's id and its ``ts``; the Slack channel's
sender keeps both for every message it posts about a task (store/slack_posts.py),
so the "decided" notification can rewrite each with the outcome. Nothing was ever
posted before: nothing to fill in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_posts",
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("ts", sa.String(length=40), nullable=False),
        sa.Column("task_id", sa.String(length=26), nullable=False),
        sa.Column("notification_id", sa.String(length=26), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("channel_id", "ts"),
    )
    op.create_index("ix_slack_posts_task_id", "slack_posts", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_slack_posts_task_id", table_name="slack_posts")
    op.drop_table("slack_posts")
