"""The pure part of outcome handlers: keys, delays, id bounds, names."""

from __future__ import annotations

import pytest

from placet.domain.deliveries import (
    LOWEST_ID,
    check_outcome,
    handler_name,
    idempotency_key,
    retry_delay,
)
from placet.domain.ids import id_floor, millis_of, new_id
from placet.domain.models import TaskStatus
from placet.errors import ConfigError


def test_a_key_is_stable_short_and_names_the_decision() -> None:
    key = idempotency_key("app.send_welcome", "01JDECISION000000000000000")
    assert key == idempotency_key("app.send_welcome", "01JDECISION000000000000000")
    assert key.startswith("placet:01JDECISION000000000000000:")
    assert key != idempotency_key("app.log_welcome", "01JDECISION000000000000000")
    assert len(idempotency_key("x" * 200, "01JDECISION000000000000000")) == len(key) == 50


def test_retry_delays_double_up_to_an_hour() -> None:
    assert [retry_delay(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_delay(40, 2.0) == 3600.0
    assert retry_delay(3, 0.0) == 0.0


def test_the_id_floor_sorts_before_ids_made_then_and_after_earlier_ones() -> None:
    at = 1_800_000_000.123
    floor = id_floor(at)
    for _ in range(50):  # the random part of an id never sorts it below the floor
        earlier, then = new_id(at - 0.001), new_id(at)
        assert earlier < floor <= then
        assert millis_of(earlier) < millis_of(floor) == millis_of(then)
    assert id_floor(0) == LOWEST_ID and len(floor) == 26


def send_welcome(outcome: object, key: str) -> None:
    """A handler at module level."""


def test_a_handler_is_named_by_module_and_qualname_unless_named() -> None:
    assert handler_name(send_welcome) == f"{__name__}.send_welcome"
    assert handler_name(send_welcome, "billing.welcome") == "billing.welcome"
    with pytest.raises(ConfigError, match="1 to 200"):
        handler_name(send_welcome, "x" * 201)


def test_handlers_react_to_approvals_and_rejections_only() -> None:
    assert check_outcome(TaskStatus.APPROVED) is TaskStatus.APPROVED
    with pytest.raises(ConfigError, match="not cancelled"):
        check_outcome(TaskStatus.CANCELLED)
