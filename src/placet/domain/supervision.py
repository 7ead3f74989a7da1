"""The supervisor's first reading of a draft: what it found, and how risky that looks. Pure.

A kind with a ``[kinds.NAME.supervisor]`` table has every draft read before a
person sees it: deterministic scanners look for personal data, secrets and
internal links in the draft and, reported apart, in the task's input. What
they found travels in the draft's ``save_draft`` event (so the audit chain
proves it) and, as a risk score and flags, on the task row (for the queue).
The supervisor points at what needs a human's eye; it never approves and never
rejects: only people decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from placet.domain.routing import Rule

PII, SECRETS, LINKS = "pii", "secrets", "links"
SCANS = (PII, SECRETS, LINKS)  # what a kind may ask to be scanned for: the categories
# Each finding type and its category, in the order a conflict is settled: when two
# findings overlap, the type listed first wins (a secret over the number inside it, an
# IBAN, checked by its country's format and mod 97, over a Luhn-valid run of its digits).
FINDING_TYPES: dict[str, str] = {
    "private_key": SECRETS,
    "api_key": SECRETS,
    "token": SECRETS,
    "password": SECRETS,
    "iban": PII,
    "card": PII,
    "national_id": PII,
    "email": PII,
    "phone": PII,
    "internal_url": LINKS,
}
MAX_FINDINGS = 100  # kept per draft: a draft full of numbers stays a readable record
IN_DRAFT, IN_INPUT = "draft", "input"
UNAVAILABLE = "unavailable"  # the flag of a draft the supervisor could not (wholly) read
FAILED_CHECK = "failed_check"  # the flag of a draft that failed one of the model's checks
# What a routing rule and the queue's filter may name besides finding types and categories.
READING_FLAGS = (FAILED_CHECK, UNAVAILABLE)

# How risky a kind of finding in the draft is, 0-100: what leaking it would cost. A finding
# only in the input (the requester gave it) counts for half: the draft did not repeat it.
RISK_OF_TYPE = {
    "private_key": 95,
    "api_key": 90,
    "token": 90,
    "password": 90,
    "card": 80,
    "iban": 70,
    "national_id": 70,
    "internal_url": 40,
    "phone": 30,
    "email": 25,
}
UNKNOWN_TYPE_RISK = 50
assert set(RISK_OF_TYPE) == set(FINDING_TYPES)
HIGH_RISK = 70  # from here a reading is shown as high risk (a card number, a secret)


MAX_CHECKS = 10  # plain-language checks per kind: each one is a question the model answers
MAX_AUTO_REVISE = 5  # supervisor rounds before a person sees a draft, at most


@dataclass(frozen=True)
class Supervision:
    """What a kind's supervisor does: which scanners read each draft, which plain-language
    checks its model answers (``model``: None is the local model), how many times a draft
    that fails a check goes back before a person sees it, and where the routing rules send
    it (domain/routing.py)."""

    scan: tuple[str, ...] = SCANS
    route: tuple[Rule, ...] = ()
    checks: tuple[str, ...] = ()
    model: str | None = None
    auto_revise: int = 0


@dataclass(frozen=True)
class CheckResult:
    """The model's answer to one check: pass or fail, and the sentence that shows it
    (with its span when the sentence is quoted from the draft, to show it in place)."""

    check: str
    passed: bool
    evidence: str
    start: int | None = None
    end: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result as it is kept in the draft's event."""
        return {
            "check": self.check,
            "pass": self.passed,
            "evidence": self.evidence,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> CheckResult:
        """A result read back from an event."""
        start, end = raw.get("start"), raw.get("end")
        return cls(
            str(raw["check"]),
            bool(raw["pass"]),
            str(raw.get("evidence", "")),
            None if start is None else int(start),
            None if end is None else int(end),
        )


@dataclass(frozen=True)
class ModelReading:
    """What the supervisor's model said of a draft: each check, a risk and a summary; or,
    when its answers could not be used, why (``unavailable``)."""

    model: str
    checks: tuple[CheckResult, ...] = ()
    risk: int = 0
    summary: str = ""
    unavailable: str | None = None

    def failed(self) -> list[CheckResult]:
        """The checks the draft failed."""
        return [result for result in self.checks if not result.passed]

    def payload(self) -> dict[str, Any]:
        """What the draft's event records of it (the reading's ``model`` part)."""
        if self.unavailable is not None:
            return {"model": self.model, "unavailable": self.unavailable}
        return {
            "model": self.model,
            "checks": [result.as_dict() for result in self.checks],
            "risk": self.risk,
            "summary": self.summary,
        }

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> ModelReading:
        """The model's part of a reading, read back from an event."""
        model = str(raw.get("model", ""))
        if "unavailable" in raw:
            return cls(model, unavailable=str(raw["unavailable"]))
        checks = tuple(CheckResult.of(item) for item in raw.get("checks", []))
        return cls(model, checks, int(raw.get("risk", 0)), str(raw.get("summary", "")))


SUPERVISOR_ROLE = "supervisor"
ROUND = "round"  # the key a supervisor round's revise event carries: which round it was


def supervisor_actor(model: str) -> str:
    """The actor of the supervisor's steps: ``supervisor:local:smollm2``."""
    return f"{SUPERVISOR_ROLE}:{model}"


def rounds_taken(events: Iterable[Any]) -> int:
    """How many supervisor rounds a task's events record."""
    return sum(1 for event in events if event.type == "revise" and ROUND in event.payload)


def sends_back(supervision: Supervision | None, reading: Reading | None, taken: int) -> bool:
    """True when a draft goes back for another round before a person sees it: the kind
    has rounds left (``auto_revise``), and the model read the draft and it failed a check.
    Only ever a revision: no reading of the supervisor approves or rejects anything."""
    if supervision is None or reading is None or reading.model is None:
        return False
    return taken < supervision.auto_revise and bool(reading.model.failed())


def revision_feedback(model: ModelReading) -> str:
    """The feedback a supervisor round sends back with a draft that failed checks."""
    lines = ["The supervisor found that the draft fails these checks:"]
    for result in model.failed():
        lines.append(f"- {result.check}" + (f" ({result.evidence})" if result.evidence else ""))
    lines.append("Write the draft again so that it passes every check.")
    return "\n".join(lines)


@dataclass(frozen=True)
class Flag:
    """One finding: its type, where (the draft or the input, and which input field),
    the exact span, and why it was flagged."""

    type: str
    category: str
    where: str  # "draft", or "input" (then ``field`` names the input)
    start: int
    end: int
    why: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The flag as it is kept in the draft's event."""
        shown: dict[str, Any] = {
            "type": self.type,
            "category": self.category,
            "where": self.where,
            "start": self.start,
            "end": self.end,
            "why": self.why,
        }
        if self.field is not None:
            shown["field"] = self.field
        return shown

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Flag:
        """A flag read back from an event."""
        field = raw.get("field")
        return cls(
            str(raw["type"]),
            str(raw["category"]),
            str(raw["where"]),
            int(raw["start"]),
            int(raw["end"]),
            str(raw["why"]),
            None if field is None else str(field),
        )


@dataclass(frozen=True)
class Reading:
    """The supervisor's reading of one draft."""

    flags: tuple[Flag, ...]
    risk: int
    dropped: int = 0  # findings past MAX_FINDINGS, counted but not kept
    unavailable: str | None = None  # why the supervisor could not read it, if it could not
    model: ModelReading | None = None  # the model's checks, for a kind that has checks

    def payload(self) -> dict[str, Any]:
        """What the draft's ``save_draft`` event records (``"supervisor"``)."""
        if self.unavailable is not None:
            return {"unavailable": self.unavailable}
        shown: dict[str, Any] = {
            "risk": self.risk,
            "flags": self.shown_flags(),
            "findings": [flag.as_dict() for flag in self.flags],
            "dropped": self.dropped,
        }
        if self.model is not None:
            shown["model"] = self.model.payload()
        return shown

    def shown_flags(self) -> list[str]:
        """What the queue filters and the routing rules read: the types found in the draft,
        ``failed_check`` when a check failed, ``unavailable`` when the model could not read it."""
        names = set(flag_names(self.flags))
        if self.model is not None and self.model.unavailable is not None:
            names.add(UNAVAILABLE)
        elif self.model is not None and self.model.failed():
            names.add(FAILED_CHECK)
        return sorted(names)

    def with_model(self, model: ModelReading) -> Reading:
        """This reading with the model's checks: the risk is the higher of the two."""
        risk = self.risk if model.unavailable is not None else max(self.risk, model.risk)
        return Reading(self.flags, risk, self.dropped, self.unavailable, model)

    def in_draft(self) -> list[Flag]:
        """The findings in the draft itself."""
        return [flag for flag in self.flags if flag.where == IN_DRAFT]

    def marks(self) -> list[Flag]:
        """What to mark in place in the draft: the findings in it, and the sentence the
        model quoted for each check it failed (as a ``failed_check`` flag)."""
        failed = self.model.failed() if self.model is not None else []
        quoted = [
            Flag(FAILED_CHECK, "check", IN_DRAFT, result.start, result.end, result.check)
            for result in failed
            if result.start is not None and result.end is not None
        ]
        return self.in_draft() + quoted

    def has_news(self) -> bool:
        """True when there is anything to show: a finding, or the model's checks."""
        return bool(self.flags) or self.model is not None

    def in_input(self) -> list[Flag]:
        """The findings in the task's input, reported apart."""
        return [flag for flag in self.flags if flag.where == IN_INPUT]


def reading(flags: Iterable[Flag]) -> Reading:
    """A reading of these findings: kept up to MAX_FINDINGS, with its risk score."""
    found = sorted(flags, key=lambda f: (f.where != IN_DRAFT, f.field or "", f.start, f.end))
    kept = tuple(found[:MAX_FINDINGS])
    return Reading(kept, risk_of(found), max(0, len(found) - MAX_FINDINGS))


def risk_of(flags: Iterable[Flag]) -> int:
    """0-100: the riskiest finding (one only in the input counts for half)."""
    risk = 0
    for flag in flags:
        weight = RISK_OF_TYPE.get(flag.type, UNKNOWN_TYPE_RISK)
        risk = max(risk, weight if flag.where == IN_DRAFT else weight // 2)
    return risk


def flag_names(flags: Iterable[Flag]) -> list[str]:
    """The distinct types found in the draft, sorted: what the queue filters by."""
    return sorted({flag.type for flag in flags if flag.where == IN_DRAFT})


def reading_of(payload: Mapping[str, Any]) -> Reading | None:
    """The reading a ``save_draft`` event recorded, or None for a draft nobody supervised."""
    raw = payload.get("supervisor")
    if not isinstance(raw, Mapping):
        return None
    if "unavailable" in raw:
        return unavailable(str(raw["unavailable"]))
    flags = tuple(Flag.of(item) for item in raw.get("findings", []))
    model = raw.get("model")
    checked = ModelReading.of(model) if isinstance(model, Mapping) else None
    return Reading(flags, int(raw.get("risk", 0)), int(raw.get("dropped", 0)), model=checked)


def reading_for(events: Iterable[Any], draft_id: str | None) -> Reading | None:
    """The reading recorded with a draft (its ``save_draft`` event), if it had one."""
    for event in events:
        if event.type == "save_draft" and event.payload.get("draft_id") == draft_id:
            return reading_of(event.payload)
    return None


def unavailable(why: str) -> Reading:
    """A reading the supervisor could not make: the draft goes to people as usual."""
    return Reading((), 0, unavailable=why)


def flags_text(names: Iterable[str]) -> str | None:
    """The task row's ``flags`` column: the draft's flag types, comma-joined; None if none."""
    joined = ",".join(sorted(set(names)))
    return joined or None


def row_values(payload: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """The task row's ``risk`` and ``flags`` after a draft saved with this event payload."""
    raw = payload.get("supervisor")
    if not isinstance(raw, Mapping):
        return None, None
    if "unavailable" in raw:
        return None, UNAVAILABLE
    return int(raw.get("risk", 0)), flags_text(str(name) for name in raw.get("flags", []))


def segments(text: str, flags: Iterable[Flag]) -> list[tuple[str, Flag | None]]:
    """The text cut at each finding's span, for showing findings in place (overlaps merged
    into the first): a list of (piece, the finding it is, or None)."""
    pieces: list[tuple[str, Flag | None]] = []
    at = 0
    for flag in sorted(flags, key=lambda f: (f.start, -f.end)):
        if flag.start < at or flag.end > len(text) or flag.start >= flag.end:
            continue  # overlaps one already shown, or does not fit this text
        if flag.start > at:
            pieces.append((text[at : flag.start], None))
        pieces.append((text[flag.start : flag.end], flag))
        at = flag.end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces
