"""The global audit log, the pure part: entries, their chain, checkpoints. No I/O.

A sealer logs, in order, each security event and, for each task with events
not yet logged, its newest event (which the task's own chain links to every
event before it); each entry's ``chain_hash`` covers the one before it and
the entry itself, keyed with the audit key. A task deleted, a task's tail cut
or a rollback leaves logged entries whose rows are gone; rewriting the log
breaks its keyed chain; cutting the log's own tail shows against a signed
checkpoint (its size and head) kept outside the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from placet.domain import jsontext
from placet.domain.audit import ChainHash, ChainProblem

LOG_GENESIS = "0" * 64
CHECKPOINT_FORMAT = "placet-checkpoint/1"


@dataclass(frozen=True)
class LogEntry:
    """One logged fact: an event of a task, or a security event, by the hash it had."""

    position: int
    kind: str  # "event" or "security"
    task_id: str | None
    seq: int | None
    ref: str | None
    entry_hash: str
    legacy: bool  # an event made before the log (plain SHA-256 chains are allowed)
    key_id: str | None  # the audit key that chained this entry; None: chained without one
    sealed_at: float
    chain_hash: str = ""


def entry_text(entry: LogEntry) -> str:
    """The canonical text an entry's chain hash covers (everything but the hash itself)."""
    # A list in a fixed order: encoded by the C encoder at once (sealing runs it per entry).
    return jsontext.canonical(
        [
            entry.position,
            entry.kind,
            entry.task_id,
            entry.seq,
            entry.ref,
            entry.entry_hash,
            entry.legacy,
            entry.key_id,
            entry.sealed_at,
        ]
    )


def covering(entries: Mapping[int, LogEntry], seq: int) -> LogEntry | None:
    """The entry that logged a task's event ``seq``: the first at that seq or after it.

    A sealer logs a task's newest event, and the task's chain links it to every
    event before it, so one entry covers all the events since the last one.
    """
    later = [logged for logged in entries if logged >= seq]
    return entries[min(later)] if later else None


def link(chain: ChainHash, prev_chain_hash: str, entry: LogEntry) -> str:
    """The entry's chain hash: over the one before and the entry, under the key if any."""
    return chain.of(prev_chain_hash + "\n" + entry_text(entry))


@dataclass
class LogWalk:
    """The log read in order: its problems, its head, and what was chained without a key."""

    problems: list[ChainProblem]
    size: int = 0
    head: str = LOG_GENESIS
    unchecked: int = 0  # keyed entries not checked for want of the key
    keyed_from: int | None = None  # the first position chained with a key


def walk_log(entries: Iterable[LogEntry], chain: ChainHash, key_id: str | None) -> LogWalk:
    """Check the log's positions and chain, in order; keyed entries need the same key."""
    walk = LogWalk([])
    plain = ChainHash(None)
    for entry in entries:
        walk.size += 1
        if entry.position != walk.size:
            walk.problems.append(_log_problem(entry, f"log entry {walk.size} is missing"))
            walk.size = entry.position
        _check_link(walk, entry, chain if entry.key_id is not None else plain, key_id)
        walk.head = entry.chain_hash
    return walk


def _check_link(walk: LogWalk, entry: LogEntry, chain: ChainHash, key_id: str | None) -> None:
    if entry.key_id is None:
        if walk.keyed_from is not None:  # once keyed, always keyed: no downgrade
            walk.problems.append(_log_problem(entry, "log entry is not keyed after keyed ones"))
        elif link(chain, walk.head, entry) != entry.chain_hash:
            walk.problems.append(_log_problem(entry, "log entry was altered"))
        return
    walk.keyed_from = walk.keyed_from or entry.position
    if key_id is None:
        walk.unchecked += 1
    elif entry.key_id != key_id:
        walk.problems.append(_log_problem(entry, "log entry was chained with another audit key"))
    elif link(chain, walk.head, entry) != entry.chain_hash:
        walk.problems.append(_log_problem(entry, "log entry was altered"))


def _log_problem(entry: LogEntry, text: str) -> ChainProblem:
    where = f"task {entry.task_id} event {entry.seq}" if entry.kind != "security" else entry.ref
    return ChainProblem(
        entry.task_id or "-", entry.seq, f"{text} (position {entry.position}: {where})"
    )


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the log: everything up to ``size`` hashes to ``head``."""

    size: int
    head: str
    at: float
    key_id: str | None
    public_key: str  # Ed25519, base64
    signature: str = ""  # over ``signed_text``, base64

    def signed_text(self) -> str:
        """What the signature covers."""
        return "\n".join(
            [CHECKPOINT_FORMAT, str(self.size), self.head, repr(self.at), self.key_id or "-"]
        )

    def as_json(self) -> dict[str, object]:
        """The checkpoint as a JSON object (one line of a checkpoint file)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "size": self.size,
            "head": self.head,
            "at": self.at,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Checkpoint:
        """A checkpoint read back; ValueError when it is not one."""
        if data.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"not a {CHECKPOINT_FORMAT} checkpoint")
        size, at = data.get("size"), data.get("at")
        if not isinstance(size, int) or not isinstance(at, (int, float)):
            raise ValueError("a checkpoint needs a whole size and a time")
        key_id = data.get("key_id")
        return cls(
            size,
            str(data.get("head", "")),
            float(at),
            str(key_id) if key_id is not None else None,
            str(data.get("public_key", "")),
            str(data.get("signature", "")),
        )
