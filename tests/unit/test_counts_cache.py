"""The web layer's shared task counts: reuse, expiry, invalidation, one count at a time."""

from __future__ import annotations

import threading
import time

from placet.domain.models import TaskStatus
from placet.web.counts import Counts, CountsCache


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counter:
    """A count_by_status stand-in that says how often it ran."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self) -> Counts:
        with self._lock:
            self.calls += 1
            calls = self.calls
        time.sleep(self.delay)
        return {("k", TaskStatus.QUEUED): calls}


def cache(counter: Counter, clock: Clock) -> CountsCache:
    return CountsCache(counter, ttl=1.0, min_age=0.25, stale=2.0, clock=clock)


def test_a_value_is_reused_until_the_ttl_when_nothing_changes() -> None:
    counter, clock = Counter(), Clock()
    counts = cache(counter, clock)
    assert counts.get() == counts.get() == {("k", TaskStatus.QUEUED): 1}
    clock.now += 0.9
    assert counts.get(settled=True)[("k", TaskStatus.QUEUED)] == 1
    clock.now += 0.2  # past the TTL: a settled reader counts again
    assert counts.get(settled=True)[("k", TaskStatus.QUEUED)] == 2
    assert counter.calls == 2


def test_a_commit_limits_reuse_to_the_minimum_age() -> None:
    counter, clock = Counter(), Clock()
    counts = cache(counter, clock)
    counts.get()
    counts.invalidate()
    clock.now += 0.2
    assert counts.get(settled=True)[("k", TaskStatus.QUEUED)] == 1  # a burst costs one count
    clock.now += 0.1
    assert counts.get(settled=True)[("k", TaskStatus.QUEUED)] == 2


def test_a_page_gets_a_stale_value_at_once_and_a_fresh_count_starts_behind_it() -> None:
    counter, clock = Counter(), Clock()
    counts = cache(counter, clock)
    counts.get()
    counts.invalidate()
    clock.now += 0.5
    assert counts.get()[("k", TaskStatus.QUEUED)] == 1  # not waiting for the GROUP BY
    deadline = time.monotonic() + 5
    while counts.get()[("k", TaskStatus.QUEUED)] == 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert counts.get()[("k", TaskStatus.QUEUED)] == 2
    assert counter.calls == 2  # one count behind the pages, however many asked meanwhile
    clock.now += 5  # too old to show: the page counts itself
    assert counts.get()[("k", TaskStatus.QUEUED)] == 3


def test_a_commit_during_a_count_is_not_lost() -> None:
    clock = Clock()
    counts: CountsCache

    def count_then_commit() -> Counts:
        counts.invalidate()  # committed while the GROUP BY was running
        return {}

    counts = CountsCache(count_then_commit, ttl=1.0, min_age=0.25, clock=clock)
    counts.get()
    clock.now += 0.3  # past the minimum age: the value predates the commit
    assert counts._state()[1] is False


def test_many_readers_at_once_share_one_count() -> None:
    counter = Counter(delay=0.1)
    counts = CountsCache(counter)
    readers = [threading.Thread(target=counts.get) for _ in range(20)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert counter.calls == 1
