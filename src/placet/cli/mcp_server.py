"""``placet mcp``: Placet served to MCP clients (desktop and IDE agents), stdio or HTTP."""

from __future__ import annotations

import ipaddress
from contextlib import closing
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from placet.cli.common import EXIT_INTERRUPTED, handle_errors, open_engine
from placet.cli.render import err, plain
from placet.engine import Engine
from placet.errors import ConfigError, UsageError
from placet.web.listen import address_of, listening_socket, url_of

if TYPE_CHECKING:
    from placet.integrations.mcp.desk import Desk
    from placet.integrations.mcp.server import Options

DEFAULT_PORT = 8765
NO_ACCOUNTS = (
    "placet mcp --http needs Placet accounts: every request carries an API token, and this "
    "database has no accounts yet; add one (placet users add NAME --role requester) and make "
    "its token (placet tokens create NAME)"
)


@handle_errors
def mcp(
    http: Annotated[
        bool,
        typer.Option(
            "--http",
            help="Serve streamable HTTP at /mcp instead of stdio; each request carries "
            "Authorization: Bearer <a Placet API token> (placet tokens create NAME).",
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="With --http: the address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(help="With --http: the port (0: one the system picks).")
    ] = DEFAULT_PORT,
    kind: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(
            "--kind",
            help="A kind agents' calls may be asked under (repeatable; the first is the "
            "default). A kind in placet.toml brings its reviewers, approvals and deadline; "
            "default: tool_call.",
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(min=0, help="Seconds a tool waits for a decision before saying pending."),
    ] = 30.0,
    max_wait: Annotated[
        float, typer.Option(min=0, help="The most seconds a tool waits, whatever the agent asks.")
    ] = 600.0,
    ask_in_place: Annotated[
        bool,
        typer.Option(
            help="Ask the person at the client (MCP elicitation) when they may decide the request."
        ),
    ] = True,
) -> None:
    """Serve Placet over MCP: agents ask for approval and ask people questions.

    Over stdio (the default) it runs as you, like every placet command; a desktop or
    IDE client starts it. With --http it listens on 127.0.0.1 and each caller is the
    account of the API token it sends. See the README's MCP section for client setups.
    """
    try:
        from placet.integrations.mcp.desk import CALL_KIND, Desk
        from placet.integrations.mcp.server import Options
    except ImportError as exc:
        raise UsageError(
            f"placet mcp needs the MCP SDK ({exc.name} is missing): pip install 'placet[mcp]'"
        ) from None
    options = Options(wait=wait, max_wait=max(max_wait, wait), ask_in_place=ask_in_place)
    try:
        with open_engine() as engine:
            desk = Desk(engine, kind or [CALL_KIND])
            if http:
                _serve_http(engine, desk, options, host, port)
            else:
                _serve_stdio(engine, desk, options)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _serve_stdio(engine: Engine, desk: Desk, options: Options) -> None:
    from placet.integrations.mcp.identity import LocalIdentity
    from placet.integrations.mcp.serve import serve_stdio
    from placet.integrations.mcp.server import build_server

    identity = LocalIdentity(engine)
    principal = identity.principal(None)  # no account while accounts exist: said now, not later
    mode = " (single-user mode: no accounts)" if principal.single_user else ""
    # stdout is the wire: everything said goes to stderr.
    err.print(plain(f"placet mcp: serving over stdio as {principal.name}{mode}"), soft_wrap=True)
    serve_stdio(build_server(desk, identity, options))


def _serve_http(engine: Engine, desk: Desk, options: Options, host: str, port: int) -> None:
    from placet.integrations.mcp.identity import PlacetTokens, TokenIdentity
    from placet.integrations.mcp.serve import ENDPOINT, serve_http
    from placet.integrations.mcp.server import build_server

    if not engine.accounts.exist():
        raise ConfigError(NO_ACCOUNTS)
    with closing(listening_socket(host, port)) as listener:
        url = url_of(host, address_of(listener)[1]).rstrip("/")
        if not _loopback(host):
            err.print(
                plain(
                    f"warning: {host} is not a loopback address: over plain HTTP tokens cross "
                    "the network in clear; put TLS in front of it",
                    "bold yellow",
                )
            )
        server = build_server(desk, TokenIdentity(engine), options, PlacetTokens(engine), url)
        said = f"Placet MCP on {url}{ENDPOINT}  (Authorization: Bearer <token>; Ctrl-C to stop)"
        err.print(plain(said), soft_wrap=True)
        serve_http(server, listener, host)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
