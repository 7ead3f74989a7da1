"""Drafts keep their sampling seed.

Revision ID: 0012
Revises: 0011

Every attempt is drafted with a new seed, so asking again gives another draft;
the seed is kept with the draft (and in its ``save_draft`` event, so the audit
chain proves it), and a local model given the same messages and seed writes the
draft again. Drafts made before have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("drafts", sa.Column("seed", sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place since 3.35 (a rebuild would trip foreign keys).
    op.drop_column("drafts", "seed")
