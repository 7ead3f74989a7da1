"""The global audit log: every event logged in order, chained under the audit key.

Revision ID: 0008
Revises: 0007

Events made from now on enter ``audit_pending`` in their own transaction; a
sealer moves them into ``audit_log``. The events already in the database are
queued here as ``legacy_event``: the first seal (with the audit key, when there
is one) logs them as they are, so their plain SHA-256 chains are verified as
they were made and can no longer be rewritten unnoticed. Security events
already recorded are queued the same way, by the SHA-256 of their JSON, and
each account's roles and state are recorded as one, the audit's first word on
that account.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("task_id", sa.String(26), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(26), nullable=True),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("task_id", sa.String(26), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(26), nullable=True),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("legacy", sa.Boolean(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("sealed_at", sa.Float(), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_task_seq", "audit_log", ["task_id", "seq"])
    op.execute(
        "INSERT INTO audit_pending (kind, task_id, seq, entry_hash) "
        "SELECT 'legacy_event', task_id, seq, hash FROM events ORDER BY task_id, seq"
    )
    _record_account_states()
    _queue_security_events()


def _record_account_states() -> None:
    """Each account's roles and state as a security event, the audit's first word on it."""
    bind = op.get_bind()
    now = time.time()
    rows = bind.execute(sa.text("SELECT name, roles, disabled FROM users ORDER BY name")).all()
    events = [
        {
            "id": _new_id(now, index),
            "at": now,
            "actor": "placet db upgrade",
            "action": "account_state",
            "outcome": "allowed",
            "target": row.name,
            "detail": _canonical(
                {
                    "roles": sorted(filter(None, row.roles.split(","))),
                    "disabled": bool(row.disabled),
                }
            ),
            "remote": None,
        }
        for index, row in enumerate(rows)
    ]
    if events:
        bind.execute(
            sa.text(
                "INSERT INTO security_events (id, at, actor, action, outcome, target, detail, "
                "remote) VALUES (:id, :at, :actor, :action, :outcome, :target, :detail, :remote)"
            ),
            events,
        )


def _new_id(at: float, index: int) -> str:
    """A time-ordered id in Placet's form (26 Crockford base32 characters)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = (int(at * 1000) << 80) | (secrets.randbits(64) << 16) | index
    return "".join(alphabet[(value >> (5 * place)) & 31] for place in range(25, -1, -1))


def _canonical(value: object) -> str:
    """The text placet.domain.jsontext.canonical writes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _queue_security_events() -> None:
    """Each security event already recorded, queued by the SHA-256 of its canonical JSON."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, at, actor, action, outcome, target, detail, remote "
            "FROM security_events ORDER BY id"
        )
    ).mappings()
    queued = [
        {"ref": row["id"], "entry_hash": _digest(dict(row))} for row in rows
    ]  # the same text placet.domain.jsontext.canonical writes
    if queued:
        bind.execute(
            sa.text(
                "INSERT INTO audit_pending (kind, ref, entry_hash) "
                "VALUES ('legacy_security', :ref, :entry_hash)"
            ),
            queued,
        )


def _digest(row: dict[str, object]) -> str:
    return hashlib.sha256(_canonical(row).encode("utf-8")).hexdigest()


def downgrade() -> None:
    op.drop_index("ix_audit_log_task_seq", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("audit_pending")
