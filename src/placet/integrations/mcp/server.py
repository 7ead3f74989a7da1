"""The MCP server: Placet's tools and resources over the official SDK's ``MCPServer``.

Tools: ``request_approval`` (a call and its arguments become a review item; the
answer is the decision, with the arguments as a person edited them),
``ask_person`` (a question; the answer), ``check_request`` and
``wait_for_decision`` (an earlier request by its task id). A tool waits for
the decision up to a timeout and then says ``pending`` with the task id,
never approved. Resources: ``placet://pending`` (what waits for people) and
``placet://tasks/{task_id}``.

Answering in place: when the client can show a form (MCP elicitation) and its
user may decide the task under the kind's policy (``Engine.may_decide``: a
requester never decides their own request, unless in single-user mode), the
person at the client is asked while the request also waits in the queue;
whichever person answers first decides (one compare-and-set). On protocol
2025-11-25 and before the form is a request to the client in the middle of
the call, raced with the queue; on 2026-07-28 the call returns the form
(``InputRequiredResult``, the task id in its sealed ``request_state``) and
the client calls again with the answer.

The engine is blocking; each call to it runs in a worker thread.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    ToolAnnotations,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import AnyHttpUrl, ValidationError

from placet.domain.models import Task
from placet.domain.policy import Principal
from placet.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PlacetError,
)
from placet.integrations.mcp.desk import CallRequest, Desk
from placet.integrations.mcp.identity import Identity, PlacetTokens
from placet.integrations.mcp.in_place import Form, form_for

R = TypeVar("R")
Ctx = Context[Any, Any]
Reply = dict[str, Any] | InputRequiredResult
ANSWER_KEY = "placet_answer"  # the form's key in an InputRequiredResult
MAX_ASKS = 3  # how often a person is asked again after an answer that could not be recorded
WAIT_STEP = 2.0  # a waiting thread looks at the clock this often (bounds a cancelled wait)

INSTRUCTIONS = """\
Placet is a human approval queue: AI proposes, people decide.
Before you run an action that needs a person's approval, call request_approval with
the tool's name and its exact arguments. Run the action only when the answer's status
is "approved", once, with the answer's "arguments" (a reviewer may have edited them;
never run the original ones then). Any other status (rejected, pending, paused,
cancelled, expired, failed) means do not run it. "pending" means nobody has decided yet,
"paused" that Placet's kill switch holds it: call wait_for_decision with the task_id
later. Right before running an approved action, call start_run with its task_id and run
it only when that says "started" (it says so once, to one caller: a retry after a restart
is told "already_started"); afterwards call finish_run with how it went.
Give a request_id of your own so that a retried request is the same request.
ask_person asks a person a question.
"""


@dataclass(frozen=True)
class Options:
    """How long tools wait, and whether people at the client are asked in place."""

    wait: float = 30.0  # seconds a tool waits for a decision when the agent says nothing
    max_wait: float = 600.0  # the most a tool waits, whatever the agent asks
    ask_in_place: bool = True
    progress_every: float = 10.0  # seconds between progress notifications while waiting


def build_server(
    desk: Desk,
    identity: Identity,
    options: Options = Options(),
    tokens: PlacetTokens | None = None,
    url: str = "http://127.0.0.1",
) -> MCPServer[Any]:
    """The MCP server; with ``tokens``, every HTTP request needs a Placet API token."""
    auth = AuthSettings(issuer_url=AnyHttpUrl(url), resource_server_url=None) if tokens else None
    server: MCPServer[Any] = MCPServer(
        "placet",
        instructions=INSTRUCTIONS,
        token_verifier=tokens,
        auth=auth,
        log_level="WARNING",
    )
    tools = Tools(desk, identity, options)
    changes = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    server.add_tool(tools.request_approval, annotations=changes)
    server.add_tool(tools.ask_person, annotations=changes)
    server.add_tool(tools.check_request, annotations=reads)
    server.add_tool(tools.wait_for_decision, annotations=reads)
    server.add_tool(tools.start_run, annotations=changes)
    server.add_tool(tools.finish_run, annotations=changes)
    server.resource(
        "placet://pending", name="pending", mime_type="application/json",
        description="The requests waiting for a person that you may see, oldest first.",
    )(tools.pending)  # fmt: skip
    server.resource(
        "placet://tasks/{task_id}", name="task", mime_type="application/json",
        description="One request by its task id: its status, and what to do now.",
    )(tools.task)  # fmt: skip
    return server


class Tools:
    """The tools and resources, over the desk, each call as the caller the door established."""

    def __init__(self, desk: Desk, identity: Identity, options: Options) -> None:
        self.desk = desk
        self.identity = identity
        self.options = options

    # -- tools ------------------------------------------------------------------------

    async def request_approval(
        self,
        tool: str,
        arguments: dict[str, Any],
        ctx: Ctx,
        kind: str | None = None,
        summary: str = "",
        request_id: str | None = None,
        timeout_seconds: float | None = None,
    ) -> Reply:
        """Ask people to approve running a tool with these arguments, and wait for the decision.

        Returns "status": "approved" with the "arguments" to run (edited by a person when
        "edited" is true), or another status and a "message": then do not run the tool.
        "pending" means nobody decided within the timeout: call wait_for_decision later.
        summary: what the call does and why, for the reviewer. request_id: your own id; the
        same id again returns the same request, never a second one.
        """
        request = CallRequest(tool, arguments, kind, summary, request_id)
        with _as_tool_error():
            principal = await self._principal()
            task = await self._resumed(ctx, principal)
            if task is None:
                task = await _run(self.desk.request_approval, principal, request)
            return await self._settle(ctx, principal, task, timeout_seconds)

    async def ask_person(
        self,
        question: str,
        ctx: Ctx,
        context: str = "",
        request_id: str | None = None,
        timeout_seconds: float | None = None,
    ) -> Reply:
        """Ask a person a question and wait for the answer.

        Returns "status": "answered" with the "answer", or another status and a "message".
        "pending" means nobody answered within the timeout: call wait_for_decision later.
        """
        with _as_tool_error():
            principal = await self._principal()
            task = await self._resumed(ctx, principal)
            if task is None:
                task = await _run(self.desk.ask, principal, question, context, request_id)
            return await self._settle(ctx, principal, task, timeout_seconds)

    async def check_request(self, task_id: str) -> dict[str, Any]:
        """Where an earlier request stands now, by its task id (does not wait)."""
        with _as_tool_error():
            principal = await self._principal()
            task = await _run(self.desk.task_for, principal, task_id)
            return await _run(self.desk.view, task.id)

    async def wait_for_decision(
        self, task_id: str, ctx: Ctx, timeout_seconds: float | None = None
    ) -> Reply:
        """Wait for the decision on an earlier request, by its task id, up to the timeout."""
        with _as_tool_error():
            principal = await self._principal()
            task = await self._resumed(ctx, principal)
            if task is None:
                task = await _run(self.desk.task_for, principal, task_id)
            return await self._settle(ctx, principal, task, timeout_seconds)

    async def start_run(self, task_id: str) -> dict[str, Any]:
        """Call right before running an approved action: "started" (with the arguments) once.

        Any later call for the same task, from any process, says "already_started": then do
        not run it. A request that is not approved (or paused) is refused or says why.
        """
        with _as_tool_error():
            principal = await self._principal()
            return await _run(self.desk.start_run, principal, task_id)

    async def finish_run(self, task_id: str, ok: bool, result: str = "") -> dict[str, Any]:
        """Record how the run of an approved action went (ok, and its result or error)."""
        with _as_tool_error():
            principal = await self._principal()
            return await _run(self.desk.finish_run, principal, task_id, ok, result)

    # -- resources --------------------------------------------------------------------

    async def pending(self) -> list[dict[str, Any]]:
        """The requests waiting for a person that the caller may see."""
        try:
            principal = await self._principal()
            return await _run(self.desk.pending, principal)
        except PermissionDeniedError as exc:
            raise ResourceNotFoundError(exc.message) from None

    async def task(self, task_id: str) -> dict[str, Any]:
        """One request by its task id."""
        try:
            principal = await self._principal()
            task = await _run(self.desk.task_for, principal, task_id)
            return await _run(self.desk.view, task.id)
        except (NotFoundError, PermissionDeniedError) as exc:
            raise ResourceNotFoundError(exc.message) from None

    # -- the caller -----------------------------------------------------------------------

    async def _principal(self) -> Principal:
        access = get_access_token()  # read here: the verified token of this request
        return await _run(self.identity.principal, None if access is None else access.token)

    async def _resumed(self, ctx: Ctx, principal: Principal) -> Task | None:
        """The task a form answered on a 2026-07-28 retry is about.

        The state is the one this server returned with the form: the SDK seals it, and
        on HTTP binds it to the token it was given to, so a client cannot forge it.
        """
        state = ctx.request_state
        if not state:
            return None
        task_id = state.split(" ", 1)[0]
        return await _run(self.desk.task_for, principal, task_id)

    # -- waiting, and asking in place -------------------------------------------------------

    async def _settle(
        self, ctx: Ctx, principal: Principal, task: Task, timeout_seconds: float | None
    ) -> Reply:
        """Ask in place where that is possible, wait up to the timeout, and say where it stands."""
        timeout = self._timeout(timeout_seconds)
        deadline = time.monotonic() + timeout
        if ctx.request_state:
            asked_again = await self._answered_round(ctx, principal, task)
            if asked_again is not None:
                return asked_again
        elif (form := await self._form(ctx, principal, task, timeout)) is not None:
            if _modern(ctx):
                return _ask_by_returning(form, None, 1)
            return await self._race(ctx, principal, form, deadline)
        return await self._wait_and_view(ctx, task.id, deadline)

    def _timeout(self, asked: float | None) -> float:
        if asked is None:
            return self.options.wait
        if asked != asked or asked < 0:  # NaN or negative
            raise InvalidInputError("timeout_seconds must be a number of seconds, 0 or more")
        return min(asked, self.options.max_wait)

    async def _form(
        self, ctx: Ctx, principal: Principal, task: Task, timeout: float
    ) -> Form | None:
        """The form to ask the person at the client, when they can and may answer in place."""
        if not self.options.ask_in_place or timeout <= 0 or not _can_show_forms(ctx):
            return None
        form = form_for(task)
        if form is None or not await _run(self.desk.may_answer, principal, task):
            return None
        return form

    async def _race(self, ctx: Ctx, principal: Principal, form: Form, deadline: float) -> Reply:
        """Ask in the middle of the call while waiting on the queue; the first decision wins."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._ask_by_request, ctx, principal, form)
            reply = await self._wait_and_view(ctx, form.task.id, deadline)
            group.cancel_scope.cancel()  # a form still open is withdrawn
        return reply

    async def _ask_by_request(self, ctx: Ctx, principal: Principal, form: Form) -> None:
        problem: str | None = None
        for _ in range(MAX_ASKS):
            try:
                result = await ctx.session.elicit_form(
                    form.asking(problem), form.schema, ctx.request_id
                )
            except (MCPError, ValidationError):
                return  # the client could not ask, or answered nonsense; the queue still can
            problem = await self._record(principal, form, result)
            if problem is None:
                return

    async def _answered_round(self, ctx: Ctx, principal: Principal, task: Task) -> Reply | None:
        """On a 2026-07-28 retry: record the form's answer; ask again if it could not be."""
        _, _, count = (ctx.request_state or "").partition(" ")
        asks = int(count) if count.isdigit() else MAX_ASKS
        answer = (ctx.input_responses or {}).get(ANSWER_KEY)
        if not isinstance(answer, ElicitResult):
            return None
        form = form_for(task)
        if form is None:
            return None
        problem = await self._record(principal, form, answer)
        if problem is not None and asks < MAX_ASKS:
            return _ask_by_returning(form, problem, asks + 1)
        return None

    async def _record(self, principal: Principal, form: Form, result: ElicitResult) -> str | None:
        """Record the person's answer as their decision; why it could not be, if so."""
        try:
            answer = form.read(result.action, result.content)
            if answer is not None:
                await _run(self.desk.answer, principal, form.task, answer)
        except InvalidInputError as exc:
            return exc.message
        except (ConflictError, PermissionDeniedError):
            return None  # decided elsewhere meanwhile, or no longer theirs to decide
        return None

    async def _wait_and_view(self, ctx: Ctx, task_id: str, deadline: float) -> dict[str, Any]:
        started = last_report = time.monotonic()
        total = max(deadline - started, 0.0)
        while (remaining := deadline - time.monotonic()) > 0:
            step = min(remaining, WAIT_STEP)
            if await _run(self.desk.wait, task_id, step, cancellable=True):
                break
            now = time.monotonic()
            if now - last_report >= self.options.progress_every:
                last_report = now
                message = f"waiting for a person to decide task {task_id}"
                await ctx.report_progress(now - started, total, message)
        return await _run(self.desk.view, task_id)


def _ask_by_returning(form: Form, problem: str | None, asks: int) -> InputRequiredResult:
    params = ElicitRequestFormParams(message=form.asking(problem), requested_schema=form.schema)
    return InputRequiredResult(
        input_requests={ANSWER_KEY: ElicitRequest(params=params)},
        request_state=f"{form.task.id} {asks}",
    )


def _modern(ctx: Ctx) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def _can_show_forms(ctx: Ctx) -> bool:
    """True when the client declared form elicitation, and this call can carry a form."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None:
        return False
    forms = elicitation.form is not None or elicitation.url is None  # {} means forms
    return forms and (_modern(ctx) or ctx.session.can_send_request)


async def _run(function: Callable[..., R], *args: Any, cancellable: bool = False) -> R:
    """Run a blocking engine call in a worker thread."""
    call = functools.partial(function, *args)
    return await anyio.to_thread.run_sync(call, abandon_on_cancel=cancellable)


@contextmanager
def _as_tool_error() -> Iterator[None]:
    """Placet's errors as the tool's error, for the model to read (not a crash)."""
    try:
        yield
    except PlacetError as exc:
        raise ToolError(exc.message) from None
