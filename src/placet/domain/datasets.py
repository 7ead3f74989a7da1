"""Datasets from reviewed work: rows for fine-tuning and for analysis. Pure.

Three datasets, each a JSON Lines file with one row per line:

- **sft**: one row per approved task: the exact messages its approved draft was
  made with, then the approved text (as edited, when it was edited).
- **preferences**: one row per pair of a draft people sent back (revised, or
  edited before approval) and the approved text of the same task, the pair's
  prompt being the messages that draft was made with.
- **feedback**: one row per decision, with its draft, the feedback, reason or
  edit, who decided, in which role, when, and on which attempt.

Rows are written with sorted keys and no spaces, in task-id order (ids are
time-ordered), so the same store and options give the same bytes. A row is
written once: a second row with the same text is dropped as a duplicate.
``Tally`` counts what was written and what each filter dropped.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from placet.domain import jsontext
from placet.domain.models import Decision, DecisionKind, Draft, JsonObject, TaskDetail, TaskStatus
from placet.errors import InvalidInputError

Message = dict[str, str]


class Dataset(str, enum.Enum):
    """What an export holds."""

    SFT = "sft"
    PREFERENCES = "preferences"
    FEEDBACK = "feedback"


class RowFormat(str, enum.Enum):
    """Whose fine-tuning format the rows of ``sft`` and ``preferences`` follow."""

    OPENAI = "openai"
    TRL = "trl"


@dataclass(frozen=True)
class Drop:
    """One filter: why rows are left out, said of one and of many (tasks, drafts, rows)."""

    one: str
    many: str

    def said(self, count: int) -> str:
        """``3 tasks not approved``."""
        return f"{count} {self.one if count == 1 else self.many}"


NOT_APPROVED = Drop("task not approved", "tasks not approved")
APPROVED_BEFORE = Drop("task approved before --since", "tasks approved before --since")
NOTHING_TO_PAIR = Drop(
    "task approved as first drafted (nothing to pair)",
    "tasks approved as first drafted (nothing to pair)",
)
NO_PROMPT = Drop(
    "draft without a prompt (written by the caller, not a model)",
    "drafts without a prompt (written by the caller, not a model)",
)
SAME_TEXT = Drop("draft whose text is the approved text", "drafts whose text is the approved text")
DECIDED_BEFORE = Drop("decision made before --since", "decisions made before --since")
UNDECIDED = Drop("task with no decision yet", "tasks with no decision yet")
DUPLICATE = Drop("duplicate row", "duplicate rows")

FILTERS: dict[Dataset, tuple[Drop, ...]] = {
    Dataset.SFT: (NOT_APPROVED, APPROVED_BEFORE, NO_PROMPT, DUPLICATE),
    Dataset.PREFERENCES: (
        NOT_APPROVED,
        APPROVED_BEFORE,
        NOTHING_TO_PAIR,
        NO_PROMPT,
        SAME_TEXT,
        DUPLICATE,
    ),
    Dataset.FEEDBACK: (UNDECIDED, DECIDED_BEFORE, DUPLICATE),
}


@dataclass(frozen=True)
class DatasetQuery:
    """Which dataset of which kind, from when, masked or not, in whose format."""

    dataset: Dataset
    kind: str
    since: float | None = None  # a Unix time; None: from the start
    redact: bool = False
    row_format: RowFormat = RowFormat.OPENAI


@dataclass
class Tally:
    """How many rows were written, and how many each filter dropped."""

    dataset: Dataset
    written: int = 0
    dropped: dict[Drop, int] = field(default_factory=dict)
    _seen: set[bytes] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        for drop in FILTERS[self.dataset]:
            self.dropped.setdefault(drop, 0)

    def drop(self, drop: Drop, count: int = 1) -> None:
        """Count ``count`` left out by ``drop``."""
        self.dropped[drop] = self.dropped.get(drop, 0) + count

    def keep(self, line: str) -> bool:
        """True (and counted as written) the first time a line is seen; else a duplicate."""
        digest = hashlib.sha256(line.encode("utf-8")).digest()
        if digest in self._seen:
            self.drop(DUPLICATE)
            return False
        self._seen.add(digest)
        self.written += 1
        return True

    def summary(self) -> str:
        """``wrote 4 rows; dropped 2 tasks not approved, 1 duplicate row``, for stderr."""
        wrote = f"wrote {self.written} row{'' if self.written == 1 else 's'}"
        dropped = ", ".join(drop.said(count) for drop, count in self.dropped.items())
        return f"{wrote}; dropped {dropped}"


def parse_since(text: str) -> float:
    """The Unix time of ``--since``: a date (``2025-03-01``, midnight UTC) or an ISO 8601
    time (``2025-03-01T09:30``, ``...+02:00`` or ``...Z``; UTC when no offset is given)."""
    given = text.strip()
    try:
        if len(given) == 10:
            day = date.fromisoformat(given)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()
        moment = datetime.fromisoformat(given[:-1] + "+00:00" if given.endswith("Z") else given)
    except ValueError:
        raise InvalidInputError(
            f"--since takes a date (2025-03-01) or an ISO 8601 time (2025-03-01T09:30:00Z), "
            f"not {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def iso_time(timestamp: float) -> str:
    """A stored time as ISO 8601 in UTC, to the millisecond."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="milliseconds")


# The fields of a feedback row that name or date things: never masked by --redact (the
# rest is text people or models wrote, or people's names, which the scanners read).
STRUCTURAL = frozenset(
    {
        "task_id",
        "kind",
        "task_status",
        "draft_id",
        "attempt",
        "provider",
        "model",
        "decision_id",
        "decision",
        "role",
        "channel",
        "decided_at",
    }
)


def jsonl_line(row: JsonObject) -> str:
    """One row as its line: sorted keys, no spaces, UTF-8 text as itself."""
    return jsontext.canonical(row)


# -- which task gives which rows ----------------------------------------------------


def approval(detail: TaskDetail) -> Decision | None:
    """The decision that approved the task (the last approve or edit); None if not approved."""
    if detail.task.status is not TaskStatus.APPROVED:
        return None
    approving = (DecisionKind.APPROVE, DecisionKind.EDIT)
    return next((d for d in reversed(detail.decisions) if d.kind in approving), None)


def _approved(detail: TaskDetail, since: float | None, tally: Tally) -> tuple[Draft, str] | None:
    """The approved draft and the approved text, or None (counted) when the task gives none."""
    decided = approval(detail)
    draft = detail.current_draft
    if decided is None or draft is None or detail.task.final_output is None:
        tally.drop(NOT_APPROVED)
        return None
    if since is not None and decided.created_at < since:
        tally.drop(APPROVED_BEFORE)
        return None
    return draft, detail.task.final_output


def sft_rows(detail: TaskDetail, query: DatasetQuery, tally: Tally) -> list[JsonObject]:
    """The task's one SFT row: its approved draft's prompt and the approved text."""
    approved = _approved(detail, query.since, tally)
    if approved is None:
        return []
    draft, text = approved
    if not draft.messages:
        tally.drop(NO_PROMPT)
        return []
    return [sft_row(draft.messages, text, query.row_format)]


def preference_rows(detail: TaskDetail, query: DatasetQuery, tally: Tally) -> list[JsonObject]:
    """One row per draft people sent back, or edited, paired with the approved text."""
    approved = _approved(detail, query.since, tally)
    if approved is None:
        return []
    final_draft, text = approved
    earlier = [draft for draft in detail.drafts if draft.id != final_draft.id]
    losers = earlier + ([final_draft] if final_draft.output != text else [])
    if not losers:
        tally.drop(NOTHING_TO_PAIR)
        return []
    rows: list[JsonObject] = []
    for draft in losers:
        if not draft.messages:
            tally.drop(NO_PROMPT)
        elif draft.output.strip() == text.strip():
            tally.drop(SAME_TEXT)
        else:
            rows.append(preference_row(draft.messages, text, draft.output, query.row_format))
    return rows


def feedback_rows(detail: TaskDetail, query: DatasetQuery, tally: Tally) -> list[JsonObject]:
    """One row per decision on the task, oldest first, with the draft it answered."""
    if not detail.decisions:
        tally.drop(UNDECIDED)
        return []
    drafts = {draft.id: draft for draft in detail.drafts}
    channels = _channels(detail)
    rows: list[JsonObject] = []
    for decision in detail.decisions:
        if query.since is not None and decision.created_at < query.since:
            tally.drop(DECIDED_BEFORE)
            continue
        draft = drafts.get(decision.draft_id)
        rows.append(feedback_row(detail, decision, draft, channels.get(decision.id)))
    return rows


def rows_of(detail: TaskDetail, query: DatasetQuery, tally: Tally) -> list[JsonObject]:
    """The rows one task gives to the query's dataset (drops counted in ``tally``)."""
    return _ROWS[query.dataset](detail, query, tally)


_ROWS = {
    Dataset.SFT: sft_rows,
    Dataset.PREFERENCES: preference_rows,
    Dataset.FEEDBACK: feedback_rows,
}


def _channels(detail: TaskDetail) -> dict[str, str]:
    """Each decision's channel (the door it came through), as its event recorded it."""
    found: dict[str, str] = {}
    for event in detail.events:
        decision_id, channel = event.payload.get("decision_id"), event.payload.get("channel")
        if isinstance(decision_id, str) and isinstance(channel, str):
            found[decision_id] = channel
    return found


# -- the rows themselves --------------------------------------------------------------


def _plain(messages: list[Message]) -> list[Message]:
    """The messages with their role and text only."""
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def _assistant(text: str) -> list[Message]:
    return [{"role": "assistant", "content": text}]


def sft_row(prompt: list[Message], text: str, row_format: RowFormat) -> JsonObject:
    """An SFT row: OpenAI's ``messages``, or TRL's conversational ``prompt``/``completion``.

    In OpenAI's rows every assistant turn carries a ``weight``: 0 for those in the
    prompt (a kind's worked examples, the earlier draft a revision answered), 1 for
    the approved text, so that only the approved text is learned. TRL's SFT trainer
    reads ``messages`` rows too; its prompt/completion rows learn the completion only.
    """
    if row_format is RowFormat.TRL:
        return {"prompt": _plain(prompt), "completion": _assistant(text)}
    messages: list[JsonObject] = [
        {**message, "weight": 0} if message["role"] == "assistant" else message
        for message in _plain(prompt)
    ]
    messages.append({"role": "assistant", "content": text, "weight": 1})
    return {"messages": messages}


def preference_row(
    prompt: list[Message], chosen: str, rejected: str, row_format: RowFormat
) -> JsonObject:
    """A preference row: OpenAI's ``input``/``preferred_output``/``non_preferred_output``,
    or TRL's conversational ``prompt``/``chosen``/``rejected``."""
    if row_format is RowFormat.TRL:
        return {
            "prompt": _plain(prompt),
            "chosen": _assistant(chosen),
            "rejected": _assistant(rejected),
        }
    return {
        "input": {"messages": _plain(prompt)},
        "preferred_output": _assistant(chosen),
        "non_preferred_output": _assistant(rejected),
    }


def feedback_row(
    detail: TaskDetail, decision: Decision, draft: Draft | None, channel: str | None
) -> JsonObject:
    """One decision for analysis: the task, the draft it answered, and the verdict."""
    task = detail.task
    return {
        "task_id": task.id,
        "kind": task.kind,
        "input": task.input,
        "requester": task.requester,
        "task_status": task.status.value,
        "final_output": task.final_output,
        "draft_id": decision.draft_id,
        "attempt": draft.attempt if draft is not None else None,
        "draft": draft.output if draft is not None else None,
        "provider": draft.provider if draft is not None else None,
        "model": draft.model if draft is not None else None,
        "decision_id": decision.id,
        "decision": decision.kind.value,
        "reviewer": decision.actor,
        "role": decision.role,
        "channel": channel,
        "decided_at": iso_time(decision.created_at),
        "feedback": decision.feedback,
        "reason": decision.reason,
        "edited_text": decision.text,
        "diff": decision.diff,
    }
