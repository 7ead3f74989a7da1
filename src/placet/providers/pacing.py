"""Pacing requests to a hosted API inside the rate limits it announces, for every draft
in flight in the process.

Hosted APIs (OpenAI, Groq, most OpenAI-compatible vendors) say in every response how
much is left (``x-ratelimit-remaining-requests``, ``-tokens``), of how much
(``x-ratelimit-limit-*``), and when it is whole again (``x-ratelimit-reset-*``, such as
``1.5s`` or ``2m59.56s``). A ``Gate`` per endpoint and key keeps those figures, counts
what was sent since the response that carried them (requests in flight are not in the
server's figure yet), and lets a request go only when its share is there; otherwise it
waits until the budget has refilled, at the rate the figures imply (what was used over
the time until whole again). A 429 stops every request through the gate for its
``retry-after``, and lowers the pace (``caution``) until responses come back fine.

A server that announces nothing is not paced at all.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from placet.providers.base import CompletionRequest

DIMENSIONS = ("requests", "tokens")
CHARS_PER_TOKEN = 4  # the usual estimate for English text: a request's tokens, before it is sent
CAUTION_AFTER_429 = 0.8  # each 429 multiplies the pace by this
CAUTION_FLOOR = 0.25
CAUTION_RECOVERY = 0.02  # each response within the limits gives this much back
NO_FIGURES_WAIT = 1.0  # spent, and no reset time known: look again after this long
FIRST_ANSWER_WAIT = 5.0  # how long requests wait for the first one's answer, at most
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?")
_MILLIS = re.compile(r"^(\d+(?:\.\d+)?)ms$")


def request_cost(request: CompletionRequest) -> float:
    """The tokens a request counts against a tokens-per-minute limit, as OpenAI counts
    them: the prompt (estimated from its length) and the ``max_tokens`` asked for."""
    chars = sum(len(message.get("content") or "") for message in request.messages)
    return math.ceil(chars / CHARS_PER_TOKEN) + request.max_tokens


def parse_duration(text: str) -> float | None:
    """Seconds in a reset header: ``1s``, ``6m0s``, ``2m59.56s``, ``120ms``, or a number."""
    text = text.strip()
    if not text:
        return None
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    millis = _MILLIS.match(text)
    if millis:
        return float(millis.group(1)) / 1000
    whole = _DURATION.fullmatch(text)
    if whole is None or not any(whole.groups()):
        return None
    hours, minutes, seconds = (float(part or 0) for part in whole.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass
class Budget:
    """One limit (requests or tokens) as the server last announced it, and what was
    sent since."""

    limit: float | None = None
    level: float | None = None  # what was left when the last figures were taken
    taken_at: float = 0.0
    refill: float | None = None  # per second
    figures_from: int = -1  # the request whose response carried the figures
    reset_at: float | None = None
    sent: dict[int, float] = field(default_factory=dict)  # since figures_from, by request

    def available(self, now: float, caution: float, share: float = 1.0) -> float:
        """What may be spent now (infinite while the server announced nothing): this
        process's ``share`` of what the server has left, less what it sent since."""
        if self.level is None:
            return math.inf
        level = self.level
        if self.refill is not None:
            level += self.refill * caution * (now - self.taken_at)
        elif self.reset_at is not None and now >= self.reset_at and self.limit is not None:
            level = self.limit
        if self.limit is not None:
            level = min(level, self.limit)
        return level * share - sum(self.sent.values())

    def ready_at(self, cost: float, now: float, caution: float, share: float = 1.0) -> float:
        """When ``cost`` will be there, by the refill rate (or the reset time)."""
        short = cost - self.available(now, caution, share)
        if short <= 0:
            return now
        if self.refill:
            return now + short / (self.refill * caution * share)
        if self.reset_at is not None and self.reset_at > now:
            return self.reset_at
        return now + NO_FIGURES_WAIT

    def take(self, request: int, cost: float) -> None:
        if self.level is not None:
            self.sent[request] = cost

    def learn(
        self, request: int, figures: tuple[float | None, float, float | None], now: float
    ) -> None:
        """Take the figures a response carried, unless newer ones are already in."""
        limit, remaining, reset = figures
        if request < self.figures_from:
            return
        self.limit = limit if limit is not None else self.limit
        self.level, self.taken_at, self.figures_from = remaining, now, request
        self.reset_at = now + reset if reset is not None else None
        if reset and self.limit is not None and self.limit > remaining:
            self.refill = (self.limit - remaining) / reset
        self.sent = {seq: cost for seq, cost in self.sent.items() if seq > request}


@dataclass(frozen=True)
class Pace:
    """What a gate knows now, for ``placet status`` and the logs."""

    endpoint: str
    limits: dict[str, float | None]
    headroom: dict[str, float]  # what may be spent now, per dimension
    rates: dict[str, float | None]  # the refill the figures imply, per second, after caution
    caution: float
    workers: int  # the worker processes sharing the limits, as this one last heard
    paused_for: float  # seconds every request still waits after a 429
    sent: int
    rate_limited: int  # 429s seen

    def as_dict(self) -> dict[str, Any]:
        """As JSON takes it: no limit and no figures are null, not infinite."""
        return {
            "limits": self.limits,
            "headroom": {k: None if math.isinf(v) else v for k, v in self.headroom.items()},
            "rates": self.rates,
            "caution": self.caution,
            "workers": self.workers,
            "paused_for": self.paused_for,
            "sent": self.sent,
            "rate_limited": self.rate_limited,
        }


class Gate:
    """The rate limits of one endpoint and key, shared by every request in the process."""

    def __init__(
        self,
        endpoint: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)  # the first response came
        self._known = False  # whether any response came yet
        self._probing = False  # a first request is out, and the others wait for its answer
        self._budgets = {name: Budget() for name in DIMENSIONS}
        self._next = 0
        self._paused_until = 0.0
        self._caution = 1.0
        self._share = 1.0  # of the limit: 1 / the workers drafting against it (share_with)
        self._rate_limited = 0

    def acquire(self, tokens: float, waited: bool = False) -> int:
        """Wait until a request of ``tokens`` fits the limits; its number, for ``learn``.

        ``waited``: the request was refused with a 429 and has waited out the server's
        retry-after itself, so the pause that 429 set for everyone does not hold it again.
        """
        costs = {"requests": 1.0, "tokens": tokens}
        self._wait_for_first_answer()
        while True:
            with self._lock:
                now = self._clock()
                ready = max(
                    [now if waited else self._paused_until]
                    + [
                        budget.ready_at(costs[name], now, self._caution, self._share)
                        for name, budget in self._budgets.items()
                    ]
                )
                if ready <= now:
                    request = self._next
                    self._next += 1
                    for name, budget in self._budgets.items():
                        budget.take(request, costs[name])
                    return request
            self._sleep(min(ready - now, NO_FIGURES_WAIT))

    def _wait_for_first_answer(self) -> None:
        """Until the first response says whether there are limits, one request goes
        alone: many drafts starting at once would otherwise all go before anyone knows
        (for at most FIRST_ANSWER_WAIT, in case that request never gets one)."""
        with self._answered:
            if self._known:
                return
            if not self._probing:
                self._probing = True  # this request asks first
                return
            if not self._answered.wait_for(lambda: self._known, FIRST_ANSWER_WAIT):
                self._known = True  # no answer came: waiting longer would only stall all

    def learn(self, request: int, headers: Mapping[str, str]) -> None:
        """Take the rate-limit figures of a response to request ``request``."""
        found = {name: _figures(headers, name) for name in DIMENSIONS}
        with self._answered:
            self._known = True
            self._answered.notify_all()
            now = self._clock()
            for name, figures in found.items():
                if figures is not None:
                    self._budgets[name].learn(request, figures, now)
            if any(found.values()):
                self._caution = min(1.0, self._caution + CAUTION_RECOVERY)

    def rate_limited(self, request: int, headers: Mapping[str, str], wait: float | None) -> None:
        """A 429: every request waits ``wait`` seconds (if the server said), the pace drops."""
        self.learn(request, headers)
        with self._lock:
            self._rate_limited += 1
            self._caution = max(CAUTION_FLOOR, self._caution * CAUTION_AFTER_429)
            if wait is not None:
                self._paused_until = max(self._paused_until, self._clock() + wait)

    def share_with(self, workers: int) -> None:
        """Spend only 1/``workers`` of the limits: so many worker processes (as the
        database says, store/paces.py) draft against them now."""
        with self._lock:
            self._share = 1.0 / max(1, workers)

    def pace(self) -> Pace:
        """The limits, headroom and pace as known now."""
        with self._lock:
            now = self._clock()
            return Pace(
                self.endpoint,
                {name: budget.limit for name, budget in self._budgets.items()},
                {
                    name: budget.available(now, self._caution, self._share)
                    for name, budget in self._budgets.items()
                },
                {
                    name: None
                    if budget.refill is None
                    else budget.refill * self._caution * self._share
                    for name, budget in self._budgets.items()
                },
                self._caution,
                round(1 / self._share),
                max(0.0, self._paused_until - now),
                self._next,
                self._rate_limited,
            )


def _figures(
    headers: Mapping[str, str], name: str
) -> tuple[float | None, float, float | None] | None:
    """(limit, remaining, seconds until whole again) of one dimension, or None."""
    remaining = _number(headers.get(f"x-ratelimit-remaining-{name}"))
    if remaining is None:
        return None
    limit = _number(headers.get(f"x-ratelimit-limit-{name}"))
    reset_text = headers.get(f"x-ratelimit-reset-{name}")
    reset = parse_duration(reset_text) if reset_text else None
    return limit, remaining, reset


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


_gates: dict[str, Gate] = {}
_gates_lock = threading.Lock()


def gate_for(base_url: str, key_id: str) -> Gate:
    """The one gate of an endpoint and key in this process (limits are per key)."""
    key = f"{base_url} {key_id}"
    with _gates_lock:
        if key not in _gates:
            _gates[key] = Gate(base_url)
        return _gates[key]


def paces() -> list[Pace]:
    """Every gate's pace in this process, by endpoint."""
    with _gates_lock:
        gates = list(_gates.values())
    return sorted((gate.pace() for gate in gates), key=lambda pace: pace.endpoint)


def share_limits(workers_at: Callable[[str], int]) -> None:
    """Have each gate spend only its share of its endpoint's limits: ``workers_at(endpoint)``
    worker processes draft against it (1 when only this one)."""
    with _gates_lock:
        gates = list(_gates.values())
    for gate in gates:
        gate.share_with(workers_at(gate.endpoint))
