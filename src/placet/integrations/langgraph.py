"""LangGraph interrupts reviewed in Placet, and graphs resumed with the decisions.

Inside a node, ``reviews.interrupt(payload)`` is LangGraph's ``interrupt()`` that
also puts the payload in Placet's review queue, so reviewers see it in the
dashboard, ``placet ls`` / ``placet show`` / ``placet approve`` and the review
folder like any other task. The graph pauses as usual; when a person decides,
the graph is resumed with ``Command(resume=...)``, either by the caller
(``reviews.wait(graph, config)`` returns the command) or by a ``Resumer`` that
finds decided reviews and resumes each thread once::

    reviews = PlacetInterrupts(placet.connect(), kind="email_review")

    def send(state):
        review = reviews.interrupt({"to": state["to"], "body": state["body"]})
        if review.approved:                      # "approve" or "edit"
            mailer.send(**review.value)          # the payload as approved
            return {"sent": True}
        if review.action == "revise":
            return Command(goto="draft", update={"feedback": review.feedback})
        return {"sent": False, "reason": review.reason}

    graph.invoke(inputs, config)                            # pauses at the interrupt
    graph.invoke(reviews.wait(graph, config), config)       # once a person decided
    # or, in a service: resume every thread as its review is decided
    threading.Thread(target=reviews.resumer(graph).run, args=(stop_event,)).start()

What the graph receives (a ``Review``; on the wire a plain dict, so that every
checkpointer can store it):

========  ===========  =======================================================
decision  ``action``   fields
========  ===========  =======================================================
approve   ``approve``  ``value``: the payload as it was
edit      ``edit``     ``value``: the edited payload (parsed JSON unless the
                       payload was a string)
revise    ``revise``   ``feedback``: what to change; the graph redrafts itself
reject    ``reject``   ``reason``: why (also for a cancelled or expired review)
========  ===========  =======================================================

Every ``Review`` also names the ``task_id`` and the ``reviewer``. A dict payload
is shown and checked like a guarded call's arguments: every channel refuses an
edit that is not JSON, drops a key or changes a value's type.

LangGraph re-runs a node from its start on resume, so whatever a node does
before ``interrupt()`` runs again: keep it free of side effects (or idempotent),
and act only on the returned ``Review``. Placet's own step is safe: the review
item is made only when the node actually pauses, under an idempotency key
derived from the thread and the interrupt id, so a re-run finds the same item.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import json
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from langgraph.config import get_config
from langgraph.errors import GraphInterrupt
from langgraph.pregel import Pregel
from langgraph.types import Command, Interrupt
from langgraph.types import interrupt as langgraph_interrupt

from placet.domain import executions, jsontext, typed
from placet.domain.models import Decision, DecisionKind, JsonObject, Task, TaskKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.domain.toolcalls import parameters_of
from placet.engine.worker import worker_name
from placet.errors import ConflictError, InvalidInputError, PlacetError, UsageError
from placet.integrations.langgraph_typed import (
    approved_value,
    as_model,
    proposal_text,
    typed_review_kind,
)
from placet.sdk.client import Client

DEFAULT_KIND = "langgraph_review"
RESUMED_EVENT = executions.RESUMED
ReviewAction = Literal["approve", "edit", "revise", "reject"]
Graph = Pregel[Any, Any, Any, Any]
_DECIDED = (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.CANCELLED, TaskStatus.EXPIRED)
_TASK_MARK, _KIND_MARK = "placet_task_id", "placet_kind"
# Resumes of one LangGraph thread must not overlap (two invokes would fork its
# history); a fixed set of striped locks bounds memory however many threads come.
_STRIPES = tuple(threading.Lock() for _ in range(64))


class ReviewNode(Protocol):
    """A graph node (its parameter is named ``state``, as LangGraph's node types expect)."""

    def __call__(self, state: Any) -> JsonObject: ...


class AlreadyResumed(ConflictError):
    """This decision was already handed to the graph (or is being handed); never twice."""


@dataclass(frozen=True)
class Review:
    """A person's decision on an interrupt, as the graph receives it."""

    action: ReviewAction
    task_id: str
    value: Any = None
    feedback: str | None = None
    reason: str | None = None
    reviewer: str | None = None
    choice: Any = None  # a choice kind's pick (a list with multiple), as approved

    @property
    def approved(self) -> bool:
        """True for ``approve`` and ``edit``: ``value`` is what to act on."""
        return self.action in ("approve", "edit")

    def to_resume(self) -> JsonObject:
        """The plain dict sent in ``Command(resume=...)``."""
        wire: JsonObject = {"action": self.action, "task_id": self.task_id}
        if self.approved:
            wire["value"] = self.value
        wire.update(
            (name, value)
            for name, value in (
                ("feedback", self.feedback),
                ("reason", self.reason),
                ("reviewer", self.reviewer),
                ("choice", self.choice),
            )
            if value is not None
        )
        return wire

    @classmethod
    def from_resume(cls, wire: Any) -> Review:
        """The ``Review`` a resume value carries (what ``interrupt()`` returned)."""
        if not isinstance(wire, Mapping) or wire.get("action") not in _ACTIONS:
            raise InvalidInputError(
                f"the graph was resumed with {wire!r}, not with a Placet review decision"
            )
        return cls(
            action=wire["action"],
            task_id=str(wire.get("task_id", "")),
            value=wire.get("value"),
            feedback=wire.get("feedback"),
            reason=wire.get("reason"),
            reviewer=wire.get("reviewer"),
            choice=wire.get("choice"),
        )


_ACTIONS = ("approve", "edit", "revise", "reject")


@dataclass(frozen=True)
class PendingReview:
    """One interrupt of a thread that waits in Placet."""

    task_id: str
    thread_id: str
    interrupt_id: str


@dataclass(frozen=True)
class Resumed:
    """One thread resumed with one or more decisions, and how the run ended."""

    thread_id: str
    reviews: tuple[Review, ...]
    result: Any = None
    error: str | None = None


class PlacetInterrupts:
    """LangGraph interrupts reviewed in Placet: ask inside nodes, resume from outside.

    The review kind allows one draft: a revision ends the Placet task and
    hands the feedback to the graph, which makes the next draft itself (the
    next interrupt is a new review item).
    """

    def __init__(
        self,
        client: Client,
        kind: str = DEFAULT_KIND,
        description: str = "A LangGraph interrupt waiting for a person",
        response: Any = None,
    ) -> None:
        """``response``: the answer's type (``langgraph_typed``): a list of choices, a JSON
        Schema of an object or a Pydantic model; the node then proposes an answer."""
        self.client = client
        self.kind = kind
        self.actor = worker_name("langgraph")
        plain = TaskKind(kind, template="", description=description, max_attempts=1)
        self.review_kind, self.model = typed_review_kind(plain, response)
        client.engine.register_kind(self.review_kind)

    # -- inside a node ------------------------------------------------------------

    def interrupt(self, payload: Any, *, title: str | None = None, proposal: Any = None) -> Review:
        """LangGraph's ``interrupt()`` with the payload waiting in Placet's review queue;
        with a response type, ``proposal`` is the answer proposed for the reviewer."""
        _check_json(payload)
        marker: JsonObject = {"payload": payload, _KIND_MARK: self.kind}
        if typed.is_typed(self.review_kind):
            marker["proposal"] = proposal_text(self.review_kind, proposal)
        try:
            answer = langgraph_interrupt(marker)
        except GraphInterrupt as paused:
            # Only a pause gets here (a resume returns above), so a node that
            # re-runs on resume makes no review item; one re-run before the
            # resume finds the same item through the idempotency key.
            self._queue(paused, marker, title)
            raise
        return self._typed(Review.from_resume(answer))

    def _typed(self, review: Review) -> Review:
        """The review with its approved object as the response model's instance."""
        if self.model is None or not review.approved:
            return review
        return dataclasses.replace(review, value=as_model(self.model, review.value))

    async def ainterrupt(
        self,
        payload: Any,
        *,
        title: str | None = None,
        config: RunnableConfig | None = None,
        proposal: Any = None,
    ) -> Review:
        """``interrupt`` for async nodes.

        On Python 3.10 an async node cannot find its run's config by itself
        (asyncio passes no context to tasks there): take it as the node's
        second parameter, ``async def node(state, config)``, and pass it on.
        """
        _check_json(payload)
        marker: JsonObject = {"payload": payload, _KIND_MARK: self.kind}
        if typed.is_typed(self.review_kind):
            marker["proposal"] = proposal_text(self.review_kind, proposal)
        with _node_config(config):
            try:
                answer = langgraph_interrupt(marker)
            except GraphInterrupt as paused:
                # to_thread copies this context, the config set above included.
                await asyncio.to_thread(self._queue, paused, marker, title)
                raise
        return self._typed(Review.from_resume(answer))

    def node(self, payload_key: str, review_key: str = "review") -> ReviewNode:
        """A ready review node: asks about ``state[payload_key]``, writes the decision.

        The decision lands in ``state[review_key]`` as the plain dict (route on
        ``state[review_key]["action"]``); ``Review.from_resume`` reads it back.
        """

        def review(state: Any) -> JsonObject:
            return {review_key: self.interrupt(state[payload_key]).to_resume()}

        return review

    def _queue(self, paused: GraphInterrupt, marker: JsonObject, title: str | None) -> None:
        interrupt = _ours(paused, marker)
        configurable = get_config().get("configurable", {})
        thread_id = str(configurable.get("thread_id", ""))
        namespace = str(configurable.get("checkpoint_ns", ""))
        task = self.client.engine.propose(
            self.kind,
            # A typed review's draft is the proposed answer, not the payload: the payload
            # is context, so it is not checked as a call's arguments.
            _task_input(
                marker["payload"],
                thread_id,
                interrupt.id,
                namespace,
                title,
                as_call=not typed.is_typed(self.review_kind),
            ),
            self.client.requester,
            str(marker.get("proposal") or _draft_text(marker["payload"])),
            idempotency_key=_review_key(self.kind, thread_id, interrupt.id),
        )
        # LangGraph saves the interrupt after this exception leaves the node,
        # so the mark reaches the checkpoint and the caller's ``__interrupt__``.
        marker[_TASK_MARK] = task.id

    # -- outside the graph ----------------------------------------------------------

    def pending(self, graph: Graph, config: RunnableConfig) -> list[PendingReview]:
        """The interrupts of a thread that wait in Placet (this kind only)."""
        thread_id = _thread_of(config)
        return _marked(graph.get_state(config).interrupts, self.kind, thread_id)

    def decision(self, task_id: str) -> Review | None:
        """What a review item's decision means for the graph; None while it waits."""
        detail = self.client.engine.detail(task_id)
        if not detail.task.status.is_final:
            return None
        last = detail.decisions[-1] if detail.decisions else None
        review = _review(detail.task, last, _cancel_reason(detail.events))
        if review.approved and typed.is_typed(self.review_kind):
            value = approved_value(detail.task.final_output or "{}")
            choice = value.get(typed.CHOICE) if self.review_kind.choices else None
            return dataclasses.replace(review, value=value, choice=choice)
        return review

    def wait(
        self, graph: Graph, config: RunnableConfig, timeout: float | None = None
    ) -> Command[Any]:
        """Wait until every pending review of the thread is decided; the resume command.

        Each decision is claimed for this caller, so a ``Resumer`` (or another
        caller) never hands it to the graph a second time: ``AlreadyResumed``.
        """
        decided = self._claimed_decisions(graph, config, timeout)
        return Command(resume={key: review.to_resume() for key, review in decided.items()})

    def resume(self, graph: Graph, config: RunnableConfig, timeout: float | None = None) -> Any:
        """``wait``, invoke the graph with the command and record the resume; its output."""
        return _invoke(self, graph, config, self._claimed_decisions(graph, config, timeout))

    async def wait_async(
        self, graph: Graph, config: RunnableConfig, timeout: float | None = None
    ) -> Command[Any]:
        """``wait`` for asyncio code."""
        return await asyncio.to_thread(functools.partial(self.wait, graph, config, timeout))

    def _claimed_decisions(
        self, graph: Graph, config: RunnableConfig, timeout: float | None
    ) -> dict[str, Review]:
        items = self.pending(graph, config)
        if not items:
            raise UsageError(f"thread {_thread_of(config)!r} has no interrupt waiting in Placet")
        deadline = None if timeout is None else time.monotonic() + timeout
        decided = {item.interrupt_id: self._await(item, deadline) for item in items}
        for item in items:
            _claim(self.client, item.task_id, self.actor)
        return decided

    def _await(self, item: PendingReview, deadline: float | None) -> Review:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        self.client.wait(item.task_id, remaining)
        review = self.decision(item.task_id)
        assert review is not None  # wait returns only once the task is final
        return review

    def resumer(self, graph: Graph, grace_seconds: float = 30.0) -> Resumer:
        """A ``Resumer`` that resumes this graph's threads as their reviews are decided."""
        return Resumer(self, graph, grace_seconds)


class Resumer:
    """Resumes a graph's threads whose Placet reviews were decided, once per decision.

    Call ``resume_decided()`` on your own schedule, or ``run()`` in a thread: it
    wakes when anything is committed to Placet. The graph needs a checkpointer
    that every process resuming it shares (such as ``SqliteSaver`` on a file).

    At most once: a decision is claimed before the graph is invoked, so a crash
    between the two leaves the thread paused (its audit trail shows
    ``execution_started`` without ``langgraph_resumed``) rather than resuming it
    twice. Resume such a thread by hand with ``reviews.decision(task_id)``.
    """

    def __init__(self, reviews: PlacetInterrupts, graph: Graph, grace_seconds: float) -> None:
        self.reviews = reviews
        self.graph = graph
        # A decision can land before LangGraph has saved its interrupt (the item
        # is made just before); only after this long does "not pending" mean done.
        self.grace_seconds = grace_seconds
        self._settled: set[str] = set()
        self._settled_lock = threading.Lock()

    def resume_decided(self) -> list[Resumed]:
        """Resume every thread with decisions not yet handed to the graph."""
        by_thread: dict[str, list[Task]] = {}
        for task in self._decided():
            by_thread.setdefault(str(task.input["langgraph"]["thread_id"]), []).append(task)
        resumed = [self._resume_thread(thread_id, tasks) for thread_id, tasks in by_thread.items()]
        return [entry for entry in resumed if entry is not None]

    def run(self, stop: threading.Event, idle_seconds: float = 1.0) -> None:
        """Resume decided threads until ``stop`` is set; cheap while nothing happens."""
        engine = self.reviews.client.engine
        while not stop.is_set():
            token = engine.change_token()  # read first, so no decision slips by unseen
            self.resume_decided()
            engine.wait_for_change(token, idle_seconds)

    def _decided(self) -> Iterator[Task]:
        engine, after = self.reviews.client.engine, None
        while True:
            page = engine.list_tasks(
                TaskFilter(statuses=_DECIDED, kinds=(self.reviews.kind,), after_id=after, limit=200)
            )
            with self._settled_lock:
                fresh = [task for task in page if task.id not in self._settled]
            yield from fresh
            if len(page) < 200:
                return
            after = page[-1].id

    def _resume_thread(self, thread_id: str, tasks: list[Task]) -> Resumed | None:
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        with _STRIPES[hash(thread_id) % len(_STRIPES)]:
            waiting = {item.interrupt_id for item in self.reviews.pending(self.graph, config)}
            ready = [task for task in tasks if self._ready(task, waiting)]
            if not ready:
                return None
            decided = {_interrupt_of(task): self._review(task) for task in ready}
            try:
                result = _invoke(self.reviews, self.graph, config, decided)
            except Exception as exc:  # one broken thread must not stop the others
                return Resumed(thread_id, tuple(decided.values()), error=repr(exc)[:2000])
            return Resumed(thread_id, tuple(decided.values()), result=result)

    def _ready(self, task: Task, waiting: set[str]) -> bool:
        """Claim the decision for this resumer when its interrupt still waits in the graph."""
        if _interrupt_of(task) not in waiting:
            if time.time() - task.updated_at > self.grace_seconds:
                self._settle(task.id)  # resumed elsewhere, or not this graph's thread
            return False
        try:
            _claim(self.reviews.client, task.id, self.reviews.actor)
        except AlreadyResumed:
            self._settle(task.id)
            return False
        self._settle(task.id)
        return True

    def _review(self, task: Task) -> Review:
        review = self.reviews.decision(task.id)
        assert review is not None  # listed as decided, and decisions are final
        return review

    def _settle(self, task_id: str) -> None:
        with self._settled_lock:
            self._settled.add(task_id)


# -- helpers ----------------------------------------------------------------------------


def _invoke(
    reviews: PlacetInterrupts, graph: Graph, config: RunnableConfig, decided: dict[str, Review]
) -> Any:
    """Resume the thread with claimed decisions and record how the run ended."""
    resume = {interrupt_id: review.to_resume() for interrupt_id, review in decided.items()}
    try:
        result = graph.invoke(Command(resume=resume), config)
    except Exception as exc:
        _record(reviews, decided.values(), {"ok": False, "error": repr(exc)[:2000]})
        raise
    paused = isinstance(result, dict) and "__interrupt__" in result
    _record(reviews, decided.values(), {"ok": True, "paused_again": paused})
    return result


def _record(reviews: PlacetInterrupts, decided: Iterable[Review], outcome: JsonObject) -> None:
    engine = reviews.client.engine
    for review in decided:
        payload = {
            "idempotency_key": _resume_key(review.task_id),
            "action": review.action,
            **outcome,
        }
        engine.record(review.task_id, reviews.actor, RESUMED_EVENT, payload)


def _claim(client: Client, task_id: str, actor: str) -> None:
    """Mark a decision as handed to the graph, once; a second claim raises AlreadyResumed.

    The mark is an ``execution_started`` event on the decided task (every final
    state takes such a record): a compare-and-set, so it holds across
    processes and restarts.
    """
    try:
        client.engine.start_execution(task_id, actor, _resume_key(task_id))
    except ConflictError:
        raise AlreadyResumed(f"the decision on {task_id} was already handed to the graph") from None


def _review(task: Task, last: Decision | None, cancelled: str | None) -> Review:
    payload = _payload(task.input)
    who = last.actor if last else None
    if task.status is TaskStatus.APPROVED:
        if last is not None and last.kind is DecisionKind.EDIT:
            return Review("edit", task.id, _edited(payload, task.final_output or ""), reviewer=who)
        return Review("approve", task.id, payload, reviewer=who)
    if last is not None and last.kind is DecisionKind.REVISE:
        return Review("revise", task.id, feedback=last.feedback, reviewer=who)
    if last is not None and last.kind is DecisionKind.REJECT:
        return Review("reject", task.id, reason=last.reason, reviewer=who)
    return Review("reject", task.id, reason=cancelled or f"the review was {task.status.value}")


def _cancel_reason(events: list[Any]) -> str | None:
    for event in reversed(events):
        if event.type == "cancel":
            why = event.payload.get("reason") or "no reason given"
            return f"the review was cancelled by {event.actor}: {why}"
    return None


def _edited(payload: Any, text: str) -> Any:
    if isinstance(payload, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # only non-object payloads get here: objects are checked at decision time


def _task_input(
    payload: Any,
    thread_id: str,
    interrupt_id: str,
    namespace: str,
    title: str | None,
    as_call: bool = True,
) -> JsonObject:
    node = namespace.split("|")[-1].split(":")[0] or "graph"
    where = {
        "thread_id": thread_id,
        "interrupt_id": interrupt_id,
        "checkpoint_ns": namespace,
        "node": node,
    }
    # Reviewers read the title and the payload first (``placet ls`` shows the input's start).
    values: JsonObject = {"title": title} if title else {}
    if isinstance(payload, dict) and as_call:
        # An object is shown and checked like a guarded call's arguments: every
        # channel refuses an edit that drops a key or changes a value's type.
        values["call"] = {
            "function": f"langgraph node {node}",
            "arguments": payload,
            "parameters": parameters_of(payload),
            "redacted": [],
        }
    else:
        values["payload"] = payload
    values["langgraph"] = where
    return values


def _payload(values: JsonObject) -> Any:
    return values["call"]["arguments"] if "call" in values else values.get("payload")


def _draft_text(payload: Any) -> str:
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _check_json(payload: Any) -> None:
    jsontext.require_json(payload, "the interrupt's payload")


def _ours(paused: GraphInterrupt, marker: JsonObject) -> Interrupt[Any]:
    interrupts = cast("tuple[Interrupt[Any], ...]", paused.args[0] if paused.args else ())
    for interrupt in interrupts:
        if interrupt.value is marker:
            return interrupt
    raise PlacetError("LangGraph paused without the interrupt Placet asked for")


def _marked(
    interrupts: tuple[Interrupt[Any], ...], kind: str, thread_id: str
) -> list[PendingReview]:
    return [
        PendingReview(str(interrupt.value[_TASK_MARK]), thread_id, interrupt.id)
        for interrupt in interrupts
        if isinstance(interrupt.value, dict)
        and interrupt.value.get(_KIND_MARK) == kind
        and _TASK_MARK in interrupt.value
    ]


@contextlib.contextmanager
def _node_config(config: RunnableConfig | None) -> Iterator[None]:
    """The node's own config as the run's current one, when the node passed it."""
    if config is None:
        try:
            yield
        except RuntimeError as exc:
            if sys.version_info >= (3, 11) or "runnable context" not in str(exc):
                raise
            raise UsageError(
                "on Python 3.10 an async node must pass its config: declare it as "
                "`async def node(state, config)` and call "
                "`await reviews.ainterrupt(payload, config=config)`"
            ) from exc
        return
    token = var_child_runnable_config.set(config)
    try:
        yield
    finally:
        var_child_runnable_config.reset(token)


def _thread_of(config: RunnableConfig) -> str:
    thread_id = config.get("configurable", {}).get("thread_id")
    if thread_id is None:
        raise UsageError('the config names no thread: {"configurable": {"thread_id": ...}}')
    return str(thread_id)


def _interrupt_of(task: Task) -> str:
    return str(task.input["langgraph"]["interrupt_id"])


def _review_key(kind: str, thread_id: str, interrupt_id: str) -> str:
    # Hashed: thread ids are the developer's and may be long; the column holds 200.
    digest = hashlib.sha256(f"{kind}\x1f{thread_id}\x1f{interrupt_id}".encode()).hexdigest()
    return f"langgraph:{digest}"


def _resume_key(task_id: str) -> str:
    return f"placet:{task_id}:resume"
