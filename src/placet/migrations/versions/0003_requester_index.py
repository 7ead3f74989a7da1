"""An index for listing one requester's tasks.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_requester_id", "tasks", ["requester", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_requester_id", table_name="tasks")
