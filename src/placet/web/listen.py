"""The listening socket of ``placet serve``, bound before anything else happens.

Binding first means a busy port stops the start before the first admin is made
and its password printed: a password for a server that never ran is easily lost,
and the next start would print none.
"""

from __future__ import annotations

import errno
import socket

from placet.errors import ListenError

BACKLOG = 2048  # uvicorn's default


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port (port 0: one the system picks), or ListenError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a restart need not wait for the last run's connections to time out.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)  # listening holds the port: no second server can take it now
    except OSError as exc:
        sock.close()
        raise ListenError(_why_not(host, port, exc)) from exc
    return sock


def address_of(sock: socket.socket) -> tuple[str, int]:
    """The host and port a socket listens on (the port the system chose, for port 0)."""
    host, port = sock.getsockname()[:2]
    return str(host), int(port)


def url_of(host: str, port: int) -> str:
    """The address as a URL; an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _why_not(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is in use (another placet serve?); stop "
            "that server or choose another port with --port"
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen on {where}: permission denied (ports below 1024 need privileges); "
            "choose another port with --port"
        )
    reason = exc.strerror or str(exc)
    return f"cannot listen on {where}: {reason}; check --host and --port"
