"""The global audit log: sealing what waits, signed checkpoints, and checking the log.

Every event enters a queue in the transaction that makes it; ``seal`` logs
the queue in order, each entry chained to the one before under the audit key.
``checkpoint`` signs the head (Ed25519, a key derived from the audit key) for
operators to keep outside the database; ``check`` walks the log and asks the
database which logged events lost their rows and which events were never
logged, and compares the log with a checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from placet.auditkey import key_id
from placet.domain.accounts import SecurityEvent
from placet.domain.audit import UNKEYED, ChainHash, ChainProblem, canonical_json
from placet.domain.auditlog import Checkpoint, LogEntry, link, walk_log
from placet.domain.policy import parse_roles
from placet.engine.accounts import ACCOUNT_STATE, account_state
from placet.errors import ConfigError
from placet.store.auditlog import SqlAuditLog

SIGNING_INFO = b"placet checkpoint signing key v1"


@dataclass
class LogCheck:
    """What checking the global log found."""

    size: int = 0
    head: str = ""
    pending: int = 0
    unchecked: int = 0
    keyed: bool = False  # some entries were chained under an audit key
    problems: list[ChainProblem] = field(default_factory=list)


class AuditLog:
    """The global log of one store, chained with one engine's audit key (or none)."""

    def __init__(self, log: SqlAuditLog, chain: ChainHash) -> None:
        self._log = log
        self._chain = chain
        self.key_id = key_id(chain.key) if chain.key else None

    def seal(self, now: float) -> int:
        """Log everything queued so far; how many entries were logged."""
        if self._log.pending_count() == 0:
            return 0  # nothing to do, and no write lock taken for it
        total = 0
        while sealed := self._log.seal(self._link, self.key_id, now):
            total += sealed
        return total

    def _link(self, head: str, entry: LogEntry) -> str:
        return link(self._chain if entry.key_id is not None else UNKEYED, head, entry)

    def keyed(self) -> bool:
        """True when the log was chained under an audit key (so events may be keyed too)."""
        return self._log.any_keyed()

    def task_entries(self, task_id: str) -> dict[int, LogEntry]:
        """One task's entries, by the seq each was logged at (each covers those before it)."""
        return self._log.task_entries(task_id)

    # -- checkpoints --------------------------------------------------------------------

    def checkpoint(self, now: float) -> Checkpoint:
        """Seal, then sign the log's head: a checkpoint to keep outside the database."""
        signer = self._signer()
        self.seal(now)
        walk = walk_log(self._log.entries(), self._chain, self.key_id)
        if walk.problems:
            raise ConfigError(
                f"the audit log does not verify ({walk.problems[0].problem}); "
                "run placet audit verify, and sign nothing until it does"
            )
        unsigned = Checkpoint(walk.size, walk.head, now, self.key_id, _public(signer))
        signature = signer.sign(unsigned.signed_text().encode("utf-8"))
        return replace(unsigned, signature=base64.b64encode(signature).decode("ascii"))

    def _signer(self) -> Ed25519PrivateKey:
        if self._chain.key is None:
            raise ConfigError(
                "a checkpoint is signed with the audit key, and there is none: make one with "
                "placet audit keygen (or set PLACET_AUDIT_KEY)"
            )
        seed = hashlib.sha256(SIGNING_INFO + b"\x00" + self._chain.key).digest()
        return Ed25519PrivateKey.from_private_bytes(seed)

    def public_key(self) -> str:
        """The public key checkpoints are signed with (base64), to check them without the key."""
        return _public(self._signer())

    # -- checking -------------------------------------------------------------------------

    def check(self, against: Checkpoint | None = None) -> LogCheck:
        """Walk the log; find logged events whose rows changed and events never logged."""
        walk = walk_log(self._log.entries(), self._chain, self.key_id)
        report = LogCheck(walk.size, walk.head, self._log.pending_count(), walk.unchecked)
        report.keyed = walk.keyed_from is not None
        report.problems += walk.problems
        for position, task_id, seq, now_hash in self._log.changed_events():
            what = "is gone" if now_hash is None else "was rewritten after it was logged"
            report.problems.append(
                ChainProblem(task_id, seq, f"event {seq} {what} (logged at position {position})")
            )
        for task_id, seq in self._log.never_logged():
            report.problems.append(ChainProblem(task_id, seq, f"event {seq} was never logged"))
        report.problems += self._security_problems(report)
        report.problems += self._account_problems()
        if against is not None:
            report.problems += self._against(against, walk.size)
        return report

    def _security_problems(self, report: LogCheck) -> list[ChainProblem]:
        """Security events (sign-ins, refusals, account changes) gone, altered or never logged."""
        logged = self._log.security_entries()
        problems = []
        for row in self._log.security_rows():
            event = SecurityEvent(**dict(row._mapping))
            entry = logged.pop(event.id, None)
            if entry is None:
                problems.append(_security(event.id, "was never logged"))
                continue
            text = canonical_json(asdict(event))
            made_before_key = entry.position > 0 and (entry.legacy or entry.key_id is None)
            if entry.entry_hash == self._chain.of(text):
                continue
            if entry.entry_hash == UNKEYED.of(text) and (made_before_key or not self._chain.keyed):
                continue
            if self._chain.keyed or not report.keyed:
                problems.append(_security(event.id, "was altered"))
            else:
                report.unchecked += 1
        for ref, entry in logged.items():
            where = f" (logged at position {entry.position})" if entry.position else ""
            problems.append(_security(ref, f"is gone{where}"))
        return problems

    def _account_problems(self) -> list[ChainProblem]:
        """Accounts whose roles or state differ from the last state their trail records."""
        recorded: dict[str, str] = {}
        for row in self._log.security_rows():  # oldest first: the last one wins
            if row.action == ACCOUNT_STATE and row.target is not None:
                recorded[row.target] = row.detail or ""
        problems = []
        for row in self._log.user_rows():
            state = recorded.pop(row.name, None)
            if state is None:
                problems.append(_security(f"for account {row.name}", "is missing"))
            elif state != _state_of(row):
                problems.append(
                    ChainProblem("accounts", None, f"account {row.name}: its roles or state "
                                 f"were altered (the trail says {state})")
                )  # fmt: skip
        problems += [ChainProblem("accounts", None, f"account {name} is gone") for name in recorded]
        return problems

    def _against(self, checkpoint: Checkpoint, size: int) -> list[ChainProblem]:
        problems = [ChainProblem("-", None, text) for text in self._signature_problems(checkpoint)]
        if size < checkpoint.size:
            problems.append(
                ChainProblem(
                    "-",
                    None,
                    f"the log has {size} entries, the checkpoint {checkpoint.size}: "
                    "entries were deleted",
                )
            )
            return problems
        head = self._head_at(checkpoint.size)
        if head != checkpoint.head:
            problems.append(
                ChainProblem(
                    "-", None, f"the log up to {checkpoint.size} differs from the checkpoint's"
                )
            )
        return problems

    def _head_at(self, size: int) -> str:
        head = ""
        for entry in self._log.entries():
            if entry.position > size:
                break
            head = entry.chain_hash
        return head

    def _signature_problems(self, checkpoint: Checkpoint) -> list[str]:
        expected = self.public_key() if self._chain.key is not None else checkpoint.public_key
        if checkpoint.public_key != expected:
            return ["the checkpoint was not signed with this installation's audit key"]
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(expected))
            public.verify(
                base64.b64decode(checkpoint.signature), checkpoint.signed_text().encode("utf-8")
            )
        except (InvalidSignature, ValueError):
            return ["the checkpoint's signature does not verify: it was altered or forged"]
        return []


def _state_of(row: Any) -> str:
    """An account row's state as its trail event would record it ("" for roles unknown)."""
    try:
        roles = parse_roles(row.roles or "")
    except ValueError:
        return ""
    return account_state(roles, bool(row.disabled))


def _security(event_id: str, what: str) -> ChainProblem:
    return ChainProblem("security log", None, f"security event {event_id} {what}")


def _public(signer: Ed25519PrivateKey) -> str:
    raw = signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")
