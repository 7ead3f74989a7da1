"""The Python SDK: ``placet.connect()``, tasks you wait on, approval gates and handlers.

Everything here goes through the same engine as the CLI and the dashboard, so a
gate's review item shows up in ``placet ls``, the dashboard and the review
folder like any other task. Each blocking call has an ``a``-prefixed (or
``_async``) twin that runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from placet.config import default_actor, load_settings
from placet.domain import typed
from placet.domain.models import DecisionKind, JsonObject, Task, TaskKind, TaskStatus
from placet.domain.outcomes import Outcome, outcome_of
from placet.engine import DecisionRequest, Engine, ProviderFactory
from placet.engine.worker import worker_name
from placet.errors import PlacetError
from placet.handlers.base import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_DELAY_SECONDS,
    Handler,
    HandlerFunction,
    HandlerSet,
    make_handler,
)
from placet.handlers.runner import HandlerPool, HandlerRunner, register_handler
from placet.sdk.announce import Announcer, quiet_from_env
from placet.sdk.gates import Rejected, guard
from placet.sdk.runner import RunHooks, WaitTimeout, drive
from placet.store import open_store

_log = logging.getLogger("placet.handlers")
F = TypeVar("F", bound=Callable[..., Any])
H = TypeVar("H", bound=HandlerFunction)
QUESTION_KIND = "question"
ANSWER_PLACEHOLDER = "(write the answer here, then approve)"


def connect(
    database_url: str | None = None,
    *,
    directory: str | None = None,
    requester: str | None = None,
    provider_for: ProviderFactory | None = None,
    review_folder: bool = True,
    quiet: bool | None = None,
) -> Client:
    """A client on the embedded defaults (SQLite here, the local model) or on a database URL.

    While it waits (``task.wait()``, a guarded call, ``ask``), drafts also wait
    as files in the review folder (``human_feedback/pending/``) and moving a
    file decides, as with ``placet run``; ``review_folder=False`` leaves the
    folder to other Placet processes. It also says once, on stderr, what it
    waits for and how to decide; ``quiet=True`` (or ``PLACET_QUIET=1``) keeps
    it silent. ``directory`` is the working folder: its ``placet.toml`` and
    ``.env`` are read, and a relative review folder is in it.
    """
    settings = load_settings(Path(directory) if directory else None)
    if directory and not settings.review_dir.is_absolute():
        settings = replace(settings, review_dir=Path(directory) / settings.review_dir)
    if database_url:
        settings = replace(settings, database_url=database_url)
    store = open_store(settings.database_url)
    engine = Engine(store, settings, provider_for)
    return Client(
        engine, requester=requester, owns_store=True, review_folder=review_folder, quiet=quiet
    )


class TaskHandle:
    """A submitted task you can wait on."""

    def __init__(self, client: Client, task_id: str) -> None:
        self.client = client
        self.id = task_id

    def refresh(self) -> Task:
        """The task as it stands now."""
        return self.client.engine.get(self.id)

    def wait(self, timeout: float | None = None) -> Outcome:
        """Draft here if no worker does, wait for a person, and return the outcome."""
        return self.client.wait(self.id, timeout)

    async def wait_async(self, timeout: float | None = None) -> Outcome:
        """``wait`` for asyncio code."""
        return await asyncio.to_thread(self.wait, timeout)


class Client:
    """Placet from Python."""

    def __init__(
        self,
        engine: Engine,
        requester: str | None = None,
        owns_store: bool = False,
        review_folder: bool = False,
        quiet: bool | None = None,
    ):
        """A client on an engine you made; ``placet.connect()`` is the usual way to get one.

        ``review_folder``: keep the review folder current while waiting (connect's
        default). ``quiet``: print nothing while waiting (None: ``PLACET_QUIET``).
        """
        self.engine = engine
        self.requester = default_actor(requester)
        self._owns_store = owns_store
        self._review_folder = review_folder
        self._announcer = Announcer(quiet_from_env() if quiet is None else quiet)
        self._worker = worker_name("sdk")
        self.handlers = HandlerSet()
        self._models: dict[str, Any] = {}  # kind name -> the Pydantic model of its output
        self._report: Callable[[str], None] = _log.info

    # -- tasks ----------------------------------------------------------------------

    def submit(
        self,
        kind: str,
        input: JsonObject | None = None,
        *,
        idempotency_key: str | None = None,
        **inputs: Any,
    ) -> TaskHandle:
        """Queue a task of a kind; inputs as a dict or as keyword arguments."""
        values = {**(input or {}), **inputs}
        task = self.engine.submit(kind, values, self.requester, idempotency_key)
        return TaskHandle(self, task.id)

    async def asubmit(
        self,
        kind: str,
        input: JsonObject | None = None,
        *,
        idempotency_key: str | None = None,
        **inputs: Any,
    ) -> TaskHandle:
        """``submit`` for asyncio code."""
        submit = functools.partial(
            self.submit, kind, input, idempotency_key=idempotency_key, **inputs
        )
        return await asyncio.to_thread(submit)

    def task(self, task_id: str) -> TaskHandle:
        """A handle on an existing task."""
        return TaskHandle(self, self.engine.get(task_id).id)

    def wait(self, task_id: str, timeout: float | None = None) -> Outcome:
        """Wait (drafting here when needed) until the task ends, or raise TimeoutError."""
        try:
            with self._waiting_hooks() as hooks:
                task = drive(self.engine, task_id, self._worker, hooks, timeout)
        except WaitTimeout as exc:
            raise TimeoutError(f"task {task_id} is still {exc.task.status.value}") from None
        return self._outcome(task)

    @contextmanager
    def _waiting_hooks(self) -> Iterator[RunHooks]:
        """Say what is waited for; with the review folder, keep it current meanwhile."""
        say = self._announcer
        if not self._review_folder:
            no_file = functools.partial(say.waiting, pending_file=None)
            yield RunHooks(say.drafting, on_review=no_file, on_revision=say.revision)
            return
        from placet.channels.folder import FolderChannel

        root = self.engine.settings.review_dir
        with FolderChannel(self.engine, root, on_message=say.folder_message) as channel:
            # Published before the person is pointed at it, as placet run does.
            yield RunHooks(
                say.drafting,
                on_review=lambda task: say.waiting(task, channel.publish(task)),
                on_revision=say.revision,
            )

    def _outcome(self, task: Task) -> Outcome:
        detail = self.engine.detail(task.id)
        outcome = outcome_of(task, detail.decisions, detail.events)
        model = self._models.get(task.kind)
        if model is not None and isinstance(outcome.value, dict):
            return replace(outcome, value=model.model_validate(outcome.value))
        return outcome

    def define_kind(self, kind: TaskKind, output: Any = None) -> TaskKind:
        """Add a kind defined in Python. ``output``, a Pydantic model, makes it a structured
        kind: its drafts are objects of the model's JSON Schema, and ``wait()`` returns the
        approved one as an instance of the model (``outcome.value``)."""
        if output is not None:
            schema = typed.check_schema(output.model_json_schema(), f"kind {kind.name}")
            kind = replace(kind, output_schema=schema)
        self.engine.register_kind(kind)
        if output is not None:
            self._models[kind.name] = output
        return kind

    # -- deciding -------------------------------------------------------------------

    def decide(
        self,
        task_id: str,
        verdict: DecisionKind | str,
        *,
        text: str | None = None,
        feedback: str | None = None,
        reason: str | None = None,
        draft_id: str | None = None,
        version: int | None = None,
        choice: str | Sequence[str] | None = None,
        fields: JsonObject | None = None,
    ) -> Task:
        """Decide the draft a task waits on, as this client's user; the task as it now is.

        ``fields``: the values a kind's ``decision_fields`` ask for when approving.
        ``choice`` picks for a kind with choices (one name, or several when the kind has
        ``multiple = true``): the model's proposal confirmed, or another recorded as an edit.

        The same engine call as every other channel's, with the same checks:
        once accounts exist, the user (``requester=``, PLACET_USER or the OS
        user) must be one, may not decide a task they asked for, and must be
        allowed by the kind's ``reviewers``; a refusal raises
        ``placet.PermissionDeniedError``. ``draft_id`` and ``version`` refuse
        the decision (ConflictError) if the task moved on since you looked.
        """
        principal = self.engine.local_principal("sdk", self.requester)
        kind = DecisionKind(verdict)
        picked = (choice,) if isinstance(choice, str) else choice
        request = DecisionRequest(
            task_id,
            kind,
            principal,
            draft_id,
            version,
            text,
            feedback,
            reason,
            None if picked is None else tuple(picked),
            fields,
        )
        return self.engine.decide(request)

    async def adecide(self, task_id: str, verdict: DecisionKind | str, **fields: Any) -> Task:
        """``decide`` for asyncio code."""
        return await asyncio.to_thread(functools.partial(self.decide, task_id, verdict, **fields))

    def approve(
        self,
        task_id: str,
        choice: str | Sequence[str] | None = None,
        fields: JsonObject | None = None,
    ) -> Task:
        """Approve the draft as it is (or, for a kind with choices, with this choice; with
        the values its decision_fields ask for)."""
        return self.decide(task_id, DecisionKind.APPROVE, choice=choice, fields=fields)

    def edit(self, task_id: str, text: str) -> Task:
        """Approve the draft with your text; the diff is recorded."""
        return self.decide(task_id, DecisionKind.EDIT, text=text)

    def revise(self, task_id: str, feedback: str) -> Task:
        """Ask for a new draft made with your feedback."""
        return self.decide(task_id, DecisionKind.REVISE, feedback=feedback)

    def reject(self, task_id: str, reason: str) -> Task:
        """Reject the task for good."""
        return self.decide(task_id, DecisionKind.REJECT, reason=reason)

    # -- questions ------------------------------------------------------------------

    def ask(self, question: str, *, context: str = "", timeout: float | None = None) -> str:
        """Ask a person a free-form question and return their answer."""
        self.engine.register_kind(question_kind())
        values = {"question": question, **({"context": context} if context else {})}
        task = self.engine.propose(QUESTION_KIND, values, self.requester, ANSWER_PLACEHOLDER)
        outcome = self.wait(task.id, timeout)
        if not outcome.approved:
            raise Rejected(task.id, outcome.reason or "no answer", outcome.feedback)
        return outcome.text or ""

    async def aask(self, question: str, *, context: str = "", timeout: float | None = None) -> str:
        """``ask`` for asyncio code."""
        return await asyncio.to_thread(
            functools.partial(self.ask, question, context=context, timeout=timeout)
        )

    # -- approval gates -------------------------------------------------------------

    def require_approval(
        self,
        kind: str | None = None,
        *,
        redact: tuple[str, ...] = (),
        blocking: bool = True,
        timeout: float | None = None,
    ) -> Callable[[F], F]:
        """Guard a function: each call waits for a person, then runs once as approved."""

        def decorate(function: F) -> F:
            return guard(  # type: ignore[return-value]
                self, function, kind or function.__name__, frozenset(redact), timeout, blocking
            )

        return decorate

    # -- outcome handlers -------------------------------------------------------------

    def on_approved(
        self,
        kind: str,
        *,
        name: str | None = None,
        backfill: bool = False,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_delay: float = DEFAULT_RETRY_DELAY_SECONDS,
    ) -> Callable[[H], H]:
        """Run ``handler(outcome, key)`` after each approval of a ``kind`` task commits.

        Run by ``placet worker --app module:client`` or ``client.run_handlers()``,
        at least once per decision; ``key`` is the same on every attempt. The
        handler is named ``module.qualname`` (or ``name``) and sees the decisions
        made after that name was first registered, or all of them with
        ``backfill=True``. A handler that raises is tried again after
        ``retry_delay`` seconds, doubling, up to ``max_attempts`` tries.
        """
        options = _HandlerOptions(name, backfill, max_attempts, retry_delay)
        return self._on(TaskStatus.APPROVED, kind, options)

    def on_rejected(
        self,
        kind: str,
        *,
        name: str | None = None,
        backfill: bool = False,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_delay: float = DEFAULT_RETRY_DELAY_SECONDS,
    ) -> Callable[[H], H]:
        """Run ``handler(outcome, key)`` after each rejection of a ``kind`` task commits.

        As ``on_approved``; ``outcome.reason`` says why the task was rejected.
        """
        options = _HandlerOptions(name, backfill, max_attempts, retry_delay)
        return self._on(TaskStatus.REJECTED, kind, options)

    def _on(self, outcome: TaskStatus, kind: str, options: _HandlerOptions) -> Callable[[H], H]:
        def decorate(function: H) -> H:
            handler = make_handler(
                function,
                kind,
                outcome,
                name=options.name,
                backfill=options.backfill,
                max_attempts=options.max_attempts,
                retry_delay=options.retry_delay,
            )
            self.handlers.add(handler)
            # Registered now, not when a worker first starts: decisions made
            # from here on are delivered even if no worker runs yet.
            register_handler(self.engine.deliveries(), handler, time.time())
            return function

        return decorate

    def run_handlers(self, stop: threading.Event | None = None, threads: int = 1) -> None:
        """Run this client's outcome handlers until ``stop`` is set (blocking).

        What ``placet worker --app`` does beside drafting, for a service of
        your own: run it in a thread and set ``stop`` to finish the current
        handlers and return. ``threads`` runs that many handlers at once, for
        handlers that spend their time waiting on the network.
        """
        HandlerPool(self.engine, self.handlers, threads, report=self._report).run(stop)

    async def arun_handlers(self, stop: threading.Event | None = None, threads: int = 1) -> None:
        """``run_handlers`` for asyncio code; cancelling it stops after the current handlers."""
        stop = stop or threading.Event()
        try:
            await asyncio.to_thread(self.run_handlers, stop, threads)
        finally:
            stop.set()

    def run_pending_handlers(self) -> int:
        """Run every delivery due now, once, and return how many attempts ran."""
        runner = self._handler_runner(self.handlers)
        try:
            return runner.run_pending()
        finally:
            runner.close()

    async def arun_pending_handlers(self) -> int:
        """``run_pending_handlers`` for asyncio code."""
        return await asyncio.to_thread(self.run_pending_handlers)

    def _handler_runner(self, handlers: Iterable[Handler]) -> HandlerRunner:
        return HandlerRunner(self.engine, handlers, report=self._report)

    def close(self) -> None:
        """Close the providers, and the store if this client opened it."""
        try:
            self.engine.seal_audit_log()  # what this client wrote joins the global log now
        except PlacetError as exc:  # a worker or the next command seals it instead
            _log.warning("could not seal the audit log: %s", exc.message)
        finally:
            self.engine.close(store_too=self._owns_store)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(frozen=True)
class _HandlerOptions:
    name: str | None
    backfill: bool
    max_attempts: int
    retry_delay: float


def question_kind() -> TaskKind:
    """The kind of an agent's question to a person (``ask``; the MCP server's ``ask_person``)."""
    return TaskKind(
        QUESTION_KIND, template="", description="A question from an agent", max_attempts=1
    )
