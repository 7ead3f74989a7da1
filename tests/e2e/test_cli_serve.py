"""``placet serve``'s first start and the way back in, as a user runs them.

The real command as a subprocess in a scratch folder; what it stored is read back
from the folder's SQLite file.
"""

from __future__ import annotations

import re
import signal
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from placet.engine.accounts import RESET_PASSWORD, Accounts
from placet.store import open_store
from tests.e2e.conftest import Cli

SERVE = ("serve", "--no-worker", "--no-folder")
FIRST_ADMIN = r"Sign in at (http://\S+/)login as admin with password (\S+)$"


@contextmanager
def accounts_of(cli: Cli) -> Iterator[Accounts]:
    store = open_store(f"sqlite:///{cli.folder / 'placet.db'}")
    try:
        yield Accounts(store.accounts())
    finally:
        store.close()


@contextmanager
def busy_port() -> Iterator[int]:
    """A loopback port another program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def first_start(cli: Cli) -> tuple[str, str]:
    """Start ``placet serve`` on a free port; the URL and the first admin's password it printed."""
    server = cli.start(*SERVE, "--port", "0")
    try:
        url, password = server.expect(FIRST_ADMIN).groups()
        server.expect(r"^Placet on ")
        with urllib.request.urlopen(f"{url}healthz", timeout=30) as answer:
            assert answer.status == 200  # the server the password was printed for runs
        server.process.send_signal(signal.SIGINT)
        code, _ = server.finish()
    finally:
        server.kill()
    assert code == 130, "".join(server.seen)  # Ctrl-C: interrupted (README, exit codes)
    assert not any("Traceback" in line for line in server.seen)
    return url, password


def test_a_busy_port_creates_no_admin_and_the_next_start_prints_the_password(cli: Cli) -> None:
    with busy_port() as port:
        refused = cli(*SERVE, "--port", str(port))
    assert refused.returncode == 1, refused.stderr  # the world refused (README, exit codes)
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), refused.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0] and "--port" in lines[0]
    assert "password" not in refused.stderr
    assert not (cli.folder / "placet.db").exists()  # not even opened: no admin in it

    _url, password = first_start(cli)
    with accounts_of(cli) as accounts:
        assert [user.name for user in accounts.users()] == ["admin"]
        assert accounts.authenticate("admin", password) is not None


def test_reset_password_prints_a_new_one_the_old_fails_and_sessions_end(cli: Cli) -> None:
    _url, old = first_start(cli)
    with accounts_of(cli) as accounts:
        generation = accounts.get_user("admin").session_generation

    reset = cli("users", "reset-password", "admin")
    assert reset.returncode == 0, reset.stderr
    new = reset.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", new), reset.stdout
    assert "every session of theirs has ended" in reset.stderr
    assert "placet users passwd admin" in reset.stderr

    with accounts_of(cli) as accounts:
        assert accounts.authenticate("admin", old) is None
        assert accounts.authenticate("admin", new) is not None
        assert accounts.get_user("admin").session_generation == generation + 1
        events = [e for e in accounts.security_events() if e.action == RESET_PASSWORD]
    assert [(e.actor, e.target, e.outcome) for e in events] == [("tester", "admin", "allowed")]
    verified = cli("audit", "verify")  # the reset entered the global audit log too
    assert verified.returncode == 0, verified.stdout + verified.stderr

    unknown = cli("users", "reset-password", "nobody")
    assert unknown.returncode == 2 and "no user named 'nobody'" in unknown.stderr
    assert unknown.stdout == ""
