from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from placet.domain.audit import (
    GENESIS_HASH,
    canonical_json,
    chain_problems,
    chained_event,
    compute_hash,
    seal,
)
from placet.domain.fastinit import evolve
from placet.domain.models import Event

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


def chain(payloads: list[dict[str, object]]) -> list[Event]:
    events, prev = [], GENESIS_HASH
    for seq, payload in enumerate(payloads, start=1):
        event = seal(Event("t1", seq, "step", "alice", 1000.0 + seq, payload), prev)
        events.append(event)
        prev = event.hash
    return events


def test_canonical_json_ignores_key_order() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == canonical_json({"a": [1, "é"], "b": 1})


def test_hash_depends_on_previous_hash() -> None:
    event = Event("t1", 1, "submitted", "a", 1.0, {"x": 1})
    assert compute_hash(GENESIS_HASH, event) != compute_hash("1" * 64, event)


@given(st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=3), min_size=1))
def test_an_untouched_chain_verifies(payloads: list[dict[str, object]]) -> None:
    events = chain(payloads)
    assert chain_problems("t1", events, events[-1].hash, len(events)) == []


@given(
    st.lists(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), min_size=2),
    st.data(),
)
def test_any_altered_payload_is_caught(
    payloads: list[dict[str, object]], data: st.DataObject
) -> None:
    events = chain(payloads)
    index = data.draw(st.integers(0, len(events) - 1))
    altered = dict(events[index].payload, tampered=True)
    events[index] = replace(events[index], payload=altered)
    problems = chain_problems("t1", events, events[-1].hash, len(events))
    assert any(p.seq == index + 1 and "altered" in p.problem for p in problems)


def test_a_missing_event_is_caught() -> None:
    events = chain([{"n": 1}, {"n": 2}, {"n": 3}])
    problems = chain_problems("t1", [events[0], events[2]], events[2].hash, 3)
    assert any("missing" in p.problem for p in problems)


def test_a_removed_last_event_is_caught_by_the_head() -> None:
    events = chain([{"n": 1}, {"n": 2}])
    problems = chain_problems("t1", events[:1], events[1].hash, 2)
    assert problems and problems[0].seq is None


def test_an_altered_actor_is_caught() -> None:
    events = chain([{"n": 1}, {"n": 2}])
    events[1] = replace(events[1], actor="mallory")
    assert chain_problems("t1", events, events[1].hash, 2)


@given(
    task_id=st.text(),
    seq=st.integers(min_value=1) | st.booleans(),
    event_type=st.text(),
    actor=st.text(),
    created_at=st.floats() | st.integers(),
    payload=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)
def test_a_new_event_hashes_as_verification_recomputes_it(
    task_id: str,
    seq: int,
    event_type: str,
    actor: str,
    created_at: float,
    payload: dict[str, object],
) -> None:
    """chained_event writes the body's JSON itself; it must be the encoder's text, byte for byte."""
    event = chained_event(task_id, seq, event_type, actor, created_at, payload, GENESIS_HASH)
    assert event.hash == compute_hash(GENESIS_HASH, event)
    assert event.payload_json == canonical_json(payload)


def test_a_copied_event_does_not_carry_the_old_payload_text() -> None:
    event = chained_event("t1", 1, "submitted", "alice", 1.5, {"x": 1}, GENESIS_HASH)
    assert event.payload_json == '{"x":1}'
    assert replace(event, payload={"x": 2}).payload_json is None
    assert evolve(event, payload={"x": 2}).payload_json is None
