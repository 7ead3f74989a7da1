"""The one orchestrator: submit, claim, draft, decide, wait, cancel.

Every interface (CLI, review folder, later the web and the SDK) calls this;
none of them changes state on its own. Each state change is one
compare-and-set on the task's version, written with its hash-chained event in
one transaction by the store.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import replace
from typing import Any

from placet.channel_config import notify_problems
from placet.config import Settings
from placet.domain import (
    audit,
    executions,
    holds,
    jsontext,
    lessons,
    pipelines,
    quorum,
    supervision,
    timers,
    typed,
)
from placet.domain.changes import Change, change_for, next_event
from placet.domain.controls import EVERYTHING, Pause
from placet.domain.decisions import (
    UNCHANGING_EVENTS,
    DecisionRequest,
    check_answers_current,
    decision_payload,
    make_decision,
    round_decision,
)
from placet.domain.fastinit import evolve
from placet.domain.ids import new_id, new_seed
from placet.domain.models import (
    Decision,
    DecisionKind,
    Draft,
    JsonObject,
    Task,
    TaskKind,
    TaskStatus,
    Usage,
)
from placet.domain.policy import (
    Groups,
    Principal,
    ReviewerLists,
    Verdict,
    WayForward,
    kind_policy_problems,
    may_decide,
    reviewers_of,
    way_forward,
)
from placet.domain.prompts import template_inputs, template_problem
from placet.domain.routing import Facts, Rule, first_match
from placet.domain.toolcalls import parse_edited_arguments
from placet.domain.transitions import Action, next_status
from placet.engine.accounts import Accounts
from placet.engine.auditlog import AuditLog
from placet.engine.controls import Controls
from placet.engine.drafting import Drafting, MadeDraft
from placet.engine.examples import Examples, with_example
from placet.engine.identity import local_principal
from placet.engine.learning import Learner
from placet.engine.notifying import Notifier
from placet.engine.reading import Reads
from placet.engine.supervising import supervise
from placet.engine.waiting import Waiting
from placet.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    PlacetError,
    UnknownKindError,
    UnusableModelError,
)
from placet.providers.base import Provider
from placet.store.base import Store
from placet.store.kept import KeptRecords

ProviderFactory = Callable[[str], Provider]
ModelCheck = Callable[[str], object]  # raises ConfigError when a model cannot be used
# The tasks this engine last wrote, by id. A decision usually follows the
# draft this process saved (the server drafts and takes the decision), so
# decide() starts from that copy instead of reading the task back. A copy that
# has gone stale since (another process changed the task) cannot do harm: the
# decision is a compare-and-set on the version it saw, which then fails, and
# decide() reads the task and decides again.
TASKS_KEPT = 128
# How often a decision is tried when a race is lost (each try reads the task again).
DECIDE_TRIES = 3
CALLER = "caller"  # the provider of a draft its caller wrote (propose)
_DECISION_ACTIONS = {
    DecisionKind.APPROVE: Action.APPROVE,
    DecisionKind.EDIT: Action.EDIT,
    DecisionKind.REVISE: Action.REVISE,
    DecisionKind.REJECT: Action.REJECT,
}


class Engine(Reads, Drafting, Waiting):
    """Placet's service layer over a store, the configured kinds and providers."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        provider_for: ProviderFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self._provider_for = provider_for or _registry_factory(settings)
        # A provider given in code is checked by making it; the registry's own are
        # checked without (see providers.registry.check).
        self._check_model: ModelCheck = (
            _registry_check(settings) if provider_for is None else self.provider
        )
        self._usable_models: set[str] = set()
        self._providers: dict[str, Provider] = {}
        self._providers_lock = threading.Lock()
        self._clock = clock
        # Every kind, and the kind of each one's lesson proposals (domain/lessons.py).
        self._kinds: dict[str, TaskKind] = {}
        self._own_kinds: dict[str, TaskKind] = {}
        for kind in settings.kinds.values():
            self._check_policy(kind)
            self._add_kind(kind)
        self._reviewer_lists = _reviewer_lists(self._kinds, self.settings.groups)
        self._written: KeptRecords[Task] = KeptRecords(TASKS_KEPT)
        self.audit_chain = audit.ChainHash(settings.audit_key)
        self.accounts = Accounts(store.accounts(), self.audit_chain)
        self.controls = Controls(self.accounts)  # the kill switch
        self.audit_log = AuditLog(store.audit_log(), self.audit_chain)
        self.learning = Learner(self)  # lessons and examples (engine/learning.py)
        self.examples = Examples(self)  # examples from approved work (engine/examples.py)
        # Who hears of which changes: their notifications are written with them (the outbox).
        self.notifier = Notifier(settings, self._kinds.get, store.links().emails)

    # -- kinds and providers ---------------------------------------------------

    @property
    def kinds(self) -> Mapping[str, TaskKind]:
        """Every kind: from placet.toml and registered in code (not their lesson kinds)."""
        return self._own_kinds

    @property
    def reviewer_lists(self) -> ReviewerLists:
        """Who may review which kind, as placet.toml's lists say."""
        return self._reviewer_lists

    def _add_kind(self, kind: TaskKind) -> None:
        self._kinds[kind.name] = kind
        if lessons.learner_of(kind.name) is None:  # a kind of proposals learns nothing
            self._own_kinds[kind.name] = kind
            self._kinds[lessons.name_for(kind.name)] = lessons.proposal_kind(kind)

    def kind(self, name: str) -> TaskKind:
        """The kind with that name, or an error listing the known ones."""
        kind = self._kinds.get(name)
        if kind is None:
            known = ", ".join(sorted(self._own_kinds)) or "none"
            raise UnknownKindError(f"unknown task kind {name!r}; known kinds: {known}")
        return kind

    def register_kind(self, kind: TaskKind) -> None:
        """Add a kind defined in code; refused if defined differently or its template is broken."""
        existing = self._kinds.get(kind.name)
        if existing is not None and existing != kind:
            raise ConfigError(f"kind {kind.name!r} is already defined differently")
        problem = template_problem(kind.template)
        if problem is not None:
            raise ConfigError(f"kind {kind.name!r}: template: {problem}")
        self._check_policy(kind)
        self._check_pipeline(kind)
        self._add_kind(kind)
        self._reviewer_lists = _reviewer_lists(self._kinds, self.settings.groups)

    def _check_pipeline(self, kind: TaskKind) -> None:
        """A kind defined in code leads only to kinds defined before it, checked as
        placet.toml's are (domain/pipelines.py)."""
        if not kind.then:
            return
        own = f"[kinds.{kind.name}] "
        found = pipelines.pipeline_problems({**self._kinds, kind.name: kind})
        problems = [problem.removeprefix(own) for problem in found if problem.startswith(own)]
        if problems:
            raise ConfigError(f"kind {kind.name!r}: {'; '.join(problems)}")

    def pause(self, principal: Principal, reason: str, kind: str | None = None) -> Pause:
        """The kill switch: stop drafting, approved calls and handlers (of one kind, or all).

        Decisions are still recorded. Admins only (anyone in single-user mode);
        a security event records who and why. ``resume`` lifts it.
        """
        if kind is not None:
            self.kind(kind)  # an unknown kind is an error, not a pause of nothing
        return self.controls.pause(principal, reason, kind)

    def resume(self, principal: Principal, kind: str | None = None) -> Pause:
        """Lift a pause (of one kind, or of everything); the pause lifted is returned."""
        return self.controls.resume(principal, kind)

    def _check_policy(self, kind: TaskKind) -> None:
        problems = kind_policy_problems(kind, self.settings.groups)
        problems += notify_problems(kind.notify, "", self.settings.channels)
        if problems:
            raise ConfigError(f"kind {kind.name!r}: {problems[0]}")

    def provider(self, model: str) -> Provider:
        """The provider for a model name, made once per engine."""
        with self._providers_lock:  # drafts in flight at once share one provider per model
            if model not in self._providers:
                self._providers[model] = self._provider_for(model)
            return self._providers[model]

    def check_model(self, kind: TaskKind) -> None:
        """Raise UnusableModelError when the kind's model cannot be used as configured.

        What can be known before a task exists: the provider's name, its key or
        endpoint, the model file; no model is loaded or called. A model checked
        once is not checked again by this engine.
        """
        model = self.settings.model_for(kind)
        if model in self._usable_models:
            return
        try:
            self._check_model(model)
        except ConfigError as exc:
            said = self.settings.unusable_model(kind, exc.message)
            raise UnusableModelError(f"{said}; nothing was submitted") from exc
        self._usable_models.add(model)

    def model_of_each_kind(self) -> dict[str, str]:
        """The model each kind drafts with, lesson kinds included, by kind name."""
        return {name: self.settings.model_for(kind) for name, kind in self._kinds.items()}

    def model_problems(self) -> dict[str, str]:
        """Each kind whose model cannot be used as configured, and why.

        Only what a provider checks when it is made (a key, a model file); no
        model is loaded or called. Drafting a task of such a kind fails it.
        """
        problems: dict[str, str] = {}
        for name, kind in self._own_kinds.items():
            model = self.settings.model_for(kind)
            try:
                self.provider(model)
            except ConfigError as exc:
                problems[name] = f"{model}: {exc.message}"
        return problems

    def seal_audit_log(self) -> int:
        """Log the events made so far in the global audit log; how many were logged."""
        return self.audit_log.seal(self._clock())

    def close(self, store_too: bool = False) -> None:
        """Close the providers this engine opened, and the store when its opener asks."""
        for provider in self._providers.values():
            close = getattr(provider, "close", None)
            if callable(close):
                close()
        self._providers.clear()
        if store_too:
            self.store.close()

    # -- submit ------------------------------------------------------------------

    def submit(
        self,
        kind_name: str,
        values: JsonObject,
        requester: str,
        idempotency_key: str | None = None,
        claim_as: str | None = None,
        parent: JsonObject | None = None,
    ) -> Task:
        """Queue a task; with ``claim_as``, also claim it for drafting in the same commit.

        ``parent`` links a pipeline step to the approval that made it
        (``engine.pipelines``); its ``submitted`` event records the link.

        A known idempotency key gives back the task it made, when this is the
        same request again (the same kind, input and requester); a key used
        for other work, or by someone else, is a ConflictError and hands
        nothing back. A kind whose model cannot be used is refused before
        anything is stored (UnusableModelError), not failed once drafted.
        """
        self.check_model(self.kind(kind_name))
        task = self._create(kind_name, values, requester, idempotency_key, claim_as, parent)
        if idempotency_key is not None and not _same_request(task, kind_name, values, requester):
            raise ConflictError(
                f"the idempotency key {idempotency_key!r} was already used for a different "
                "request (another kind, input or requester); nothing was submitted"
            )
        return task

    def _create(
        self,
        kind_name: str,
        values: JsonObject,
        requester: str,
        idempotency_key: str | None,
        claim_as: str | None,
        parent: JsonObject | None = None,
    ) -> Task:
        kind = self.kind(kind_name)
        _refuse_nul(requester=requester, idempotency_key=idempotency_key)
        self._check_input(kind, values)
        now = self._clock()
        task = Task(
            id=new_id(),
            kind=kind.name,
            input=values,
            requester=requester,
            status=TaskStatus.QUEUED,
            version=1,
            attempt=0,
            max_attempts=kind.max_attempts,
            created_at=now,
            updated_at=now,
            head_hash=audit.GENESIS_HASH,
            event_count=0,
            idempotency_key=idempotency_key,
        )
        payload = {
            "kind": kind.name,
            "input": values,
            "requester": requester,
            "max_attempts": kind.max_attempts,
            "idempotency_key": idempotency_key,
        }
        step = pipelines.step_payload(kind, parent)
        if step:
            payload[pipelines.SUBMITTED_KEY] = step
        claimed: JsonObject = {}
        if claim_as is not None:
            # Submitted and claimed in one commit is one state change, so one
            # event: "submitted", naming the claimer and its lease.
            claimed, payload["claim"] = self._claimed_at_birth(task, claim_as, now)
        first = next_event(task, "submitted", requester, payload, now, self.audit_chain)
        # One copy with the claim and the chain's head: this is the hot path.
        task = evolve(task, head_hash=first.hash, event_count=first.seq, **claimed)
        return self.store.create_task(task, [first])

    def _claimed_at_birth(
        self, task: Task, worker: str, now: float
    ) -> tuple[JsonObject, JsonObject]:
        """What a claim at submit changes on the queued task, and what its event records."""
        lease = self._lease_terms(task, Action.CLAIM, worker, now)
        changes = {
            "status": next_status(task, Action.CLAIM),
            "attempt": lease["attempt"],
            "lease_owner": worker,
            "lease_expires_at": lease["lease_expires_at"],
        }
        return changes, {key: lease[key] for key in ("worker", "attempt", "lease_expires_at")}

    def _check_input(self, kind: TaskKind, values: JsonObject) -> None:
        if not isinstance(values, dict):
            raise InvalidInputError("the task input must be a JSON object of named values")
        needed = template_inputs(kind.template)
        missing = [name for name in needed if name not in values]
        if missing:
            raise InvalidInputError(
                f"kind {kind.name!r} needs input {', '.join(missing)} "
                f"(give each with --input NAME=VALUE)"
            )
        empty = [name for name in needed if str(values[name]).strip() == ""]
        if empty:
            raise InvalidInputError(f"input {', '.join(empty)} is empty")
        typed.check_input(kind, values)  # the kind's input_schema, naming each input
        size = len(jsontext.require_json(values, "the task input").encode("utf-8"))
        if size > self.settings.max_input_bytes:
            raise InvalidInputError(
                f"the input is {size} bytes; the limit is {self.settings.max_input_bytes} "
                f"(PLACET_MAX_INPUT_BYTES)"
            )

    # -- claim and draft ---------------------------------------------------------

    def claim(
        self,
        worker: str,
        task_id: str | None = None,
        skip_kinds: frozenset[str] = frozenset(),
        drafting_now: Container[str] = (),
    ) -> Task | None:
        """Claim one task for drafting (or the named one); None when there is none to take.

        A worker drafting several at once passes over the kinds whose model has no free
        slot (``skip_kinds``) and never takes back a task it is drafting now
        (``drafting_now``, its ids), even when that task's lease ran out meanwhile.
        """
        now = self._clock()

        paused = self.controls.pauses()
        if EVERYTHING in paused:
            return None  # the kill switch: nothing is drafted
        passed_over = frozenset(paused) | skip_kinds

        def claim_change(task: Task) -> Change | None:
            action = _claim_action(task, now)
            if action is None or task.kind in passed_over or task.id in drafting_now:
                return None
            return self._claim_change(task, action, worker, now)

        # The store holds the task while the change is made: no two workers claim it.
        return self.store.claim(now, claim_change, task_id, passed_over)

    def _claim_change(self, task: Task, action: Action, worker: str, now: float) -> Change:
        lease = self._lease_terms(task, action, worker, now)
        return self._change(
            task,
            action,
            worker,
            lease,
            now,
            attempt=lease["attempt"],
            lease_owner=worker,
            lease_expires_at=lease["lease_expires_at"],
        )

    def _lease_terms(self, task: Task, action: Action, worker: str, now: float) -> JsonObject:
        """What a claim (or reclaim) records: who drafts, which attempt, until when."""
        return {
            "worker": worker,
            "attempt": task.attempt if action is Action.RECLAIM else task.attempt + 1,
            "lease_expires_at": now + self.settings.lease_seconds,
            "previous_worker": task.lease_owner,
        }

    def propose(
        self,
        kind_name: str,
        values: JsonObject,
        requester: str,
        text: str,
        idempotency_key: str | None = None,
    ) -> Task:
        """Submit a task whose draft the caller made (an agent's tool call, a question)."""
        _refuse_nul(text=text)
        kind = self._kinds.get(kind_name)
        if kind is not None and typed.is_typed(kind):  # the caller's object must fit too
            text = typed.object_text(typed.read_object(text, typed.draft_schema_of(kind)))
        # An existing task under the key is returned as it is: a node or tool
        # that runs again may word its question a little differently.
        task = self._create(kind_name, values, requester, idempotency_key, claim_as=requester)
        if task.status is not TaskStatus.DRAFTING or task.lease_owner != requester:
            return task  # the idempotency key named an existing task
        return self._save_draft(
            task, requester, MadeDraft(CALLER, requester, [], text, Usage(), 0.0)
        )

    def _save_draft(self, task: Task, worker: str, made: MadeDraft) -> Task:
        now = self._clock()
        draft = Draft(
            id=new_id(),
            task_id=task.id,
            attempt=task.attempt,
            provider=made.provider,
            model=made.model,
            messages=made.messages,
            output=made.text,
            usage=made.usage,
            latency_ms=made.latency_ms,
            created_at=now,
            feedback=task.pending_feedback,
            seed=made.seed,
        )
        payload = {
            "draft_id": draft.id,
            "attempt": draft.attempt,
            "model": made.model,
            "provider": made.provider,
            "output_sha256": audit.text_digest(made.text),
            "messages_sha256": audit.text_digest(audit.canonical_json(made.messages)),
            "feedback": task.pending_feedback,
        }
        if made.seed is not None:  # a caller's own draft had none
            payload["seed"] = made.seed
        if made.lessons is not None:  # the lesson set the prompt carried (domain/learning.py)
            payload["lessons"] = made.lessons
        if made.examples:  # the approved tasks the prompt showed (engine/examples.py)
            payload["examples"] = list(made.examples)
        if made.copies is not None:  # a reviewer is told (domain/examples.py)
            payload["copies_example"] = made.copies.payload()
        if made.candidates > 1:  # chosen from sampled drafts (engine/candidates.py)
            payload["candidates"] = made.candidates
        supervised = self._supervise(task, worker, made.text, made.seed)
        if supervised is not None:
            payload["supervisor"] = supervised.payload()
        risk, flags = supervision.row_values(payload)
        saved = self._change(
            task,
            Action.SAVE_DRAFT,
            worker,
            payload,
            now,
            draft=draft,
            current_draft_id=draft.id,
            lease_owner=None,
            lease_expires_at=None,
            pending_feedback=None,
            due_at=self._first_due(task.kind, now),
            risk=risk,
            flags=flags,
        )
        sent_back = self._supervisor_round(saved, supervised, made)
        if sent_back is None:
            return self._apply(saved)
        task = self.store.apply_all(self.notifier.attach_last([saved, sent_back]))
        self._written.keep(task.id, task)
        return task

    def _supervise(
        self, task: Task, worker: str, text: str, seed: int | None
    ) -> supervision.Reading | None:
        """The kind's supervisor's reading of a draft about to be saved (None: no supervisor)."""
        kind = self._kinds.get(task.kind)
        if kind is None or kind.supervisor is None:
            return None
        if kind.supervisor.checks:  # a model reads it next: a lease's worth of time for that
            self._renew_lease(task, worker)
        seed = new_seed() if seed is None else seed
        return supervise(kind.supervisor, text, task.input, self.provider, seed)

    def _supervisor_round(
        self, saved: Change, reading: supervision.Reading | None, made: MadeDraft
    ) -> Change | None:
        """The supervisor's revision of a just-drafted draft that failed a check, applied
        with the draft in one transaction so no person sees it first; None when the draft
        goes to people (no rounds left, nothing failed, or the caller wrote the draft).

        A round adds an attempt to the task's own count, so the kind's ``max_attempts``
        stay for people: the supervisor uses ``auto_revise`` rounds, never theirs.
        """
        kind = self._kinds.get(saved.task.kind)
        if kind is None or reading is None or made.provider == CALLER:
            return None
        if not supervision.sends_back(kind.supervisor, reading, 0):
            return None  # nothing failed, or no rounds at all: no need to count them
        taken = supervision.rounds_taken(self.store.events(saved.task.id))
        if not supervision.sends_back(kind.supervisor, reading, taken):
            return None
        task = evolve(saved.task, max_attempts=saved.task.max_attempts + 1)
        assert saved.draft is not None and kind.supervisor is not None and reading.model is not None
        decision = round_decision(
            task.id, saved.draft.id, reading.model, new_id(), saved.event.created_at
        )
        by = Principal(decision.actor, frozenset(), channel=supervision.SUPERVISOR_ROLE)
        payload = decision_payload(decision, by)
        payload[supervision.ROUND] = taken + 1
        payload["auto_revise"] = kind.supervisor.auto_revise
        payload["max_attempts"] = task.max_attempts
        change = self._change(
            task,
            Action.REVISE,
            decision.actor,
            payload,
            decision.created_at,
            decision=decision,
            pending_feedback=decision.feedback,
        )
        # Never anything but another draft: a round that would end the task is not taken.
        return change if change.task.status is TaskStatus.QUEUED else None

    def _first_due(self, kind_name: str, saved_at: float) -> float | None:
        """When a new draft's first timer is due (None for a kind without timers)."""
        kind = self._kinds.get(kind_name)
        if kind is None or not timers.has_timers(kind):
            return None
        return timers.next_due_at(kind, timers.TimerState(saved_at))

    def _apply(self, change: Change) -> Task:
        """Apply a change, with the notifications it makes; the task as written is kept for
        a decision on it (see decide).

        A change that approves a task of a kind using examples, or marks one "not an
        example", writes the task's example row with it (engine/examples.py)."""
        task = self.store.apply(self.notifier.attach(with_example(change, self._kinds)))
        self._written.keep(task.id, task)
        return task

    def _change(
        self,
        task: Task,
        action: Action,
        actor: str,
        payload: JsonObject,
        now: float,
        event_type: str | None = None,
        draft: Draft | None = None,
        decision: Decision | None = None,
        **updates: Any,
    ) -> Change:
        """The change ``action`` makes (``domain.changes.change_for``), chained with our key."""
        chain = self.audit_chain
        return change_for(
            task, action, actor, payload, now, event_type, draft, decision, chain, **updates
        )

    def _apply_quietly(self, change: Change) -> None:
        # The lease may already be gone (reclaimed); then the new holder owns the task.
        with contextlib.suppress(ConflictError):
            self._apply(change)

    # -- decide ------------------------------------------------------------------

    def decide(self, request: DecisionRequest) -> Task:
        """Record a verdict on the draft the task waits on (see _decide); then, for a kind
        that learns every N decisions, propose lessons when a round is complete."""
        task = self._decide(request)
        with contextlib.suppress(PlacetError):  # the decision stands; a later one proposes
            self.learning.after_decision(task)
        return task

    def _decide(self, request: DecisionRequest) -> Task:
        """Record a verdict on the draft the task waits on: exactly one per draft.

        The one path every channel's decision takes: the principal is checked
        against the kind's policy here (a refusal is recorded in the security
        log and raised as PermissionDeniedError), then the request's draft,
        version and texts, then the compare-and-set.
        """
        _refuse_nul(
            actor=request.principal.name,
            text=request.text,
            feedback=request.feedback,
            reason=request.reason,
        )
        known = self._written.get(request.task_id)
        if known is not None:
            try:
                return self._decide_on(known, request)
            except ConflictError:
                # Changed since this engine wrote it (or a race was lost): read it, decide again.
                self._written.forget(request.task_id)
        for _ in range(DECIDE_TRIES - 1):
            try:
                return self._decide_on(self.store.get_task(request.task_id), request)
            except ConflictError:
                # Lost a race (another approval of a quorum landed first): read it again;
                # the checks then say whether this decision still applies, and why not.
                continue
        return self._decide_on(self.store.get_task(request.task_id), request)

    def may_decide(self, principal: Principal, task: Task) -> Verdict:
        """Whether this person may decide this task under its kind's policy, and if not, why.

        Once a task was escalated, the people it was escalated to may decide it too.
        """
        lists = self._lists_for(task)
        verdict = may_decide(principal, task, lists)
        if verdict.allowed or not self.escalated_to(principal, task):
            return verdict
        return may_decide(principal, task, lists, escalated_to=principal.name)

    def route_of(self, task: Task) -> Rule | None:
        """The routing rule the supervisor's reading of the task's draft matched, if any
        (the kind's ``route``, first match: domain/routing.py)."""
        kind = self._kinds.get(task.kind)
        if kind is None or kind.supervisor is None or not kind.supervisor.route:
            return None
        if task.risk is None and task.flags is None:
            return None  # no reading of this draft (yet)
        facts = Facts.of(task.risk, (task.flags or "").split(",") if task.flags else ())
        return first_match(kind.supervisor.route, facts)

    def _lists_for(self, task: Task) -> ReviewerLists:
        """Who may review this task: the kind's lists, or its routing rule's reviewers."""
        rule = self.route_of(task)
        if rule is None or not rule.reviewers:
            return self._reviewer_lists
        routed = reviewers_of(rule.reviewers, self.settings.groups)
        return ReviewerLists({**self._reviewer_lists.by_kind, task.kind: routed})

    def escalated_to(self, principal: Principal, task: Task) -> bool:
        """True when the task was escalated and this person is one it was escalated to."""
        kind = self._kinds.get(task.kind)
        if kind is None or not kind.escalate_to:
            return False
        if principal.name not in reviewers_of(kind.escalate_to, self.settings.groups):
            return False
        return timers.timer_state(self.store.events(task.id)).escalated

    # -- timers: reminders, escalation, deadlines ---------------------------------

    def way_forward(self, principal: Principal, task: Task) -> WayForward:
        """For someone who may not decide this task: who else may, or whom to add."""
        people = [
            self.accounts.principal(user) for user in self.accounts.users() if not user.disabled
        ]
        return way_forward(principal, task, people, self._reviewer_lists)

    def local_principal(self, channel: str, name: str, acting_as: str | None = None) -> Principal:
        """Who ``name`` is through a local channel (CLI, review folder, SDK); see engine.identity.

        A name that cannot act (no account while accounts exist, ``--as``
        without being an admin) is recorded as a refusal and raised.
        """
        try:
            return local_principal(self.accounts, channel, name, acting_as)
        except PermissionDeniedError as exc:
            detail = f"{exc.message} (through the {channel})"
            self.accounts.record(name, "identify", "refused", acting_as, detail)
            raise

    def _decide_on(self, task: Task, request: DecisionRequest) -> Task:
        self._check_allowed(task, request.principal)
        self._check_decidable(task, request)
        assert task.current_draft_id is not None
        draft = self.store.get_draft(task.current_draft_id)
        kind = self._kinds.get(task.kind)
        if kind is not None or request.choice is not None or request.fields is not None:
            request = typed.resolve(kind or self.kind(task.kind), draft.output, request)
        decision = make_decision(request, draft, new_id(), self._clock())
        if decision.kind is DecisionKind.EDIT and isinstance(task.input.get("call"), dict):
            parse_edited_arguments(task.input["call"], decision.text or "")
        action = _DECISION_ACTIONS[decision.kind]
        event_type = None
        updates: dict[str, Any] = {"pending_feedback": None}
        payload = decision_payload(decision, request.principal)
        if task.held_by is not None and task.held_by != decision.actor:
            overridden = holds.hold_of(task, decision.created_at)
            if overridden is not None:  # allowed, and kept: they decided over someone's hold
                payload["over_hold"] = overridden.holder
        if decision.kind in quorum.COUNTED:
            updates["final_output"] = decision.text or draft.output
            needed = self.approvals_needed(task)
            if needed > 1:  # the count is read and recorded only where there is one
                count = self.tally(task.id, draft, needed).after(decision)
                payload["approvals"] = count.payload()
                updates["final_output"] = count.text if count.met else None
                if not count.met:
                    action, event_type = Action.ENDORSE, decision.kind.value
            if kind is not None:  # a typed kind's object must fit; its event records the choice
                approved = updates["final_output"] or decision.text or draft.output
                payload.update(typed.decided_payload(kind, approved, request.fields))
        elif decision.kind is DecisionKind.REVISE:
            updates["pending_feedback"] = decision.feedback
        change = self._change(
            task,
            action,
            decision.actor,
            payload,
            decision.created_at,
            event_type=event_type,
            decision=decision,
            **updates,
        )
        return self._apply(change)

    def approvals_needed(self, task: Task) -> int:
        """How many distinct people must approve a task of this kind (1 unless ``approvals``,
        or its routing rule's)."""
        kind = self._kinds.get(task.kind)
        rule = self.route_of(task)
        if rule is not None and rule.approvals is not None:
            return rule.approvals
        return kind.approvals if kind is not None else 1

    def approvals(self, task: Task) -> quorum.Tally | None:
        """The count on a task awaiting a quorum (``1 of 2 approvals: ana``); None without one."""
        needed = self.approvals_needed(task)
        if needed < 2 or task.status is not TaskStatus.AWAITING_REVIEW or not task.current_draft_id:
            return None
        return self.tally(task.id, self.store.get_draft(task.current_draft_id), needed)

    def tally(self, task_id: str, draft: Draft, needed: int) -> quorum.Tally:
        """Who approved the text ``draft`` now stands for (see domain/quorum.py)."""
        return quorum.tally(draft, self.store.decisions(task_id), needed)

    def _check_allowed(self, task: Task, principal: Principal) -> None:
        verdict = self.may_decide(principal, task)
        if not verdict.allowed:
            who = principal.name if principal.entered_by is None else principal.entered_by
            detail = f"{verdict.reason} (through the {principal.channel})"
            self.accounts.record(who, "decide", "refused", task.id, detail, principal.remote)
            instead = self.way_forward(principal, task).text
            raise PermissionDeniedError(f"{verdict.reason}; {instead}; nothing was changed")

    def _check_decidable(self, task: Task, request: DecisionRequest) -> None:
        # Status first: whoever lost a race learns who decided, not just a version number.
        if task.status is not TaskStatus.AWAITING_REVIEW:
            raise ConflictError(self._not_awaiting_message(task))
        check_answers_current(task, self._still_current(task, request))

    def _still_current(self, task: Task, request: DecisionRequest) -> DecisionRequest:
        """The request, as of now when only holds and timers moved the task since it was seen.

        Someone taking the item, or a reminder firing, while a reviewer reads it
        changes nothing they decide on: their decision stands (a new draft, an
        edit or another approval still make it stale).
        """
        seen = request.expected_version
        if seen is None or not 0 < seen < task.version:
            return request
        since = [event for event in self.store.events(task.id) if event.seq > seen]
        if all(event.type in UNCHANGING_EVENTS for event in since):
            return replace(request, expected_version=task.version)
        return request

    def _not_awaiting_message(self, task: Task) -> str:
        decisions = self.store.detail(task.id).decisions
        if decisions:
            last = decisions[-1]
            return (
                f"task {task.id} is {task.status.value}: {last.actor} already decided "
                f"({last.kind.value}) the draft you are answering; nothing was changed"
            )
        return f"task {task.id} is {task.status.value}, not awaiting review; nothing was changed"

    # -- execution of approved calls ----------------------------------------------

    def start_execution(self, task_id: str, actor: str, idempotency_key: str) -> Task:
        """Mark an approved call as started, once: a second start raises ConflictError.

        The check and the compare-and-set use the same version, so of two
        processes racing here exactly one wins, and after a crash the started
        mark stays, so the call is never run a second time.
        """
        detail = self.store.detail(task_id)
        self.controls.check(detail.task.kind, f"the approved call {task_id}")
        if executions.execution_of(detail.events) is not None:
            raise ConflictError(f"the approved call {task_id} was already started")
        payload = {"idempotency_key": idempotency_key}
        change = self._change(
            detail.task,
            Action.RECORD,
            actor,
            payload,
            self._clock(),
            event_type=executions.STARTED,
        )
        return self._apply(change)

    def record(self, task_id: str, actor: str, event_type: str, payload: JsonObject) -> Task:
        """Append a fact about an approved task, such as how its execution ended."""
        task = self.store.get_task(task_id)
        change = self._change(
            task, Action.RECORD, actor, payload, self._clock(), event_type=event_type
        )
        return self._apply(change)

    # -- other changes -------------------------------------------------------------

    def retry(self, task_id: str, actor: str) -> Task:
        """Put a failed task back in the queue."""
        task = self.store.get_task(task_id)
        return self._apply(self._change(task, Action.RETRY, actor, {}, self._clock()))

    def cancel(self, task_id: str, actor: str, reason: str = "") -> Task:
        """Cancel a task that is not final."""
        task = self.store.get_task(task_id)
        change = self._change(
            task,
            Action.CANCEL,
            actor,
            {"reason": reason},
            self._clock(),
            lease_owner=None,
            lease_expires_at=None,
        )
        return self._apply(change)

    def is_claimable(self, task: Task) -> bool:
        """True when a worker could claim the task now."""
        return _claim_action(task, self._clock()) is not None


# -- pure helpers -------------------------------------------------------------------


def _reviewer_lists(kinds: Mapping[str, TaskKind], groups: Groups) -> ReviewerLists:
    return ReviewerLists(
        {name: reviewers_of(kind.reviewers, groups) for name, kind in kinds.items()}
    )


def _registry_factory(settings: Settings) -> ProviderFactory:
    from placet.providers.registry import resolve

    return lambda name: resolve(name, settings)


def _registry_check(settings: Settings) -> ModelCheck:
    from placet.providers.registry import check

    return lambda name: check(name, settings)


def _claim_action(task: Task, now: float) -> Action | None:
    if task.status is TaskStatus.QUEUED:
        return Action.CLAIM
    expired = task.lease_expires_at is not None and task.lease_expires_at < now
    if task.status is TaskStatus.DRAFTING and expired:
        return Action.RECLAIM
    return None


def _same_request(task: Task, kind_name: str, values: JsonObject, requester: str) -> bool:
    # Compared as stored (JSON), so a tuple given and a list read back are the same.
    same_input = jsontext.canonical(task.input) == jsontext.canonical(values)
    return task.kind == kind_name and task.requester == requester and same_input


def _refuse_nul(**texts: str | None) -> None:
    # Refused on every store alike, though only PostgreSQL's text type cannot
    # hold NUL: an installation must be able to move between stores.
    for name, text in texts.items():
        if text is not None and "\x00" in text:
            raise InvalidInputError(f"the {name.replace('_', ' ')} contains a NUL character")
