"""SQLite: a task's status is indexed once, under its kind.

Revision ID: 0006
Revises: 0005

SQLite had two indexes holding a task's status, ``(status, id)`` and
``(kind, status, id)``, and every status change rewrote a page of each. Its
queries by status now walk ``(kind, status, id)`` once per kind present
(``statements.EVERY_KIND``), so ``(status, id)`` goes. PostgreSQL keeps it:
its claims lock the first row they can along it.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_tasks_status_id", table_name="tasks")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_tasks_status_id", "tasks", ["status", "id"])
