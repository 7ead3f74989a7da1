"""Hash chaining of events: each event's hash covers the one before it.

With the audit key (``PLACET_AUDIT_KEY`` or its key file, never kept in the
database), a hash is HMAC-SHA256 under that key, so whoever can write the
database cannot recompute a chain after changing it. Without a key (a
database used before keys, or code that gives none), hashes are plain SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import json.encoder
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from placet.domain import jsontext
from placet.domain.models import Event

GENESIS_HASH = "0" * 64


class ChainHash:
    """How a chain's hashes are made: HMAC-SHA256 under the audit key, or SHA-256 without one."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        # Keyed once; each hash copies this state (cheaper than a new HMAC per event).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256) if key else None

    @property
    def keyed(self) -> bool:
        """True when hashes are made under the audit key."""
        return self._keyed is not None

    def start(self, prev_hash: str) -> Any:
        """A hash object already fed the previous hash; update it with the body."""
        digest = self._keyed.copy() if self._keyed is not None else hashlib.sha256()
        digest.update(prev_hash.encode("ascii"))
        return digest

    def of(self, text: str) -> str:
        """The hash (keyed when there is a key) of one text."""
        digest = self._keyed.copy() if self._keyed is not None else hashlib.sha256()
        digest.update(text.encode("utf-8"))
        return str(digest.hexdigest())


UNKEYED = ChainHash(None)


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


def compute_hash(prev_hash: str, event: Event, chain: ChainHash = UNKEYED) -> str:
    """The hash over the previous hash and the canonical JSON of the event."""
    digest = chain.start(prev_hash)
    digest.update(canonical_json(event_body(event)).encode("utf-8"))
    return str(digest.hexdigest())


def seal(event: Event, prev_hash: str, chain: ChainHash = UNKEYED) -> Event:
    """The event with its chain fields filled in."""
    return replace(event, prev_hash=prev_hash, hash=compute_hash(prev_hash, event, chain))


def chained_event(
    task_id: str,
    seq: int,
    event_type: str,
    actor: str,
    created_at: float,
    payload: dict[str, Any],
    prev_hash: str,
    chain: ChainHash = UNKEYED,
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
    digest = chain.start(prev_hash)
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


@dataclass
class ChainCheck:
    """One task's chain checked: its broken links, and how each event's hash was made.

    The hashes are sorted, not judged: ``keyed`` events carry the HMAC under
    the key given, ``plain`` ones a plain SHA-256, ``neither`` match (altered,
    or made under a key this check was not given). ``judge`` says which of
    those are problems.
    """

    task_id: str
    problems: list[ChainProblem] = field(default_factory=list)
    keyed: list[int] = field(default_factory=list)
    plain: list[int] = field(default_factory=list)
    neither: list[int] = field(default_factory=list)

    def judge(
        self, key_given: bool, keys_in_use: bool, plain_allowed: Callable[[int], bool]
    ) -> tuple[list[ChainProblem], int]:
        """The problems, and how many events could not be checked for want of the key.

        With the key, an event must be keyed, or plain where ``plain_allowed``
        (it predates the key). Without it, a plain event is checked, and one
        that is neither is unchecked while keys are in use, and altered when
        none ever was.
        """
        problems = list(self.problems)
        unchecked = 0
        for seq in self.neither:
            if key_given or not keys_in_use:
                problems.append(ChainProblem(self.task_id, seq, "event was altered"))
            else:
                unchecked += 1
        if key_given:
            problems += [
                ChainProblem(self.task_id, seq, "event was not made with the audit key")
                for seq in self.plain
                if not plain_allowed(seq)
            ]
        return problems, unchecked


def verify_chain(
    task_id: str,
    events: Iterable[Event],
    head_hash: str,
    event_count: int,
    chain: ChainHash = UNKEYED,
) -> ChainCheck:
    """One task's chain: missing, extra or unlinked events, and how each hash was made."""
    check = ChainCheck(task_id)
    prev = GENESIS_HASH
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            check.problems.append(
                ChainProblem(task_id, expected_seq, f"event {expected_seq} is missing")
            )
            expected_seq = event.seq
        if event.prev_hash != prev:
            check.problems.append(
                ChainProblem(task_id, event.seq, "link to the previous event is broken")
            )
        _sort_hash(check, event, chain)
        prev = event.hash
        expected_seq += 1
    if expected_seq - 1 != event_count or prev != head_hash:
        check.problems.append(
            ChainProblem(
                task_id,
                None,
                f"chain ends at event {expected_seq - 1} but the task records {event_count}",
            )
        )
    return check


def _sort_hash(check: ChainCheck, event: Event, chain: ChainHash) -> None:
    if chain.keyed and compute_hash(event.prev_hash, event, chain) == event.hash:
        check.keyed.append(event.seq)
    elif compute_hash(event.prev_hash, event) == event.hash:
        check.plain.append(event.seq)
    else:
        check.neither.append(event.seq)


def chain_problems(
    task_id: str, events: Iterable[Event], head_hash: str, event_count: int
) -> list[ChainProblem]:
    """Every problem of a chain made without a key (plain SHA-256 throughout)."""
    check = verify_chain(task_id, events, head_hash, event_count)
    return check.judge(key_given=False, keys_in_use=False, plain_allowed=lambda _: True)[0]
