"""Hash chaining of events: each event's hash covers the one before it."""

from __future__ import annotations

import hashlib
import json.encoder
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from placet.domain import jsontext
from placet.domain.models import Event

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, so equal data hashes equally."""
    return jsontext.canonical(value)


def text_digest(text: str) -> str:
    """The sha256 of a text, as stored in events to pin drafts and edits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_body(event: Event) -> dict[str, Any]:
    """The fields an event's hash covers."""
    return {
        "task_id": event.task_id,
        "seq": event.seq,
        "type": event.type,
        "actor": event.actor,
        "created_at": event.created_at,
        "payload": event.payload,
    }


def compute_hash(prev_hash: str, event: Event) -> str:
    """sha256 over the previous hash and the canonical JSON of the event."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_json(event_body(event)).encode("utf-8"))
    return digest.hexdigest()


def seal(event: Event, prev_hash: str) -> Event:
    """The event with its chain fields filled in."""
    return replace(event, prev_hash=prev_hash, hash=compute_hash(prev_hash, event))


def chained_event(
    task_id: str,
    seq: int,
    event_type: str,
    actor: str,
    created_at: float,
    payload: dict[str, Any],
    prev_hash: str,
) -> Event:
    """A new event already linked to the one before it (built once: this is the hot path).

    The payload is encoded once: its canonical text is both hashed, inside
    the body, and kept on the event for the store to save as it is.
    """
    payload_json = canonical_json(payload)
    body = _body_json(task_id, seq, event_type, actor, created_at, payload_json)
    if body is None:  # not the usual field types: the encoder proper
        unsealed = Event(task_id, seq, event_type, actor, created_at, payload)
        body = canonical_json(event_body(unsealed))
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(body.encode("utf-8"))
    event = Event(
        task_id, seq, event_type, actor, created_at, payload, prev_hash, digest.hexdigest()
    )
    object.__setattr__(event, "payload_json", payload_json)  # a frozen record's own cache
    return event


_quoted = json.encoder.encode_basestring  # how the canonical encoder writes a string


def _body_json(
    task_id: str, seq: int, event_type: str, actor: str, created_at: float, payload_json: str
) -> str | None:
    """``canonical_json`` of an event's body, written around its payload's canonical text.

    One encoding of the body costs as much as the payload's own; the keys are
    known and sorted here, and each value is written as the encoder writes it
    (``float.__repr__``, ``int.__repr__``, ``encode_basestring``). None when a
    value is not of those exact types. tests/unit/test_audit.py holds this
    equal to the encoder's text.
    """
    exact = type(seq) is int and type(created_at) is float and math.isfinite(created_at)
    if not (exact and type(task_id) is str and type(event_type) is str and type(actor) is str):
        return None
    return (
        f'{{"actor":{_quoted(actor)},"created_at":{float.__repr__(created_at)},'
        f'"payload":{payload_json},"seq":{int.__repr__(seq)},'
        f'"task_id":{_quoted(task_id)},"type":{_quoted(event_type)}}}'
    )


@dataclass(frozen=True)
class ChainProblem:
    """One thing wrong with a task's chain."""

    task_id: str
    seq: int | None
    problem: str


def verify_chain(
    task_id: str, events: Iterable[Event], head_hash: str, event_count: int
) -> list[ChainProblem]:
    """Every problem in one task's chain: altered, missing or extra events."""
    problems: list[ChainProblem] = []
    prev = GENESIS_HASH
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(ChainProblem(task_id, expected_seq, f"event {expected_seq} is missing"))
            expected_seq = event.seq
        if event.prev_hash != prev:
            problems.append(
                ChainProblem(task_id, event.seq, "link to the previous event is broken")
            )
        if compute_hash(event.prev_hash, event) != event.hash:
            problems.append(ChainProblem(task_id, event.seq, "event was altered"))
        prev = event.hash
        expected_seq += 1
    if expected_seq - 1 != event_count or prev != head_hash:
        problems.append(
            ChainProblem(
                task_id,
                None,
                f"chain ends at event {expected_seq - 1} but the task records {event_count}",
            )
        )
    return problems
