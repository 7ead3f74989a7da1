"""Time-ordered ids, so new rows land at the end of every primary-key index.

An id is a ULID: 48 bits of milliseconds then 80 random bits, as 26 Crockford
base32 characters. Ids made by one process in the same millisecond are
monotonic (the random part counts up), so "oldest first" keeps the order in
which one process submitted. They are made here rather than by a ULID library
because the lifecycle makes three per item and a library's object per id cost
more than the rest of the id-making together.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two characters per lookup: the 80 random bits are eight lookups.
_PAIRS = [a + b for a in CROCKFORD for b in CROCKFORD]
_TIME_CHARS = 10
_RANDOM_BITS = 80
_RANDOM_BYTES = _RANDOM_BITS // 8
# Randomness is read from the OS for this many ids at once: one system call
# instead of one per id (a third of the time an id took).
_POOL_IDS = 256
_lock = threading.Lock()
_last_millis = -1
_last_random = 0
_pool = b""
_pool_at = 0


def new_seed() -> int:
    """A sampling seed for one generation attempt: 31 random bits.

    31, not 32: the seed is kept in an INTEGER column, which is signed 32-bit
    on PostgreSQL; llama.cpp takes any unsigned 32-bit seed.
    """
    return int.from_bytes(os.urandom(4), "big") >> 1


def new_id(at: float | None = None) -> str:
    """A new ULID, made now, or at the Unix time ``at`` (then not monotonic)."""
    if at is not None:
        with _lock:
            random_bits = _fresh_random()
        return _text(int(at * 1000), random_bits)
    global _last_millis, _last_random  # this process's monotonic state
    millis = time.time_ns() // 1_000_000
    with _lock:
        if millis <= _last_millis:  # the same millisecond, or the clock stepped back
            millis, random_bits = _last_millis, _last_random + 1
            if random_bits >> _RANDOM_BITS:  # 2**80 ids in one millisecond: borrow the next
                millis, random_bits = millis + 1, _fresh_random()
        else:
            random_bits = _fresh_random()
        _last_millis, _last_random = millis, random_bits
    return _text(millis, random_bits)


def _forget_in_child() -> None:
    # A forked child counting on from its parent's last id, or drawing on its
    # parent's pool of random bytes, would repeat the parent's next ids: it
    # starts from fresh randomness.
    global _lock, _last_millis, _pool  # state shared with new_id
    _lock, _last_millis, _pool = threading.Lock(), -1, b""


os.register_at_fork(after_in_child=_forget_in_child)


def normal_id(text: str) -> str:
    """An id as typed by a person (any case, stray spaces) in the form Placet stores."""
    return text.strip().upper()


ID_LENGTH = 26
# What stands for the part of an id left out, as the dashboard shows a tail ("…7Q2K")
# and the README a start ("01JD…"); three dots for those who cannot type the ellipsis.
_LEFT_OUT = ("…", "...")


@dataclass(frozen=True)
class IdPart:
    """What a person typed to name a task: a whole id, or its start, or its end."""

    text: str  # as Placet stores ids (see normal_id), the marks of a left-out part removed
    may_be_start: bool
    may_be_end: bool

    @property
    def may_be_whole(self) -> bool:
        """True unless a part was marked as left out on one side only."""
        return self.may_be_start and self.may_be_end


def id_part(typed: str) -> IdPart:
    """Read ``01JD…`` as the start of an id, ``…7Q2K`` as its end, anything else as either."""
    text = normal_id(typed)
    start_given = end_given = False
    for mark in _LEFT_OUT:
        if text.endswith(mark):
            text, start_given = text[: -len(mark)], True
        if text.startswith(mark):
            text, end_given = text[len(mark) :], True
    # Marked on both sides ("…3V5Q…") says nothing about where the text sits: either.
    return IdPart(text.strip(), start_given or not end_given, end_given or not start_given)


def id_floor(at: float) -> str:
    """The smallest id made at the Unix time ``at``: every id made later sorts after it."""
    return _text(max(0, int(at * 1000)), 0)


def millis_of(ulid: str) -> int:
    """The Unix time, in milliseconds, an id was made at."""
    value = 0
    for char in ulid[:_TIME_CHARS]:
        value = value * 32 + CROCKFORD.index(char)
    return value


def _fresh_random() -> int:
    global _pool, _pool_at  # drawn under _lock
    if _pool_at + _RANDOM_BYTES > len(_pool):
        _pool, _pool_at = os.urandom(_RANDOM_BYTES * _POOL_IDS), 0
    start = _pool_at
    _pool_at += _RANDOM_BYTES
    return int.from_bytes(_pool[start:_pool_at], "big")


def _text(millis: int, random_bits: int) -> str:
    # 10 characters of time (50 bits, the top two always zero), 16 of randomness.
    # Written out: a comprehension over the shifts took ~40% longer (an id per record).
    pairs, bits = _PAIRS, random_bits
    return (
        pairs[(millis >> 40) & 1023]
        + pairs[(millis >> 30) & 1023]
        + pairs[(millis >> 20) & 1023]
        + pairs[(millis >> 10) & 1023]
        + pairs[millis & 1023]
        + pairs[(bits >> 70) & 1023]
        + pairs[(bits >> 60) & 1023]
        + pairs[(bits >> 50) & 1023]
        + pairs[(bits >> 40) & 1023]
        + pairs[(bits >> 30) & 1023]
        + pairs[(bits >> 20) & 1023]
        + pairs[(bits >> 10) & 1023]
        + pairs[bits & 1023]
    )
