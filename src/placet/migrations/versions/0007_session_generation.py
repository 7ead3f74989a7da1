"""Sessions that end: a per-user session generation.

Revision ID: 0007
Revises: 0006

A dashboard session is a signed cookie and the server keeps no session rows,
so one cookie cannot be struck off. Each cookie carries the generation of its
user's sessions it began in; signing out, a new password, disabling the user
or an admin's "sign out everywhere" raise it, and every older cookie stops
working at once. Existing users start at 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
