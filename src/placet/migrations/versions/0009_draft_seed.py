"""Drafts keep their sampling seed.

Revision ID: 0009
Revises: 0008

Every attempt is drafted with a new seed, so asking again gives another draft;
the seed is kept with the draft (and in its ``save_draft`` event, so the audit
chain proves it), and a local model given the same messages and seed writes the
draft again. Drafts made before have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("drafts", sa.Column("seed", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("seed")
