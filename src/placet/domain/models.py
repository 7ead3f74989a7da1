"""The domain records: task kinds, tasks, drafts, decisions and events.

The words of the domain, one sentence each:

- **TaskKind**: a named kind of work, with its system prompt, prompt template,
  model and policy (attempts, who may decide), defined in ``placet.toml`` or in
  Python.
- **Task**: one request (kind, input, who asked, idempotency key) and where it
  stands: its status, its ``version`` for compare-and-set, its attempt count and
  its final output.
- **Draft**: one generation attempt (provider and model, the exact messages
  sent, the sampling seed, output, token usage, latency, the feedback it
  answered); drafts are never overwritten.
- **Decision**: one person's immutable verdict on one draft, ``approve``,
  ``edit`` (approve changed text; the diff is kept), ``revise`` (feedback; a new
  draft follows) or ``reject`` (final, with a reason), with who decided, in
  which role, and when.
- **Event**: an append-only record of one state change, hash-chained per task
  so that ``placet audit verify`` can prove nothing was altered.
- **Statuses** (``TaskStatus``): ``queued`` (waiting for a worker),
  ``drafting`` (a worker holds the lease), ``awaiting_review`` (a draft waits
  for a person), ``failed`` (the provider failed; a retry queues it again),
  and the final ones, ``approved``, ``rejected``, ``cancelled`` and ``expired``
  (its deadline passed; never approved). The allowed moves are one table, in
  ``placet.domain.transitions``.

All records are immutable; a state change makes a new ``Task`` and appends an
``Event``. Nothing here does I/O. How records are made and copied quickly
(``one_step_init``, ``evolve``, ``restore``) lives in ``placet.domain.fastinit``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from placet.domain.fastinit import one_step_init
from placet.domain.learning import Learning
from placet.domain.supervision import Supervision

JsonObject = dict[str, Any]


class TaskStatus(str, enum.Enum):
    """Where a task stands."""

    QUEUED = "queued"
    DRAFTING = "drafting"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """True when nothing more can happen to the task."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.CANCELLED, TaskStatus.EXPIRED}
)


class DecisionKind(str, enum.Enum):
    """The four things a reviewer can say about a draft."""

    APPROVE = "approve"
    EDIT = "edit"
    REVISE = "revise"
    REJECT = "reject"


REVISE_FROM = ("draft", "request")


@dataclass(frozen=True)
class Example:
    """A worked example of a kind: an input and the answer it should get.

    Sent before the real request as a user turn (the kind's template filled
    with ``input``) and an assistant turn (``output``): a small model copies
    the shape of an answer it has seen far better than one it is told about.
    """

    input: JsonObject
    output: str


@dataclass(frozen=True)
class TaskKind:
    """A named kind of work: prompts, model and policy."""

    name: str
    template: str
    system: str = ""
    description: str = ""
    model: str | None = None
    max_attempts: int = 3
    max_tokens: int = 512
    temperature: float = 0.7
    # Worked examples sent before the request (domain/prompts.py).
    examples: tuple[Example, ...] = ()
    # Where the model stops writing: the first of these it writes ends the draft.
    stop: tuple[str, ...] = ()
    # What a revision is built from: "draft" (the previous draft and the feedback)
    # or "request" (the request again, with the feedback as part of it).
    revise_from: str = "draft"
    # The words every draft starts with ("Subject: Welcome, {name}"; inputs filled in):
    # the model writes on from them (domain/prompts.py). A reviewer's quoted opening
    # ("start with 'Dear Ana,'") takes its place in a revision. Empty: none.
    opening: str = ""
    # The input a draft quotes from: its double-quoted parts must be that input's
    # sentences, word for word (domain/quotes.py). Empty: quotations are free.
    quote_from: str = ""
    # Drafts sampled (each with its own seed) to keep the best: for a first draft the
    # one with the fewest plain defects (domain/defects.py), for a revision the one that
    # shows most of what the reviewer asked (domain/revisions.py); 1: the first is it.
    draft_candidates: int = 1
    revision_candidates: int = 1
    # People (or "group:NAME") who may decide this kind; empty means any reviewer.
    reviewers: tuple[str, ...] = ()
    # How many distinct people must approve the same text (domain/quorum.py).
    approvals: int = 1
    # Timers while a draft awaits review, in seconds (domain/timers.py).
    remind_after: float | None = None
    escalate_after: float | None = None
    escalate_to: tuple[str, ...] = ()  # people or "group:NAME" who then may decide too
    deadline: float | None = None
    on_deadline: str = "reject"  # or "expire"; never approve
    hold: float | None = None  # how long taking an item holds it (domain/holds.py); None: 30m
    # The supervisor's first reading of every draft (domain/supervision.py); None: off.
    supervisor: Supervision | None = None
    # What the kind learns from its reviewers (domain/learning.py): lessons, examples.
    learn: Learning = field(default_factory=Learning)
    # The channels that hear of its tasks ("webhook:ops"; domain/channels.py); None: the
    # global [placet] notify list, which a kind's own list replaces.
    notify: tuple[str, ...] | None = None
    # Typed kinds (domain/typed.py): the choices a reviewer picks from (several when
    # ``multiple``), or the JSON Schema of the object each draft is; none: free text.
    choices: tuple[str, ...] = ()
    multiple: bool = False
    output_schema: JsonObject | None = field(default=None, hash=False)
    # The JSON Schema a task's input must fit (domain/typed.py); None: any named values.
    input_schema: JsonObject | None = field(default=None, hash=False)
    # The JSON Schema of values a reviewer gives when approving (a refund amount, a ticket).
    decision_fields: JsonObject | None = field(default=None, hash=False)
    # Pipelines (domain/pipelines.py): the kind submitted when a task is approved, as
    # (choice, next kind) pairs ("" for every approval), and the next task's input as
    # (input name, template of the approved output) pairs.
    then: tuple[tuple[str, str], ...] = ()
    then_input: tuple[tuple[str, str], ...] = ()


@one_step_init
@dataclass(frozen=True)
class Task:
    """One request and where it stands; ``version`` guards every change."""

    id: str
    kind: str
    input: JsonObject
    requester: str
    status: TaskStatus
    version: int
    attempt: int
    max_attempts: int
    created_at: float
    updated_at: float
    head_hash: str
    event_count: int
    idempotency_key: str | None = None
    current_draft_id: str | None = None
    final_output: str | None = None
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    pending_feedback: str | None = None
    due_at: float | None = None  # when its next timer (reminder, escalation, deadline) is due
    held_by: str | None = None  # who took it to review (domain/holds.py); lapses at held_until
    held_until: float | None = None
    # The supervisor's reading of the current draft (domain/supervision.py): its risk
    # score 0-100 and the types it flagged, comma-joined; None where no supervisor read it.
    risk: int | None = None
    flags: str | None = None


@one_step_init
@dataclass(frozen=True)
class Usage:
    """Tokens used by one generation."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@one_step_init
@dataclass(frozen=True)
class Draft:
    """One generation attempt. Drafts are never overwritten."""

    id: str
    task_id: str
    attempt: int
    provider: str
    model: str
    messages: list[dict[str, str]]
    output: str
    usage: Usage
    latency_ms: float
    created_at: float
    feedback: str | None = None
    # The sampling seed the model was given: a new one for every attempt, so asking
    # again gives another draft, and with it a local model writes this draft again.
    # None for a draft the caller made, and for drafts made before seeds were kept.
    seed: int | None = None


@one_step_init
@dataclass(frozen=True)
class Decision:
    """One human verdict on one draft. Immutable."""

    id: str
    task_id: str
    draft_id: str
    kind: DecisionKind
    actor: str
    created_at: float
    role: str = "reviewer"
    text: str | None = None
    diff: str | None = None
    feedback: str | None = None
    reason: str | None = None


@one_step_init
@dataclass(frozen=True)
class Event:
    """An append-only, hash-chained record of one state change."""

    task_id: str
    seq: int
    type: str
    actor: str
    created_at: float
    payload: JsonObject = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    # The payload's JSON text as the store keeps it, when known: the text made
    # for the hash (audit.chained_event) or read back. Set only by those two; a
    # copy (``dataclasses.replace``, ``evolve``) drops it, so a changed payload
    # is encoded anew.
    payload_json: str | None = field(default=None, init=False, compare=False, repr=False)


@dataclass(frozen=True)
class TaskDetail:
    """A task with everything that happened to it."""

    task: Task
    drafts: list[Draft]
    decisions: list[Decision]
    events: list[Event]

    @property
    def current_draft(self) -> Draft | None:
        """The draft the task is waiting on, or the last one made."""
        by_id = {d.id: d for d in self.drafts}
        if self.task.current_draft_id in by_id:
            return by_id[self.task.current_draft_id]
        return self.drafts[-1] if self.drafts else None
