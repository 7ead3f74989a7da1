"""Finding the decisions a handler has not been given yet, cheaply and without missing one.

Why a walk over the decisions table, and not a delivery row written with each
decision: that row would have to be written in the decision's own
transaction, on the engine's hot path, for handlers the deciding process may
not even know about (a CLI approval knows nothing of the service's handlers).
So the worker finds the decisions instead, after they commit.

Why not just "every decision after the last id seen": decision ids are ULIDs
made in many processes, so commit order is not id order; a decision made a
moment before another but committed after it would sort behind a cursor that
had already passed it, and be missed for good. And why not "every final
decision that has no delivery row": with a million decisions that anti-join
reads the whole history on every look.

The walk does both, bounded:

* ``swept_id`` (in the ``handlers`` table) marks how far every decision is
  known to have its delivery row. It only moves up to ``settle_seconds``
  before now: a decision older than that which has not committed by now is
  taken never to commit (a decision commits within the store's 30-second
  lock and pool timeouts of being made; the margin is ten times that).
* A **hot** walk, on every wake-up, reads only decisions after the newest id
  this worker has walked: one index probe when nothing is new.
* A **re-sweep**, every ``resweep_seconds``, walks again from ``swept_id``
  (at most ``settle_seconds`` of decisions, plus any backlog), picking up any
  decision that committed late behind the hot walk, then moves ``swept_id``.

Every walk goes a page of decision ids at a time (the primary key's index),
at most ``max_pages`` per call, so a backlog of a million decisions is
worked off in bounded steps between deliveries, never in one long query.
Creating a delivery row ignores a row another worker made first, so workers
may walk the same decisions at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from placet.domain.ids import id_floor
from placet.handlers.base import Handler
from placet.store.deliveries import DeliveryStore

PAGE_SIZE = 1000
MAX_PAGES_PER_SWEEP = 20
SETTLE_SECONDS = 300.0
RESWEEP_SECONDS = 30.0


@dataclass
class _Cursor:
    hot: str  # every decision up to here was walked by this worker
    resweep_from: str | None = None  # where a re-sweep under way goes on from
    resweep_at: float = 0.0  # when the next re-sweep starts


class Sweeper:
    """Makes the delivery rows of one handler's final decisions as they commit."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        handler: Handler,
        *,
        settle_seconds: float = SETTLE_SECONDS,
        resweep_seconds: float = RESWEEP_SECONDS,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES_PER_SWEEP,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._deliveries = deliveries
        self.handler = handler
        self._settle = settle_seconds
        self._resweep = resweep_seconds
        self._page_size = page_size
        self._max_pages = max_pages
        self._clock = clock
        self._cursor: _Cursor | None = None
        self.behind = False  # the last walk stopped at its page limit: more to walk at once

    def sweep(self) -> int:
        """Walk the decisions due a look; return how many delivery rows were made."""
        now = self._clock()
        cursor = self._cursor or _Cursor(hot=self._swept())
        self._cursor = cursor
        if cursor.resweep_from is None and now >= cursor.resweep_at:
            cursor.resweep_from = self._swept()
        resweeping = cursor.resweep_from is not None
        start = cursor.resweep_from if cursor.resweep_from is not None else cursor.hot
        made, end, finished = self._walk(start, advance=resweeping, now=now)
        cursor.hot = max(cursor.hot, end)
        self.behind = not finished
        if resweeping:  # a capped re-sweep goes on from here next time, still contiguous
            cursor.resweep_from = None if finished else end
            cursor.resweep_at = now + self._resweep
        return made

    def _swept(self) -> str:
        record = self._deliveries.handler(self.handler.name)
        if record is None:
            raise LookupError(f"handler {self.handler.name} is not registered")
        return record.swept_id

    def _walk(self, after: str, *, advance: bool, now: float) -> tuple[int, str, bool]:
        """Walk pages after ``after``; (rows made, last id walked, reached the newest)."""
        settled = id_floor(now - self._settle)
        made = 0
        for _ in range(self._max_pages):
            page = self._deliveries.decision_page(after, self._page_size)
            if not page:
                return made, after, True
            made += self._deliver_page(after, page[-1], now)
            covered = min(page[-1], settled)  # all of this page, or up to the settled mark
            if advance and covered > after:
                self._deliveries.advance(self.handler.name, covered)
            after = page[-1]
            if len(page) < self._page_size:
                return made, after, True
        return made, after, False

    def _deliver_page(self, after: str, through: str, now: float) -> int:
        handler = self.handler
        found = self._deliveries.undelivered(
            handler.name, handler.kind, handler.outcome, after, through
        )
        self._deliveries.add(handler.name, found, now)
        return len(found)
