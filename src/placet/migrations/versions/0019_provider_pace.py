"""Each worker's pace against a hosted API's rate limits, for `placet status` (issue 22).

Revision ID: 0019
Revises: 0018

A worker drafting many at once keeps inside the rate limits a hosted API announces
(providers/pacing.py) and writes what it knows, every few seconds, to one row per
worker and endpoint. Nothing existed before: nothing to fill in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_pace",
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("pace", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "worker"),
    )


def downgrade() -> None:
    op.drop_table("provider_pace")
