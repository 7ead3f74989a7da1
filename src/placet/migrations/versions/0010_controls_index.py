"""The kill switch: an index of the pauses and resumes in the security log.

Revision ID: 0010
Revises: 0009

Whether drafting, guarded calls and handlers are paused is the latest pause or
resume of each scope in the security log (so both are audited and proved by
the global log). Workers ask often; a partial index holds just those rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CONTROLS = sa.text("action IN ('pause', 'resume')")


def upgrade() -> None:
    op.create_index(
        "ix_security_events_controls",
        "security_events",
        ["id"],
        sqlite_where=CONTROLS,
        postgresql_where=CONTROLS,
    )


def downgrade() -> None:
    op.drop_index("ix_security_events_controls", table_name="security_events")
