"""The stats page's and the metrics' numbers, read once and shared for a few seconds.

One reading is two bounded scans (``engine.stats``): about 0.15 s with a
thousand tasks on SQLite. The stats page draws six charts, each its own
request, and Prometheus scrapes every few seconds; without sharing, one view
of the page would scan six times.

A reading is reused while nothing was committed since it began and it is
younger than ``ttl`` (60 s), and in any case while it is younger than
``min_age`` (2 s), so a busy store costs one reading every few seconds,
however many pages and scrapes ask. The broker drops the reading when the
store's change signal fires (``Services`` wires it), so after a commit the
next request reads again; the TTL only heals a missed signal. One reading
runs at a time: whoever asks meanwhile waits for it instead of scanning too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from placet.engine.stats import ReviewNumbers

TTL_SECONDS = 60.0
MIN_AGE_SECONDS = 2.0


class StatsCache:
    """The latest ``ReviewNumbers``, thread-safe, dropped on commits once ``min_age`` old."""

    def __init__(
        self,
        read: Callable[[], ReviewNumbers],
        ttl: float = TTL_SECONDS,
        min_age: float = MIN_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl, self._min_age, self._clock = ttl, min_age, clock
        self._lock = threading.Lock()  # guards the fields below
        self._reading = threading.Lock()  # one reading at a time
        self._value: ReviewNumbers | None = None
        self._read_at = 0.0  # when the reading behind _value began
        self._generation = 0  # bumped by every invalidate()
        self._value_generation = -1

    def get(self) -> ReviewNumbers:
        """The numbers: the shared reading when still good, else a new one."""
        with self._lock:
            value = self._usable()
        if value is not None:
            return value
        with self._reading:
            with self._lock:  # another thread may have read while this one waited
                value = self._usable()
                generation, started = self._generation, self._clock()
            if value is not None:
                return value
            value = self._read()
            with self._lock:
                self._value, self._read_at, self._value_generation = value, started, generation
            return value

    def invalidate(self) -> None:
        """Something was committed: the reading now serves only until ``min_age``."""
        with self._lock:
            self._generation += 1

    def _usable(self) -> ReviewNumbers | None:
        if self._value is None:
            return None
        age = self._clock() - self._read_at
        unchanged = self._value_generation == self._generation
        return self._value if age < self._min_age or (unchanged and age < self._ttl) else None
