"""Approval gates: ``@client.require_approval`` turns calls into review items.

A guarded call is proposed as a task whose draft is the call (the function,
its arguments, secrets shown as ``***``); it waits for a decision, then runs
once with the arguments as approved, or raises ``Rejected``. The execution is
recorded in the audit trail, and a second run of the same approval is refused
(``AlreadyExecuted``), so a crash between approval and execution never runs it
twice.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from placet.domain import jsontext
from placet.domain.executions import EXECUTED
from placet.domain.models import JsonObject, TaskKind
from placet.domain.toolcalls import (
    describe_parameters,
    parse_edited_arguments,
    restore_redacted,
    shown_arguments,
)
from placet.errors import ConflictError, PausedError, PlacetError, UsageError
from placet.handlers.base import keyed
from placet.sdk.signatures import adapters_of, as_json, as_typed, schemas_of

if TYPE_CHECKING:
    from placet.sdk.client import Client

PAUSE_POLL_SECONDS = 0.25  # how often an approved call waiting out a pause looks again


# Neither "you used Placet wrong" nor "the world failed": an outcome the caller
# handles (``except placet.Rejected``), so it derives from the root alone.
class Rejected(PlacetError):
    """A person rejected the request."""

    def __init__(self, task_id: str, reason: str, feedback: str | None = None) -> None:
        super().__init__(f"task {task_id} was rejected: {reason}")
        self.task_id = task_id
        self.reason = reason
        self.feedback = feedback


class AlreadyExecuted(ConflictError):
    """This approved call was already run (or is running) elsewhere; it never runs twice."""


class PendingCall:
    """A guarded call waiting for its decision (the non-blocking mode)."""

    def __init__(self, gate: Gate, task_id: str, real: JsonObject) -> None:
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


class Gate:
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
        self.typed = adapters_of(function)  # what its type hints say, through Pydantic
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
        real = as_json(dict(bound.arguments), self.typed)
        _check_serialisable(self.name, real)
        shown = shown_arguments(real, self.redact)
        call = {
            "function": self.name,
            "parameters": describe_parameters(self.signature, schemas_of(self.typed)),
            "arguments": shown,
            "redacted": sorted(self.redact),
        }
        text = json.dumps(shown, indent=2, ensure_ascii=False, default=str)
        task = self.client.engine.propose(self.kind, {"call": call}, self.client.requester, text)
        return PendingCall(self, task.id, real)

    def resume(self, task_id: str, timeout: float | None = None) -> Any:
        """Wait for an earlier call's decision and run it once: a new process after a restart.

        The arguments are the ones stored with the task; a gate that redacts
        some cannot resume, as their real values were never stored.
        """
        task = self.client.engine.get(task_id)
        call = task.input.get("call")
        if task.kind != self.kind or not isinstance(call, dict):
            raise UsageError(f"task {task_id} is not a call to {self.name}")
        if self.redact:
            hidden = ", ".join(sorted(self.redact))
            raise UsageError(
                f"{self.name} redacts {hidden}, whose values were never stored: "
                "a call to it cannot be resumed in another process; call it again"
            )
        return self.finish(task_id, dict(call["arguments"]), timeout)

    def finish(self, task_id: str, real: JsonObject, timeout: float | None) -> Any:
        """Wait for the decision; run once on approval (never while paused), else raise Rejected.

        While Placet is paused an approved call waits for ``placet resume``
        within the same timeout, and raises PausedError when it runs out (at
        once with ``timeout=0``).
        """
        limit = timeout if timeout is not None else self.timeout
        deadline = None if limit is None else time.monotonic() + limit
        outcome = self.client.wait(task_id, limit)
        if not outcome.approved:
            raise Rejected(task_id, outcome.reason or "rejected", outcome.feedback)
        task = self.client.engine.get(task_id)
        edited = parse_edited_arguments(task.input["call"], outcome.text or "{}")
        arguments = restore_redacted(edited, real, self.redact)
        self._wait_while_paused(task_id, task.kind, deadline)
        return self._run_once(task_id, arguments)

    def _wait_while_paused(self, task_id: str, kind: str, deadline: float | None) -> None:
        controls = self.client.engine.controls
        while (pause := controls.paused(kind)) is not None:
            if deadline is not None and time.monotonic() >= deadline:
                raise PausedError(
                    f"the approved call {task_id} did not run: {pause.shown()} "
                    "(it runs when placet resume lifts the pause)"
                )
            time.sleep(PAUSE_POLL_SECONDS)

    def _run_once(self, task_id: str, arguments: JsonObject) -> Any:
        key = f"placet:{task_id}:execute"
        engine, actor = self.client.engine, self.client.requester
        try:
            engine.start_execution(task_id, actor, key)
        except PausedError:
            raise  # paused since the check above: nothing ran, and it may run after resume
        except ConflictError:
            raise AlreadyExecuted(
                f"the approved call {task_id} was already run (or is running); it never runs twice"
            ) from None
        with keyed(key):
            try:
                typed = as_typed(arguments, self.typed)  # a dict back into its model
                result = _call(self.function, self.signature, typed)
            except Exception as exc:
                engine.record(
                    task_id,
                    actor,
                    EXECUTED,
                    {"idempotency_key": key, "ok": False, "error": repr(exc)[:2000]},
                )
                raise
        if inspect.isawaitable(result):
            return self._record_awaited(task_id, key, result)
        self._record_result(task_id, key, result)
        return result

    async def _record_awaited(self, task_id: str, key: str, pending: Any) -> Any:
        with keyed(key):
            try:
                result = await pending
            except Exception as exc:
                await asyncio.to_thread(
                    self.client.engine.record,
                    task_id,
                    self.client.requester,
                    EXECUTED,
                    {"idempotency_key": key, "ok": False, "error": repr(exc)[:2000]},
                )
                raise
        await asyncio.to_thread(self._record_result, task_id, key, result)
        return result

    def _record_result(self, task_id: str, key: str, result: Any) -> None:
        payload = {"idempotency_key": key, "ok": True, "result": _jsonable(result)}
        self.client.engine.record(task_id, self.client.requester, EXECUTED, payload)


def guard(
    client: Client,
    function: Callable[..., Any],
    kind: str,
    redact: frozenset[str],
    timeout: float | None,
    blocking: bool,
) -> Callable[..., Any]:
    """The guarded version of ``function`` (a coroutine function stays one)."""
    gate = Gate(client, function, kind, redact, timeout)
    wrapper = _async_wrapper(gate, blocking) if inspect.iscoroutinefunction(function) else None
    guarded = wrapper or _sync_wrapper(gate, blocking)
    # ``guarded.resume(task_id)``: an earlier call's decision, waited on and run once.
    guarded.resume = gate.resume  # type: ignore[attr-defined]
    return guarded


def _sync_wrapper(gate: Gate, blocking: bool) -> Callable[..., Any]:
    @functools.wraps(gate.function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        pending = gate.propose(args, kwargs)
        return pending.result() if blocking else pending

    return guarded


def _async_wrapper(gate: Gate, blocking: bool) -> Callable[..., Any]:
    @functools.wraps(gate.function)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        pending = await asyncio.to_thread(gate.propose, args, kwargs)
        return await pending.aresult() if blocking else pending

    return guarded


def _check_serialisable(function: str, arguments: JsonObject) -> None:
    for name, value in arguments.items():
        jsontext.require_json(value, f"argument {name!r} of {function}")


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
