"""The rate-limit gate: figures from headers, requests in flight counted, 429s."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from placet.config import Settings, load_settings
from placet.errors import ConfigError
from placet.providers.base import CompletionRequest
from placet.providers.pacing import Gate, parse_duration, request_cost


class Clock:
    """A clock the test moves; sleeping moves it too."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def figures(remaining: int, limit: int = 10, reset: str = "1s") -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(limit),
        "x-ratelimit-remaining-requests": str(remaining),
        "x-ratelimit-reset-requests": reset,
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("2m59.56s", 179.56), ("120ms", 0.12), ("7.66", 7.66),
     ("1h2m3s", 3723.0), ("soon", None), ("", None)],
)  # fmt: skip
def test_reset_headers_are_read_in_every_form_vendors_send(
    text: str, seconds: float | None
) -> None:
    found = parse_duration(text)
    assert found == (None if seconds is None else pytest.approx(seconds))


def test_a_server_that_announces_nothing_is_not_paced() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    gate.learn(gate.acquire(500), {"content-type": "text/event-stream"})
    for _ in range(1000):
        gate.acquire(500)
    assert clock.slept == []
    assert gate.pace().headroom["requests"] == math.inf


def test_requests_in_flight_count_against_what_the_server_said_was_left() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    first = gate.acquire(1)
    # 3 left of 10, whole again in 1.4 s: 7 used, so 5 come back a second.
    gate.learn(first, figures(3, reset="1.4s"))
    for _ in range(3):
        gate.acquire(1)  # the three left go at once
    assert clock.slept == []
    gate.acquire(1)  # the fourth waits for the refill: a fifth of a second
    assert sum(clock.slept) == pytest.approx(0.2)
    assert gate.pace().rates["requests"] == pytest.approx(5.0)


def test_older_figures_do_not_replace_newer_ones() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    early = gate.acquire(1)
    gate.learn(early, {})  # answered at once, without figures
    late = gate.acquire(1)
    gate.learn(late, figures(8))
    gate.learn(early, figures(9))  # answered later, but counted before `late` was
    assert gate.pace().headroom["requests"] == 8


def test_a_429_holds_every_request_for_retry_after_and_slows_the_pace() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    refused = gate.acquire(1)
    gate.learn(refused, figures(0, reset="1s"))
    before = gate.pace().rates["requests"]
    gate.rate_limited(refused, figures(0, reset="1s"), wait=2.0)
    pace = gate.pace()
    assert pace.paused_for == pytest.approx(2.0)
    assert pace.rate_limited == 1
    assert before is not None and pace.rates["requests"] is not None
    assert pace.rates["requests"] < before
    gate.acquire(1)  # another request waits out the pause
    assert sum(clock.slept) >= 2.0


def test_the_refused_request_itself_is_not_held_twice() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    refused = gate.acquire(1)
    gate.rate_limited(refused, {}, wait=5.0)
    gate.acquire(1, waited=True)  # its own retry loop waited the 5 s already
    assert clock.slept == []


def test_tokens_are_counted_as_prompt_plus_max_tokens() -> None:
    request = CompletionRequest([{"role": "user", "content": "x" * 400}], max_tokens=200)
    assert request_cost(request) == 300


def test_tokens_limit_holds_a_request_too_large_for_what_is_left() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    sent = gate.acquire(300)
    headers = {
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": "400",
        "x-ratelimit-reset-tokens": "56s",  # 5600 used, back at 100 a second
    }
    gate.learn(sent, headers)
    gate.acquire(300)
    assert clock.slept == []
    gate.acquire(300)  # 100 left: 2 s for the other 200
    assert sum(clock.slept) == pytest.approx(2.0)


def test_local_models_draft_one_at_a_time_unless_configured() -> None:
    plain = Settings()
    assert plain.drafts_at_once("local:smollm2", 32) == 1
    assert plain.drafts_at_once("groq:llama-3.3-70b-versatile", 32) == 32
    capped = Settings(model_concurrency={"groq": 8, "local:smollm2": 2})
    assert capped.drafts_at_once("groq:llama-3.3-70b-versatile", 32) == 8
    assert capped.drafts_at_once("local:smollm2", 32) == 2
    assert capped.drafts_at_once("groq:other", 4) == 4  # never more than the worker's own
    assert capped.worker_concurrency() == 8
    assert Settings(concurrency=3, model_concurrency={"groq": 8}).worker_concurrency() == 3


def test_concurrency_is_read_from_placet_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLACET_CONCURRENCY", raising=False)
    monkeypatch.delenv("PLACET_CONFIG", raising=False)
    (tmp_path / "placet.toml").write_text(
        '[placet]\nconcurrency = 4\n\n[concurrency]\ngroq = 16\n"local:smollm2" = 2\n'
    )
    settings = load_settings(tmp_path)
    assert settings.worker_concurrency() == 4
    assert settings.model_concurrency == {"groq": 16, "local:smollm2": 2}


@pytest.mark.parametrize("value", ["0", "300", '"many"', "true"])
def test_a_bad_concurrency_says_what_it_may_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.delenv("PLACET_CONFIG", raising=False)
    (tmp_path / "placet.toml").write_text(f"[concurrency]\ngroq = {value}\n")
    with pytest.raises(ConfigError, match=r"\[concurrency\] groq must be a whole number from 1"):
        load_settings(tmp_path)


def test_until_the_first_answer_one_request_goes_alone() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    first = gate.acquire(1)
    second: list[int] = []
    waiting = threading.Thread(target=lambda: second.append(gate.acquire(1)))
    waiting.start()
    waiting.join(0.2)
    assert second == []  # held until the first answer says what the limits are
    gate.learn(first, figures(5))
    waiting.join(5)
    assert second == [1]


def test_workers_sharing_a_limit_each_spend_their_share() -> None:
    clock = Clock()
    gate = Gate("http://api", clock, clock.sleep)
    gate.learn(gate.acquire(1), figures(8, reset="0.4s"))  # 2 used of 10: 5 back a second
    gate.share_with(2)  # the database says two workers draft against this API
    pace = gate.pace()
    assert pace.headroom["requests"] == 4  # half of the 8 left
    assert pace.rates["requests"] == pytest.approx(2.5)
    assert pace.workers == 2
    for _ in range(4):
        gate.acquire(1)
    assert clock.slept == []
    gate.acquire(1)  # its share refills at 2.5 a second
    assert sum(clock.slept) == pytest.approx(0.4)
