"""E-mail: each account's address, and the signed links already used.

Revision ID: 0017
Revises: 0016

``account_emails`` holds the address an e-mail notification for an account
goes to (``placet users email NAME ADDRESS``); a table of its own, so an
account without one is simply absent. ``link_uses`` records each signed link
(an e-mail's approve / reject links, an inbound callback URL) when it is used:
the row is claimed before the decision, by its primary key, so single use
holds across processes and machines (domain/links.py). Nothing to fill in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_emails",
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"]),
        sa.PrimaryKeyConstraint("user_name"),
    )
    op.create_table(
        "link_uses",
        sa.Column("link_id", sa.String(length=80), nullable=False),
        sa.Column("task_id", sa.String(length=26), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("link_id"),
    )


def downgrade() -> None:
    op.drop_table("link_uses")
    op.drop_table("account_emails")
