"""The REST API's request and response models (what the OpenAPI document shows).

Requests are strict: unknown fields, wrong types, oversized text and values
that cannot be stored (lone surrogates, NaN, absurd nesting) are refused with
422 naming the field, before anything reaches the engine. Responses are built
from the domain records with ``of()``; times are ISO 8601 in UTC.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from placet.domain import supervision, typed
from placet.domain.controls import Pause
from placet.domain.deliveries import DeliveryRecord, DeliveryStatus
from placet.domain.examples import CopyOf, copied_example, mark_of, used_examples
from placet.domain.holds import LONGEST_HOLD, hold_of
from placet.domain.limits import MAX_INPUT_DEPTH, MAX_NAME, MAX_NOTE, MAX_TEXT, MAX_VERSION
from placet.domain.models import (
    Decision,
    DecisionKind,
    Draft,
    Event,
    JsonObject,
    Task,
    TaskDetail,
    TaskStatus,
)
from placet.domain.notifications import NotificationRecord
from placet.domain.quorum import Tally
from placet.engine.accounts import ApiToken, User
from placet.engine.learning import Lesson
from placet.engine.pipelines import Chain

# The field limits are placet.domain.limits', so the dashboard's forms keep the same ones.


def _storable_text(value: str) -> str:
    """Refuse text the database cannot store (lone UTF-16 surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains characters that are not valid Unicode") from None
    return value


def _storable_json(value: JsonObject) -> JsonObject:
    """Refuse JSON that cannot be stored or sent back: NaN, infinities, bad text, deep nesting."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:  # iterative, so hostile nesting cannot exhaust the stack
        item, depth = pending.pop()
        if depth > MAX_INPUT_DEPTH:
            raise ValueError(f"is nested deeper than {MAX_INPUT_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                _storable_text(str(key))
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("contains a number JSON cannot carry (NaN or infinity)")
        elif isinstance(item, str):
            _storable_text(item)
    return value


_Storable = AfterValidator(_storable_text)
MAX_CHOICES = typed.MAX_CHOICES
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), _Storable]
Note = Annotated[str, Field(max_length=MAX_NOTE), _Storable]
LongText = Annotated[str, Field(max_length=MAX_TEXT), _Storable]
Input = Annotated[JsonObject, AfterValidator(_storable_json)]


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def epoch(moment: datetime) -> float:
    """Seconds since the epoch; a time without a zone is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def encode_cursor(task_id: str) -> str:
    """An opaque page cursor for "the tasks after this one"."""
    return base64.urlsafe_b64encode(task_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The task id inside a cursor; ValueError if it is not a cursor this API gave out."""
    try:
        task_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        task_id = ""
    if not (task_id.isascii() and task_id.isalnum()):
        raise ValueError("not a cursor this API gave out")
    return task_id


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests ---------------------------------------------------------------------------


class SubmitIn(_Request):
    """A new task: its kind and the named values its template needs."""

    kind: Name = Field(description="A task kind from placet.toml, such as onboarding_email.")
    input: Input = Field(description="The named values the kind's template needs.")


class DecisionIn(_Request):
    """A verdict on the draft a task waits on, naming the draft and the version seen."""

    kind: DecisionKind
    draft_id: Name = Field(description="The draft you reviewed (the task's current_draft_id).")
    version: int = Field(ge=1, le=MAX_VERSION, description="The task version you reviewed.")
    text: LongText | None = Field(None, description="For edit: the approved text.")
    feedback: Note | None = Field(None, description="For revise: what to change.")
    reason: Note | None = Field(
        None, description="For reject: why. With a choice: why you picked it (kept with it)."
    )
    value: Input | None = Field(
        None,
        description="For edit, on a kind with an output_schema (or choices): the edited "
        "object, in place of text; it must fit the kind's schema (422 names what does not).",
    )
    fields: Input | None = Field(
        None,
        description="For approve or edit, on a kind with decision_fields: the values it asks "
        "for (a refund amount, a ticket number), checked against them (422 names what is wrong).",
    )
    choice: list[Name] | None = Field(
        None,
        max_length=MAX_CHOICES,
        description="For approve, on a kind with choices: the choice you pick (several where "
        "the kind has multiple = true); another than the draft's is recorded as an edit.",
    )


class CancelIn(_Request):
    """Why a task is cancelled."""

    reason: Note = ""


class HoldIn(_Request):
    """Take a waiting task to review for a while, or (admins) hand it to someone."""

    seconds: float | None = Field(
        None,
        ge=1,
        le=LONGEST_HOLD,
        description="How long the hold lasts; default: the kind's hold setting, else 30 minutes.",
    )
    to: Name | None = Field(None, description="Hand it to this person instead (admins only).")


class RetryIn(_Request):
    """Which failed deliveries to run again: one handler's, or every failed one."""

    handler: Name | None = Field(None, description="Only this handler; every failed one if null.")


class PauseIn(_Request):
    """The kill switch: pause everything, or one kind, and say why."""

    reason: Note = Field(min_length=1, description="Why: kept in the audit log.")
    kind: Name | None = Field(None, description="Only this kind; everything if left out.")


class ResumeIn(_Request):
    """Lift a pause of everything, or of one kind."""

    kind: Name | None = Field(None, description="Only this kind's pause; everything's if left out.")


class LessonOut(BaseModel):
    """One lesson of a kind."""

    number: int = Field(description="Its number in the kind's list (placet lessons KIND).")
    text: str
    active: bool = Field(description="In every prompt of the kind; false once retired.")
    approved_by: str
    approved_at: datetime
    proposal: str = Field(description="The lessons:KIND task that approved it.")
    retired_by: str | None = None

    @classmethod
    def of(cls, lesson: Lesson) -> LessonOut:
        """The response for a lesson."""
        return cls(
            number=lesson.number,
            text=lesson.text,
            active=lesson.active,
            approved_by=lesson.approved_by,
            approved_at=_time(lesson.approved_at),
            proposal=lesson.task_id,
            retired_by=lesson.retired_by,
        )


class PauseOut(BaseModel):
    """A pause in force."""

    scope: str = Field(description="The kind paused, or * for everything.")
    by: str
    reason: str
    at: datetime = Field(description="When it was paused.")
    shown: str

    @classmethod
    def of(cls, pause: Pause) -> PauseOut:
        """The response for a pause."""
        return cls(
            scope=pause.scope,
            by=pause.by,
            reason=pause.reason,
            at=_time(pause.at),
            shown=pause.shown(),
        )


class TokenIn(_Request):
    """A new API token; an admin may name another user."""

    label: Name = "api token"
    user: Name | None = Field(None, description="Whose token (admins only); yourself if left out.")


# -- responses --------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """What went wrong."""

    detail: str
    error: str | None = None


class ValidationIssue(BaseModel):
    """One invalid field: where it is and what is wrong with it."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """An invalid request: the fields at fault, or the engine's explanation."""

    detail: list[ValidationIssue] | str
    error: str | None = None


class TaskOut(BaseModel):
    """A task and where it stands; decide with its ``version`` and ``current_draft_id``."""

    id: str
    kind: str
    input: JsonObject
    requester: str
    status: TaskStatus
    version: int
    attempt: int
    max_attempts: int
    created_at: datetime
    updated_at: datetime
    current_draft_id: str | None
    final_output: str | None
    pending_feedback: str | None
    idempotency_key: str | None
    head_hash: str
    held_by: str | None = Field(
        None, description="Who is reviewing it now (took it), while the hold lasts."
    )
    held_until: datetime | None = Field(None, description="When that hold lapses.")
    risk: int | None = Field(
        None, description="The supervisor's risk score (0-100) of the current draft, if read."
    )
    flags: list[str] = Field(
        default_factory=list,
        description="What the supervisor flagged in the current draft (email, card, api_key...).",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Said about the request, such as a decision over someone else's hold.",
    )

    @classmethod
    def of(cls, task: Task, warnings: list[str] | None = None) -> TaskOut:
        """The response for a task."""
        hold = hold_of(task, time.time())
        return cls(
            id=task.id,
            kind=task.kind,
            input=task.input,
            requester=task.requester,
            status=task.status,
            version=task.version,
            attempt=task.attempt,
            max_attempts=task.max_attempts,
            created_at=_time(task.created_at),
            updated_at=_time(task.updated_at),
            current_draft_id=task.current_draft_id,
            final_output=task.final_output,
            pending_feedback=task.pending_feedback,
            idempotency_key=task.idempotency_key,
            head_hash=task.head_hash,
            held_by=hold.holder if hold else None,
            held_until=_time(hold.until) if hold else None,
            risk=task.risk,
            flags=task.flags.split(",") if task.flags else [],
            warnings=warnings or [],
        )


class CopyOut(BaseModel):
    """An example a draft repeats nearly word for word."""

    task_id: str = Field(description="The approved task whose text it repeats.")
    alike: float = Field(description="How alike, word by word, from 0 to 1.")


class DraftOut(BaseModel):
    """One generation attempt, with the exact messages sent to the model."""

    id: str
    attempt: int
    provider: str
    model: str
    messages: list[dict[str, str]]
    output: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    created_at: datetime
    feedback: str | None
    seed: int | None = Field(
        None,
        description="The sampling seed of this attempt (none for a caller's own draft, or a "
        "draft made before seeds were kept); a local model given the same messages and seed "
        "writes the same draft.",
    )
    examples: list[str] = Field(
        default_factory=list,
        description="The ids of the approved tasks put into its prompt as examples "
        "(learn.examples), as its event recorded them.",
    )
    copies_example: CopyOut | None = Field(
        None,
        description="The example it repeats nearly word for word (at least 80% alike, word "
        "by word), when it does: a small model learns from an example by copying it, so "
        "check the draft answers its own request.",
    )

    @classmethod
    def of(
        cls, draft: Draft, examples: tuple[str, ...] = (), copies: CopyOf | None = None
    ) -> DraftOut:
        """The response for a draft."""
        return cls(
            id=draft.id,
            attempt=draft.attempt,
            provider=draft.provider,
            model=draft.model,
            messages=draft.messages,
            output=draft.output,
            prompt_tokens=draft.usage.prompt_tokens,
            completion_tokens=draft.usage.completion_tokens,
            latency_ms=draft.latency_ms,
            created_at=_time(draft.created_at),
            feedback=draft.feedback,
            seed=draft.seed,
            examples=list(examples),
            copies_example=CopyOut(task_id=copies.task_id, alike=copies.alike) if copies else None,
        )


class DecisionOut(BaseModel):
    """One human verdict on one draft."""

    id: str
    draft_id: str
    kind: DecisionKind
    actor: str
    role: str
    created_at: datetime
    text: str | None
    diff: str | None
    feedback: str | None
    reason: str | None

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        """The response for a decision."""
        return cls(
            id=decision.id,
            draft_id=decision.draft_id,
            kind=decision.kind,
            actor=decision.actor,
            role=decision.role,
            created_at=_time(decision.created_at),
            text=decision.text,
            diff=decision.diff,
            feedback=decision.feedback,
            reason=decision.reason,
        )


class EventOut(BaseModel):
    """One entry of the task's hash-chained audit trail."""

    seq: int
    type: str
    actor: str
    created_at: datetime
    payload: JsonObject
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, event: Event) -> EventOut:
        """The response for an event."""
        return cls(
            seq=event.seq,
            type=event.type,
            actor=event.actor,
            created_at=_time(event.created_at),
            payload=event.payload,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )


class ApprovalsOut(BaseModel):
    """Where a task awaiting a quorum stands: ``1 of 2 approvals: ana``."""

    needed: int = Field(description="How many distinct people must approve the same text.")
    approved_by: list[str] = Field(description="Who approved the text under review, in order.")
    shown: str = Field(description="The count as the dashboard shows it.")

    @classmethod
    def of(cls, count: Tally) -> ApprovalsOut:
        """The response for a quorum's count."""
        return cls(needed=count.needed, approved_by=list(count.approvers), shown=count.shown())


class ExampleOut(BaseModel):
    """Whether an approved task may be put into later prompts of its kind as an example."""

    task_id: str
    example: bool = Field(
        description='False once someone marked it "not an example" (and did not undo it).'
    )
    marked_by: str | None = Field(None, description="Who marked it last, or undid the mark.")
    marked_at: datetime | None = Field(None, description="When.")

    @classmethod
    def of(cls, task_id: str, events: list[Event]) -> ExampleOut:
        """The response for an approved task, from its events."""
        mark = mark_of(events)
        return cls(
            task_id=task_id,
            example=mark is None or not mark.excluded,
            marked_by=mark.by if mark else None,
            marked_at=_time(mark.at) if mark else None,
        )


class StepOut(BaseModel):
    """Another task of the same pipeline: the step before or a step after."""

    id: str
    kind: str
    status: TaskStatus

    @classmethod
    def of(cls, task: Task) -> StepOut:
        """The step as the pipeline view shows it."""
        return cls(id=task.id, kind=task.kind, status=task.status)


class PipelineOut(BaseModel):
    """Where a task stands in its pipeline of kinds (``then`` in placet.toml)."""

    parent: StepOut | None = Field(None, description="The step whose approval submitted it.")
    steps: list[StepOut] = Field(
        default_factory=list, description="The steps its approval submitted."
    )
    stands: str | None = Field(
        None,
        description="What happens next, or why the chain stops here (a rejected or failed step, "
        "a next step that could not be submitted).",
    )

    @classmethod
    def of(cls, chain: Chain) -> PipelineOut | None:
        """The view of a chain; None for a task in no pipeline."""
        if chain.parent is None and not chain.steps and chain.stands is None:
            return None
        parent = StepOut.of(chain.parent) if chain.parent is not None else None
        return cls(parent=parent, steps=[StepOut.of(t) for t in chain.steps], stands=chain.stands)


class TaskDetailOut(TaskOut):
    """A task with its drafts, decisions and audit events, oldest first."""

    drafts: list[DraftOut]
    decisions: list[DecisionOut]
    events: list[EventOut]
    approvals: ApprovalsOut | None = Field(
        default=None,
        description="The count so far, while a kind with approvals > 1 awaits its quorum.",
    )
    supervisor: JsonObject | None = Field(
        default=None,
        description="The supervisor's reading of the current draft: risk, flags, and each "
        "finding (type, category, where: draft or input, field, start, end, why); or "
        "unavailable with the reason. Null where no supervisor read it.",
    )

    route: str | None = Field(
        default=None,
        description="The supervisor's routing rule this draft matched, said for a person "
        "(who may decide it, how many must approve, its priority).",
    )
    example: ExampleOut | None = Field(
        default=None,
        description='For an approved task: whether it is an example, or was marked "not an '
        'example", and by whom.',
    )
    callback_url: str | None = Field(
        default=None,
        description="For a caller who may decide the draft now: a signed, single-use URL a "
        'tool may POST {"decision": "approve" | "reject", "reason": ...} to, deciding as '
        "the caller (see POST /api/v1/callbacks/{token}). Keep it as you would a token.",
    )
    pipeline: PipelineOut | None = Field(
        default=None,
        description="For a step of a pipeline of kinds: its parent, the steps after it, and "
        "where the chain stands. Null for a task in no pipeline.",
    )

    @classmethod
    def of_detail(
        cls, detail: TaskDetail, count: Tally | None = None, route: str | None = None
    ) -> TaskDetailOut:
        """The response for a task's whole story."""
        reading = supervision.reading_for(detail.events, detail.task.current_draft_id)
        approved = detail.task.status is TaskStatus.APPROVED
        return cls(
            **TaskOut.of(detail.task).model_dump(),
            drafts=[
                DraftOut.of(
                    draft,
                    used_examples(detail.events, draft.id),
                    copied_example(detail.events, draft.id),
                )
                for draft in detail.drafts
            ],
            decisions=[DecisionOut.of(decision) for decision in detail.decisions],
            events=[EventOut.of(event) for event in detail.events],
            approvals=ApprovalsOut.of(count) if count is not None else None,
            supervisor=reading.payload() if reading is not None else None,
            route=route,
            example=ExampleOut.of(detail.task.id, detail.events) if approved else None,
        )


class DeliveryOut(BaseModel):
    """How one outcome handler fared with one of the task's final decisions."""

    handler: str
    decision_id: str
    status: DeliveryStatus = Field(
        description="pending (to run or waiting for its next try), delivered, or failed "
        "(it gave up: retry it once the cause is fixed)."
    )
    attempts: int
    next_try_at: datetime | None = Field(description="When a pending delivery runs next.")
    finished_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, record: DeliveryRecord) -> DeliveryOut:
        """The response for a delivery."""
        pending = record.status is DeliveryStatus.PENDING
        return cls(
            handler=record.handler,
            decision_id=record.decision_id,
            status=record.status,
            attempts=record.attempts,
            next_try_at=_time(record.next_try_at) if pending else None,
            finished_at=None if record.finished_at is None else _time(record.finished_at),
            last_error=record.last_error,
        )


class FailedDeliveryOut(DeliveryOut):
    """A delivery that gave up, with the task it belongs to."""

    task_id: str

    @classmethod
    def of_failed(cls, record: DeliveryRecord) -> FailedDeliveryOut:
        """The response for a failed delivery."""
        return cls(**DeliveryOut.of(record).model_dump(), task_id=record.task_id)


class NotificationOut(BaseModel):
    """One notification of a task to a channel: what it told, and whether it got there."""

    id: str
    webhook_id: str = Field(description="The webhook-id header every try carries: msg_<id>.")
    task_id: str
    event: str = Field(description="awaiting_review, reminder, escalated, decided or failed.")
    channel: str = Field(description="The channel, TYPE:NAME (webhook:ops).")
    recipient: str = Field(description="Who hears it, as shown: a webhook's host.")
    status: DeliveryStatus = Field(
        description="pending (to send, or waiting for its next try), delivered (a 2xx), or "
        "failed (it gave up: send it again once the cause is fixed)."
    )
    attempts: int
    created_at: datetime
    next_try_at: datetime | None = Field(description="When a pending notification is tried next.")
    finished_at: datetime | None
    last_error: str | None
    last_code: int | None = Field(description="The receiver's last HTTP status, if it answered.")

    @classmethod
    def of(cls, record: NotificationRecord) -> NotificationOut:
        """The response for a notification."""
        pending = record.status is DeliveryStatus.PENDING
        return cls(
            id=record.id,
            webhook_id=record.webhook_id,
            task_id=record.task_id,
            event=record.event,
            channel=record.channel,
            recipient=record.recipient,
            status=record.status,
            attempts=record.attempts,
            created_at=_time(record.created_at),
            next_try_at=_time(record.next_try_at) if pending else None,
            finished_at=None if record.finished_at is None else _time(record.finished_at),
            last_error=record.last_error,
            last_code=record.last_code,
        )


class TaskPage(BaseModel):
    """One page of tasks, newest first; pass ``next_cursor`` back for the next page."""

    items: list[TaskOut]
    next_cursor: str | None = Field(description="The cursor of the next page; null at the end.")


class ConflictOut(ErrorOut):
    """The decision or change lost: the task as it stands now, so the client can catch up."""

    task: TaskOut | None = None


class UserOut(BaseModel):
    """A person who can sign in."""

    name: str
    roles: list[str]
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The response for a user."""
        roles = sorted(role.value for role in user.roles)
        return cls(
            name=user.name, roles=roles, created_at=_time(user.created_at), disabled=user.disabled
        )


class TokenOut(BaseModel):
    """An API token's record (never its secret)."""

    id: str
    user: str
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        """The response for a token record."""
        revoked = _time(token.revoked_at) if token.revoked_at is not None else None
        return cls(
            id=token.id,
            user=token.user_name,
            label=token.label,
            created_at=_time(token.created_at),
            revoked_at=revoked,
        )


class TokenCreatedOut(TokenOut):
    """A new token: ``token`` is the secret, shown this once."""

    token: str


class HealthOut(BaseModel):
    """Whether the process (or its database) answers."""

    status: str
    detail: str | None = None
