"""Serving the MCP server: over stdio, or streamable HTTP on a socket already listening."""

from __future__ import annotations

import socket
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

ENDPOINT = "/mcp"


def serve_stdio(server: MCPServer[Any]) -> None:
    """Speak MCP over stdin and stdout until the client closes them."""
    anyio.run(server.run_stdio_async)


def serve_http(server: MCPServer[Any], listener: socket.socket, host: str) -> None:
    """Serve streamable HTTP at ``/mcp`` on the socket, until Ctrl-C or SIGTERM.

    Bound to a loopback address, the SDK also refuses requests whose Host or
    Origin names another site (DNS rebinding).
    """
    import uvicorn

    app = server.streamable_http_app(streamable_http_path=ENDPOINT, host=host)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # the client is the connecting peer; no header may say otherwise
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[listener])
