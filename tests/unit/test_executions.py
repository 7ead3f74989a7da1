"""What became of an approved call's run, read off its events."""

from __future__ import annotations

from typing import Any

from placet.domain import audit
from placet.domain.executions import EXECUTED, RESUMED, STARTED, execution_of
from placet.domain.models import Event


def chain(*steps: tuple[str, dict[str, Any]]) -> list[Event]:
    """Events of one task, in order: an approval, then the given (type, payload) steps."""
    events: list[Event] = []
    head = audit.GENESIS_HASH
    for seq, (event_type, payload) in enumerate([("approved", {}), *steps], start=1):
        event = audit.chained_event("t1", seq, event_type, "app", 100.0 + seq, payload, head)
        events.append(event)
        head = event.hash
    return events


def test_nothing_run_is_no_execution() -> None:
    assert execution_of(chain()) is None
    assert execution_of(chain((EXECUTED, {"ok": True}))) is None  # an outcome without a start


def test_a_start_without_an_outcome_is_unfinished() -> None:
    run = execution_of(chain((STARTED, {"idempotency_key": "k"})))
    assert run is not None and run.unfinished
    assert (run.started_at, run.started_by, run.ok, run.error) == (102.0, "app", None, None)


def test_an_outcome_after_the_start_finishes_it() -> None:
    ran = execution_of(chain((STARTED, {}), (EXECUTED, {"ok": True, "result": "sent"})))
    assert ran is not None and not ran.unfinished
    assert (ran.finished_at, ran.ok, ran.error) == (103.0, True, None)
    failed = execution_of(chain((STARTED, {}), (EXECUTED, {"ok": False, "error": "Boom()"})))
    assert failed is not None and (failed.ok, failed.error) == (False, "Boom()")
    resumed = execution_of(chain((STARTED, {}), (RESUMED, {"ok": True, "paused_again": False})))
    assert resumed is not None and resumed.ok and not resumed.unfinished
