"""Task counts by kind and status, shared by every page and stream of one app.

``store.count_by_status()`` is a full GROUP BY over the tasks table: 180-360 ms
at a million tasks. The queue page, its live fragment and every open queue
stream want it, so they share one recent answer instead of each paying for
its own.

Why the counts on a page may be a second or two old: a value is reused for
up to ``ttl`` seconds (1 s) while nothing has been committed since it was
read, and after a commit for at most ``min_age`` seconds (0.25 s), so a burst
of decisions costs a few counts a second, not one per request. When a page
finds the value older than that but younger than ``stale`` (2 s), it gets the
value at once and a fresh count starts in the background, so no page waits
for the GROUP BY except the first. The broker drops the value as soon as the
store's change signal fires (this process's commits and other processes'),
so the TTL only heals a missed signal.

Queue streams ask for ``settled`` counts: never older than ``min_age`` once a
commit has been seen. A stream woken by a commit reads ``min_age`` (its settle
time) later, so what it gets was read after that commit, and it cannot miss a
change it was told about.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from placet.domain.models import TaskStatus
from placet.errors import PlacetError

Counts = dict[tuple[str, TaskStatus], int]

TTL_SECONDS = 1.0
MIN_AGE_SECONDS = 0.25
STALE_SECONDS = 2.0

log = logging.getLogger("placet.web")


class CountsCache:
    """A short-lived, thread-safe copy of the task counts, dropped on commits."""

    def __init__(
        self,
        count: Callable[[], Counts],
        ttl: float = TTL_SECONDS,
        min_age: float = MIN_AGE_SECONDS,
        stale: float = STALE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._count = count
        self._ttl, self._min_age, self._stale, self._clock = ttl, min_age, stale, clock
        self._lock = threading.Lock()  # guards the fields below
        self._refresh = threading.Lock()  # one GROUP BY at a time, whoever asks
        self._value: Counts | None = None
        self._read_at = 0.0  # when the query behind _value started
        self._generation = 0  # bumped by every invalidate()
        self._value_generation = -1

    def get(self, settled: bool = False) -> Counts:
        """The counts; ``settled``: never older than ``min_age`` after a seen commit."""
        with self._lock:
            value, fresh, usable = self._state()
        if value is not None and (fresh or (usable and not settled)):
            if not fresh:
                self._refresh_in_background()
            return dict(value)
        with self._refresh:
            with self._lock:  # someone may have counted while this thread waited
                value, fresh, _usable = self._state()
            if value is not None and fresh:
                return dict(value)
            return dict(self._count_now())

    def invalidate(self) -> None:
        """Something was committed: the copy now serves only until ``min_age`` is reached."""
        with self._lock:
            self._generation += 1

    def _state(self) -> tuple[Counts | None, bool, bool]:
        """The value, whether it is fresh, and whether a page may still show it."""
        if self._value is None:
            return None, False, False
        age = self._clock() - self._read_at
        unchanged = self._value_generation == self._generation
        fresh = age < self._min_age or (unchanged and age < self._ttl)
        return self._value, fresh, age < self._stale

    def _count_now(self) -> Counts:
        """Count (the caller holds ``_refresh``) and keep the result."""
        with self._lock:
            generation, started = self._generation, self._clock()
        value = self._count()
        with self._lock:
            if started >= self._read_at:
                self._value, self._read_at = value, started
                self._value_generation = generation
        return value

    def _refresh_in_background(self) -> None:
        if not self._refresh.acquire(blocking=False):
            return  # a count is already running

        def refresh() -> None:
            try:
                self._count_now()
            except PlacetError as exc:  # the next page to count itself will show the error
                log.warning("counts: the store did not answer: %s", exc.message)
            finally:
                self._refresh.release()

        threading.Thread(target=refresh, name="placet-counts", daemon=True).start()
