"""The Python SDK: ``placet.connect()``, tasks you wait on, and approval gates.

Everything here goes through the same engine as the CLI and the dashboard, so a
gate's review item shows up in ``placet ls``, the dashboard and the review
folder like any other task. Each blocking call has an ``a``-prefixed (or
``_async``) twin that runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from placet.config import default_actor, load_settings
from placet.domain.models import DecisionKind, JsonObject, Task, TaskKind, TaskStatus
from placet.domain.toolcalls import (
    describe_parameters,
    parse_edited_arguments,
    restore_redacted,
    shown_arguments,
)
from placet.engine import Engine, ProviderFactory
from placet.errors import ConflictError, InvalidInputError, PlacetError
from placet.runner import RunHooks, WaitTimeout, drive
from placet.store import open_store
from placet.worker import worker_name

F = TypeVar("F", bound=Callable[..., Any])
QUESTION_KIND = "question"
ANSWER_PLACEHOLDER = "(write the answer here, then approve)"
_idempotency_key: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "placet_idempotency_key", default=None
)


class Rejected(PlacetError):
    """A person rejected the request."""

    def __init__(self, task_id: str, reason: str, feedback: str | None = None) -> None:
        super().__init__(f"task {task_id} was rejected: {reason}")
        self.task_id = task_id
        self.reason = reason
        self.feedback = feedback


class AlreadyExecuted(ConflictError):
    """This approved call was already run (or is running) elsewhere; it never runs twice."""


def current_idempotency_key() -> str | None:
    """Inside a guarded function: a stable key for this approval, for downstream APIs."""
    return _idempotency_key.get()


@dataclass(frozen=True)
class Outcome:
    """How a task ended: the approved text, or the rejection and its reason."""

    task_id: str
    status: TaskStatus
    text: str | None = None
    reason: str | None = None
    feedback: str | None = None
    decided_by: str | None = None

    @property
    def approved(self) -> bool:
        """True when a person approved (or edited and approved) the draft."""
        return self.status is TaskStatus.APPROVED


def connect(
    database_url: str | None = None,
    *,
    directory: str | None = None,
    requester: str | None = None,
    provider_for: ProviderFactory | None = None,
    review_folder: bool = False,
) -> Client:
    """A client on the embedded defaults (SQLite here, the local model) or on a database URL.

    With ``review_folder=True``, drafts also wait as files in the review folder
    (``human_feedback/pending/``) while this client waits, and moving a file
    decides, as with ``placet run``.
    """
    from pathlib import Path

    settings = load_settings(Path(directory) if directory else None)
    if database_url:
        settings = replace(settings, database_url=database_url)
    store = open_store(settings.database_url)
    engine = Engine(store, settings, provider_for)
    return Client(engine, requester=requester, owns_store=True, review_folder=review_folder)


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
    ):
        self.engine = engine
        self.requester = default_actor(requester)
        self._owns_store = owns_store
        self._review_folder = review_folder
        self._worker = worker_name("sdk")

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
        self, kind: str, input: JsonObject | None = None, **inputs: Any
    ) -> TaskHandle:
        """``submit`` for asyncio code."""
        return await asyncio.to_thread(functools.partial(self.submit, kind, input, **inputs))

    def task(self, task_id: str) -> TaskHandle:
        """A handle on an existing task."""
        return TaskHandle(self, self.engine.get(task_id).id)

    def wait(self, task_id: str, timeout: float | None = None) -> Outcome:
        """Wait (drafting here when needed) until the task ends, or raise TimeoutError."""
        try:
            with self._folder() as hooks:
                task = drive(self.engine, task_id, self._worker, hooks, timeout)
        except WaitTimeout as exc:
            raise TimeoutError(f"task {task_id} is still {exc.task.status.value}") from None
        return self._outcome(task)

    @contextmanager
    def _folder(self) -> Iterator[RunHooks]:
        if not self._review_folder:
            yield RunHooks()
            return
        from placet.channels.folder import FolderChannel

        with FolderChannel(self.engine, self.engine.settings.review_dir) as channel:
            yield RunHooks(on_review=lambda task: _publish(channel, task))

    def _outcome(self, task: Task) -> Outcome:
        decisions = self.engine.detail(task.id).decisions
        last = decisions[-1] if decisions else None
        reason = last.reason if last else None
        if task.status is TaskStatus.REJECTED and last and last.kind is DecisionKind.REVISE:
            reason = f"no attempts left; last feedback: {last.feedback}"
        return Outcome(
            task.id,
            task.status,
            task.final_output,
            reason,
            last.feedback if last else None,
            last.actor if last else None,
        )

    # -- questions ------------------------------------------------------------------

    def ask(self, question: str, *, context: str = "", timeout: float | None = None) -> str:
        """Ask a person a free-form question and return their answer."""
        self.engine.register_kind(_question_kind())
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
            gate = _Gate(self, function, kind or function.__name__, frozenset(redact), timeout)
            if inspect.iscoroutinefunction(function):
                return _async_wrapper(gate, blocking)  # type: ignore[return-value]
            return _sync_wrapper(gate, blocking)  # type: ignore[return-value]

        return decorate

    def close(self) -> None:
        """Close the providers, and the store if this client opened it."""
        self.engine.close()
        if self._owns_store:
            self.engine.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _publish(channel: Any, task: Task) -> None:
    channel.publish(task)


def _question_kind() -> TaskKind:
    return TaskKind(
        QUESTION_KIND, template="", description="A question from an agent", max_attempts=1
    )


class PendingCall:
    """A guarded call waiting for its decision (the non-blocking mode)."""

    def __init__(self, gate: _Gate, task_id: str, real: JsonObject) -> None:
        self._gate = gate
        self.task_id = task_id
        self._real = real

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the decision, run the call once if approved, and return its result."""
        return self._gate.finish(self.task_id, self._real, timeout)

    async def aresult(self, timeout: float | None = None) -> Any:
        """``result`` for asyncio code (awaits an async function's coroutine)."""
        value = await asyncio.to_thread(self.result, timeout)
        return await value if inspect.isawaitable(value) else value


class _Gate:
    """One guarded function: turns calls into review items and runs approved ones."""

    def __init__(
        self,
        client: Client,
        function: Callable[..., Any],
        kind: str,
        redact: frozenset[str],
        timeout: float | None,
    ) -> None:
        self.client = client
        self.function = function
        self.signature = inspect.signature(function)
        self.kind = kind
        self.redact = redact
        self.timeout = timeout
        self.name = f"{function.__module__}.{function.__qualname__}"
        client.engine.register_kind(
            TaskKind(
                kind, template="", description=f"Approve a call to {self.name}", max_attempts=1
            )
        )

    def propose(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> PendingCall:
        """Record the call as a review item; nothing runs yet."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        real = dict(bound.arguments)
        _check_serialisable(self.name, real)
        shown = shown_arguments(real, self.redact)
        call = {
            "function": self.name,
            "parameters": describe_parameters(self.signature),
            "arguments": shown,
            "redacted": sorted(self.redact),
        }
        text = json.dumps(shown, indent=2, ensure_ascii=False, default=str)
        task = self.client.engine.propose(self.kind, {"call": call}, self.client.requester, text)
        return PendingCall(self, task.id, real)

    def finish(self, task_id: str, real: JsonObject, timeout: float | None) -> Any:
        """Wait for the decision; run once on approval, raise Rejected otherwise."""
        outcome = self.client.wait(task_id, timeout if timeout is not None else self.timeout)
        if not outcome.approved:
            raise Rejected(task_id, outcome.reason or "rejected", outcome.feedback)
        task = self.client.engine.get(task_id)
        edited = parse_edited_arguments(task.input["call"], outcome.text or "{}")
        arguments = restore_redacted(edited, real, self.redact)
        return self._run_once(task_id, arguments)

    def _run_once(self, task_id: str, arguments: JsonObject) -> Any:
        key = f"placet:{task_id}:execute"
        engine, actor = self.client.engine, self.client.requester
        try:
            engine.start_execution(task_id, actor, key)
        except ConflictError:
            raise AlreadyExecuted(
                f"the approved call {task_id} was already run (or is running); it never runs twice"
            ) from None
        with _key(key):
            try:
                result = _call(self.function, self.signature, arguments)
            except Exception as exc:
                engine.record(
                    task_id,
                    actor,
                    "executed",
                    {"idempotency_key": key, "ok": False, "error": repr(exc)[:2000]},
                )
                raise
        if inspect.isawaitable(result):
            return self._record_awaited(task_id, key, result)
        self._record_result(task_id, key, result)
        return result

    async def _record_awaited(self, task_id: str, key: str, pending: Any) -> Any:
        token = _idempotency_key.set(key)
        try:
            result = await pending
        except Exception as exc:
            await asyncio.to_thread(
                self.client.engine.record,
                task_id,
                self.client.requester,
                "executed",
                {"idempotency_key": key, "ok": False, "error": repr(exc)[:2000]},
            )
            raise
        finally:
            _idempotency_key.reset(token)
        await asyncio.to_thread(self._record_result, task_id, key, result)
        return result

    def _record_result(self, task_id: str, key: str, result: Any) -> None:
        payload = {"idempotency_key": key, "ok": True, "result": _jsonable(result)}
        self.client.engine.record(task_id, self.client.requester, "executed", payload)


def _sync_wrapper(gate: _Gate, blocking: bool) -> Callable[..., Any]:
    @functools.wraps(gate.function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        pending = gate.propose(args, kwargs)
        return pending.result() if blocking else pending

    return guarded


def _async_wrapper(gate: _Gate, blocking: bool) -> Callable[..., Any]:
    @functools.wraps(gate.function)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        pending = await asyncio.to_thread(gate.propose, args, kwargs)
        return await pending.aresult() if blocking else pending

    return guarded


def _check_serialisable(function: str, arguments: JsonObject) -> None:
    for name, value in arguments.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"argument {name!r} of {function} cannot be stored for review: {exc}"
            ) from None


def _call(function: Callable[..., Any], signature: inspect.Signature, arguments: JsonObject) -> Any:
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.name not in arguments:
            continue
        value = arguments[parameter.name]
        if parameter.kind is parameter.POSITIONAL_ONLY:
            positional.append(value)
        elif parameter.kind is parameter.VAR_POSITIONAL:
            positional.extend(value)
        elif parameter.kind is parameter.VAR_KEYWORD:
            keywords.update(value)
        else:
            keywords[parameter.name] = value
    return function(*positional, **keywords)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)[:2000]


@contextmanager
def _key(key: str) -> Iterator[None]:
    token = _idempotency_key.set(key)
    try:
        yield
    finally:
        _idempotency_key.reset(token)
