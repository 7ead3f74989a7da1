"""Each worker's pace against each hosted API (``provider_pace``), for ``placet status``.

A worker writes what its rate-limit gates know (``providers.pacing.Pace``, as JSON)
every few seconds; a reader takes the rows written lately. Through the SQLAlchemy
engine of the same database, as the notifications' tables are.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.domain.paces import PaceRow
from placet.store.schema import provider_pace
from placet.store.sidetables import SideTables

P = provider_pace
FORGET_AFTER_SECONDS = 24 * 3600.0  # a worker's row is dropped a day after its last write


class PaceStore:
    """The provider_pace table of a SQL store's database."""

    def __init__(self, engine: Engine) -> None:
        self._tables = SideTables(engine)

    def publish(self, worker: str, paces: dict[str, dict[str, Any]], now: float) -> None:
        """Write a worker's pace per endpoint (replacing its rows), dropping old rows."""
        with self._tables.write() as conn:
            conn.execute(sa.delete(P).where(P.c.worker == worker))
            conn.execute(sa.delete(P).where(P.c.updated_at < now - FORGET_AFTER_SECONDS))
            if paces:
                conn.execute(
                    sa.insert(P),
                    [
                        {"endpoint": endpoint, "worker": worker, "updated_at": now,
                         "pace": json.dumps(pace)}
                        for endpoint, pace in paces.items()
                    ],
                )  # fmt: skip

    def since(self, when: float) -> list[PaceRow]:
        """The rows written at ``when`` or later, by endpoint and worker."""
        statement = sa.select(P).where(P.c.updated_at >= when).order_by(P.c.endpoint, P.c.worker)
        return [
            PaceRow(row.endpoint, row.worker, row.updated_at, json.loads(row.pace))
            for row in self._tables.rows(statement)
        ]
