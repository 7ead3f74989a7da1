"""The Slack messages posted about each task, kept to update them in place later.

Written by the Slack channel's sender after Slack accepted a message (its
channel id and ``ts``), read when the task is decided to rewrite each message
with the outcome. A row is written once per message; a message posted again
after a lost try (at least once) is a second row, and is updated too.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.domain.slack_messages import SlackPost
from placet.store.schema import slack_posts
from placet.store.sidetables import SideTables

P = slack_posts


class SlackPostStore:
    """The Slack messages of each task, in the database of a SQL store."""

    def __init__(self, engine: Engine) -> None:
        self._tables = SideTables(engine)

    def record(self, post: SlackPost) -> None:
        """Keep a posted message (once: the same message again changes nothing)."""
        values = {
            "channel_id": post.channel_id,
            "ts": post.ts,
            "task_id": post.task_id,
            "notification_id": post.notification_id,
            "event": post.event,
            "created_at": post.created_at,
        }
        with self._tables.write() as conn:
            found = conn.execute(
                sa.select(P.c.ts).where(P.c.channel_id == post.channel_id, P.c.ts == post.ts)
            ).first()
            if found is None:
                conn.execute(P.insert().values(values))

    def for_task(self, task_id: str) -> list[SlackPost]:
        """Every message posted about a task, oldest first."""
        query = sa.select(P).where(P.c.task_id == task_id).order_by(P.c.created_at, P.c.ts)
        return [SlackPost(**row._mapping) for row in self._tables.rows(query)]
