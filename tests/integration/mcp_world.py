"""The MCP tests' world: ``placet mcp`` as a subprocess (stdio or HTTP), and the SDK's client.

The server is the real command in a scratch folder on a real database; people
decide through a Placet engine of their own on the same database, as another
process would; agents are the ``mcp`` SDK's own ``Client``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from placet.config import load_settings
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.policy import Principal
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest, Engine
from placet.store import open_store
from tests.e2e.conftest import Background

WAIT_SECONDS = 60.0
ElicitationCallback = Callable[..., Awaitable[Any]]


class World:
    """A folder with a database, the engine people decide with, and ways to start the server."""

    def __init__(self, folder: Path, url: str, config: str = "") -> None:
        self.folder = folder
        self.url = url
        if config:
            (folder / "placet.toml").write_text(config)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLACET_")}
        self.env.update(
            PLACET_DATABASE_URL=url,
            PLACET_USER="agent",
            PLACET_AUDIT_KEY="the MCP tests' audit key",
        )
        settings = replace(load_settings(folder), database_url=url)
        self.engine = Engine(open_store(url), settings)

    def close(self) -> None:
        self.engine.close(store_too=True)

    # -- the server -------------------------------------------------------------------

    def stdio(
        self,
        *options: str,
        user: str = "agent",
        mode: str = "auto",
        elicitation: ElicitationCallback | None = None,
    ) -> Client:
        """An MCP client that starts ``placet mcp`` over stdio, as a desktop client does."""
        env = {
            "PLACET_DATABASE_URL": self.url,
            "PLACET_USER": user,
            "PLACET_AUDIT_KEY": self.env["PLACET_AUDIT_KEY"],
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        }
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "placet", "mcp", *options],
            env=env,
            cwd=str(self.folder),
        )
        return Client(params, mode=mode, elicitation_callback=elicitation)

    @contextmanager
    def http_server(self, *options: str) -> Iterator[str]:
        """``placet mcp --http`` on a loopback port; yields the endpoint's URL."""
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", "mcp", "--http", "--port", "0", *options],
            cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        server = Background(process)
        try:
            found = server.expect(r"Placet MCP on (http://\S+/mcp)", timeout=WAIT_SECONDS)
            yield found.group(1)
        finally:
            server.kill()

    def cli(self, *args: str, user: str = "agent") -> subprocess.CompletedProcess[str]:
        """A placet command here as ``user``, its stdin closed (a stdio server then ends)."""
        return subprocess.run(
            [sys.executable, "-m", "placet", *args],
            cwd=self.folder, env={**self.env, "PLACET_USER": user}, input="",
            capture_output=True, text=True, timeout=WAIT_SECONDS,
        )  # fmt: skip

    # -- people ---------------------------------------------------------------------------

    def waiting(self, count: int = 1) -> list[Task]:
        """The tasks waiting for review once there are ``count`` of them (oldest first)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            found = self.engine.list_tasks(
                TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), limit=100)
            )
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, f"only {len(found)} tasks waiting"
            time.sleep(0.02)

    def decide(
        self,
        who: Principal,
        task_id: str,
        kind: DecisionKind,
        text: str | None = None,
        reason: str | None = None,
    ) -> Task:
        """A person's decision, through the engine, as every channel makes one."""
        request = DecisionRequest(task_id, kind, who, text=text, reason=reason)
        return self.engine.decide(request)

    def decide_when_waiting(self, who: Principal, kind: DecisionKind, **fields: Any) -> Task:
        """Wait for the first waiting task, then decide it."""
        task = self.waiting()[0]
        return self.decide(who, task.id, kind, **fields)

    def decision_event(self, task_id: str) -> Any:
        """The event that recorded the last decision on a task."""
        decisions = {kind.value for kind in DecisionKind}
        return [e for e in self.engine.task_events(task_id) if e.type in decisions][-1]


@asynccontextmanager
async def http_client(
    url: str,
    token: str | None,
    mode: str = "auto",
    elicitation: ElicitationCallback | None = None,
) -> AsyncIterator[Client]:
    """An MCP client over streamable HTTP, sending the token as a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:  # ours to close
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode, elicitation_callback=elicitation) as client:
            yield client


def result(call: CallToolResult) -> dict[str, Any]:
    """A tool's answer as the agent reads it (its structured content), or fail on an error."""
    assert not call.is_error, call.content
    assert isinstance(call.structured_content, dict), call
    return call.structured_content


def error_text(call: CallToolResult) -> str:
    """The message of a tool's error."""
    assert call.is_error, call.structured_content
    return " ".join(getattr(block, "text", "") for block in call.content)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario to its end."""
    anyio.run(scenario)
