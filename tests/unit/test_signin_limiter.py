"""The sign-in limiter: one (name, address) pair waits, longer with each failure, never others."""

from __future__ import annotations

from typing import Any

from placet.web.auth import SignInLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, **options: Any) -> SignInLimiter:
    return SignInLimiter(clock=clock, **options)


def fail(limits: SignInLimiter, times: int, name: str = "rita", address: str = "a") -> None:
    for _ in range(times):
        limits.failed(name, address)


def test_four_failures_cost_nothing_and_the_fifth_a_minute() -> None:
    clock = Clock()
    limits = limiter(clock)
    fail(limits, 4)
    assert limits.wait("rita", "a") == 0
    fail(limits, 1)
    assert limits.wait("rita", "a") == 60
    clock.now += 60
    assert limits.wait("rita", "a") == 0


def test_each_failure_after_the_block_doubles_the_wait_up_to_the_cap() -> None:
    clock = Clock()
    limits = limiter(clock, max_wait=300.0)
    fail(limits, 5)
    waits = []
    for _ in range(4):
        clock.now += limits.wait("rita", "a")  # wait it out, then fail again
        fail(limits, 1)
        waits.append(limits.wait("rita", "a"))
    assert waits == [120, 240, 300, 300]


def test_only_the_pair_waits() -> None:
    limits = limiter(Clock())
    fail(limits, 10)
    assert limits.wait("rita", "a") > 0
    assert limits.wait("rita", "b") == 0  # the real user, from her own address
    assert limits.wait("rob", "a") == 0  # an account this address did not attack


def test_a_success_or_a_quiet_hour_starts_afresh() -> None:
    clock = Clock()
    limits = limiter(clock)
    fail(limits, 4)
    limits.succeeded("rita", "a")
    fail(limits, 4)
    assert limits.wait("rita", "a") == 0
    clock.now += 3601
    fail(limits, 1)  # the four before are forgotten
    assert limits.wait("rita", "a") == 0


def test_it_keeps_at_most_max_pairs_dropping_the_oldest() -> None:
    limits = limiter(Clock(), max_pairs=3)
    fail(limits, 5, "rita", "a")
    for address in ("b", "c", "d"):
        fail(limits, 1, "rob", address)
    assert limits.wait("rita", "a") == 0  # dropped to make room: memory stays bounded


def test_at_the_cap_the_count_is_kept_until_a_quiet_spell_after_the_wait() -> None:
    clock = Clock()
    limits = limiter(clock, max_wait=3600.0, forget_after=3600.0)
    fail(limits, 12)  # the wait is at its cap
    clock.now += limits.wait("rita", "a") + 1  # waited it out, and guesses once more
    fail(limits, 1)
    assert limits.wait("rita", "a") == 3600  # one guess an hour, not five
