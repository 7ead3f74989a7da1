"""The stats page's shared reading: reuse, invalidation after min_age, the TTL, one at a time."""

from __future__ import annotations

import threading
import time

from placet.domain.stats import Overdue, Stats
from placet.engine.stats import ReviewNumbers
from placet.web.stats_cache import StatsCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Reader:
    """A review_numbers stand-in: each reading says which it was (in tasks_scanned)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self) -> ReviewNumbers:
        with self._lock:
            self.calls += 1
            calls = self.calls
        time.sleep(self.delay)
        return ReviewNumbers(Stats(tasks_scanned=calls), Overdue())


def reading(cache: StatsCache) -> int:
    return cache.get().stats.tasks_scanned


def test_a_reading_is_reused_until_the_ttl_while_nothing_is_committed() -> None:
    reader, clock = Reader(), Clock()
    cache = StatsCache(reader, ttl=60, min_age=2, clock=clock)
    assert reading(cache) == reading(cache) == 1
    clock.now += 59
    assert reading(cache) == 1
    clock.now += 2
    assert reading(cache) == 2


def test_a_commit_drops_the_reading_once_it_is_min_age_old() -> None:
    reader, clock = Reader(), Clock()
    cache = StatsCache(reader, ttl=60, min_age=2, clock=clock)
    assert reading(cache) == 1
    cache.invalidate()
    clock.now += 1
    assert reading(cache) == 1  # a burst of commits costs one reading every min_age
    clock.now += 1.5
    assert reading(cache) == 2
    assert reading(cache) == 2  # nothing committed since this one began


def test_a_commit_during_a_reading_leaves_it_stale() -> None:
    clock = Clock()
    cache: StatsCache

    def commit_meanwhile() -> ReviewNumbers:
        cache.invalidate()  # committed after the reading began: it may have missed it
        return ReviewNumbers(Stats(), Overdue())

    cache = StatsCache(commit_meanwhile, ttl=60, min_age=0, clock=clock)
    first = cache.get()
    clock.now += 0.1
    assert cache.get() is not first


def test_readers_at_once_share_one_reading() -> None:
    reader = Reader(delay=0.2)
    cache = StatsCache(reader, ttl=3600, min_age=3600)  # however slowly the threads start
    found: list[int] = []
    threads = [threading.Thread(target=lambda: found.append(reading(cache))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [1] * 6 and reader.calls == 1
