"""Commands for the dashboard and the API: serve, users, tokens."""

from __future__ import annotations

import secrets
import socket
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from placet.channels.folder_fs import check_root
from placet.cli.common import (
    ConcurrencyOption,
    actor_name,
    handle_errors,
    open_engine,
    warn_of_model_problems,
)
from placet.cli.render import err, out, plain, print_table, when
from placet.engine import Engine
from placet.engine.accounts import Accounts, role_set_of
from placet.engine.links import set_email
from placet.errors import UsageError
from placet.serverkey import server_key
from placet.web.listen import address_of, listening_socket, url_of

if TYPE_CHECKING:
    from fastapi import FastAPI

users_app = typer.Typer(help="Manage dashboard and API accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


PasswordOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option(
        help="The password; asked for when left out. On the command line others on this "
        "machine may see it: scripts should use --password-stdin."
    ),
]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]


def new_password(password: str | None, from_stdin: bool, label: str) -> str:
    """The password given, read from stdin, or asked for (twice) on a terminal."""
    if from_stdin:
        if password is not None:
            raise UsageError("give --password or --password-stdin, not both")
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise UsageError("--password-stdin read no password")
        return line
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for the {label} on: use --password-stdin")
    return str(typer.prompt(label, hide_input=True, confirmation_prompt=True))


@contextmanager
def open_accounts() -> Iterator[tuple[Engine, Accounts]]:
    """The engine and the accounts on the configured database."""
    with open_engine() as engine:
        yield engine, engine.accounts


def secret_key() -> str:
    """PLACET_SECRET_KEY, or a key made once and kept in .placet_secret (mode 600)."""
    return server_key(Path.cwd())


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: one the system picks).")] = 8000,
    worker: Annotated[bool, typer.Option(help="Draft queued tasks in this process.")] = True,
    folder: Annotated[bool, typer.Option(help="Watch the review folder.")] = True,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            help="Mark cookies Secure even over plain HTTP (over HTTPS, or behind a trusted "
            "proxy that says the client used HTTPS, they are anyway)."
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            envvar="PLACET_FORWARDED_ALLOW_IPS",
            help="The proxies (addresses or networks, comma-separated; * for any) whose "
            "X-Forwarded-For and X-Forwarded-Proto are believed. Default: none, so the "
            "connecting peer is the client.",
        ),
    ] = "",
    notify: Annotated[
        bool,
        typer.Option(help="Send the notifications to the configured channels in this process."),
    ] = True,
    concurrency: ConcurrencyOption = None,
) -> None:
    """Run the REST API, the review dashboard, a drafting worker and the notifications'
    sender in one process."""
    from placet.web.app import AppOptions, create_app
    from placet.web.ops import configure_request_logs

    # Bound first: a busy port stops the start before the database is opened, so
    # no first admin is made (and its password printed) for a server that never runs.
    with closing(listening_socket(host, port)) as listener, open_accounts() as (engine, accounts):
        if folder:  # said here, in one line, not as a traceback from the server's start
            settings = engine.settings
            check_root(settings.review_dir, settings.source_of("review_dir"))
        url = url_of(host, address_of(listener)[1])
        _first_admin(accounts, url)
        if worker:
            warn_of_model_problems(engine)
        options = AppOptions(
            secret_key(),
            secure_cookies,
            worker,
            folder,
            forwarded_allow_ips=forwarded_allow_ips,
            send_notifications=notify,
            drafting_concurrency=concurrency or engine.settings.worker_concurrency(),
        )
        app = create_app(engine, accounts, options)
        configure_request_logs()  # one JSON line per request on stderr (uvicorn's own are off)
        err.print(f"Placet on {url}  (API docs at /docs; Ctrl-C to stop)")
        _run_server(app, listener)


def _run_server(app: FastAPI, listener: socket.socket) -> None:
    """Serve the app on the socket already listening, until Ctrl-C or SIGTERM."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        # Live streams end on Ctrl-C by themselves; the timeout only bounds a stuck client.
        timeout_graceful_shutdown=5,
        # The app believes only --forwarded-allow-ips; uvicorn's own default would
        # trust any process on this machine to name the client.
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[listener])


def _first_admin(accounts: Accounts, url: str) -> None:
    if accounts.users():
        return
    password = secrets.token_urlsafe(12)
    accounts.add_user("admin", password, "admin", by="placet serve")
    err.print(
        plain(
            f"Created the first account. Sign in at {url}login as admin with password {password}",
            "bold yellow",
        ),
        soft_wrap=True,  # one line: a password split by a terminal-width wrap is easy to mistype
    )
    err.print("Change it with: placet users passwd admin (lost? placet users reset-password admin)")


@users_app.command("add")
@handle_errors
def users_add(
    name: Annotated[str, typer.Argument(help="The user name.")],
    role: Annotated[
        list[str],
        typer.Option("--role", "-r", help="admin, reviewer, requester or viewer; repeatable."),
    ],
    password: PasswordOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Create an account."""
    role_set_of(role)  # a wrong role is said before the password is asked for
    secret = new_password(password, password_stdin, "password")
    with open_accounts() as (_engine, accounts):
        user = accounts.add_user(name, secret, role, by=actor_name())
        roles = ",".join(sorted(role))
        accounts.record(actor_name(), "add_user", "allowed", name, _through_cli(roles))
    err.print(f"added {user.name} ({', '.join(sorted(r.value for r in user.roles))})")


@users_app.command("list")
@handle_errors
def users_list() -> None:
    """List accounts."""
    with open_accounts() as (engine, accounts):
        emails = engine.links().emails()
        table = Table(box=None, header_style="bold")
        for column in ("name", "roles", "e-mail", "created", "state"):
            table.add_column(column)
        for user in accounts.users():
            roles = ", ".join(sorted(role.value for role in user.roles))
            state = "disabled" if user.disabled else "active"
            email = plain(emails.get(user.name, ""))
            table.add_row(plain(user.name), roles, email, when(user.created_at), state)
    print_table(table)


@users_app.command("email")
@handle_errors
def users_email(
    name: Annotated[str, typer.Argument(help="The user name.")],
    address: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time on 3.10
        typer.Argument(help="Their e-mail address; leave out with --remove."),
    ] = None,
    remove: Annotated[bool, typer.Option(help="Take the address away.")] = False,
) -> None:
    """Set the address a user's e-mail notifications go to ([channels.email])."""
    if (address is None) != remove:
        raise UsageError("give an address, or --remove: placet users email ana ana@example.com")
    with open_accounts() as (engine, _accounts):
        set_email(engine, name, address, actor_name())
    err.print(f"{name}: e-mail {'removed' if remove else f'set to {address}'}")


@users_app.command("passwd")
@handle_errors
def users_passwd(
    name: Annotated[str, typer.Argument(help="The user name.")],
    password: PasswordOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Set a new password."""
    secret = new_password(password, password_stdin, "new password")
    with open_accounts() as (_engine, accounts):
        accounts.set_password(name, secret)
        accounts.record(
            actor_name(), "set_password", "allowed", name, _through_cli("every session ended")
        )
    err.print(f"password changed for {name}; every session of theirs has ended")


@users_app.command("reset-password")
@handle_errors
def users_reset_password(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Give a user a new random password, shown once on stdout; end their sessions.

    The way back in when a password is lost, the first admin's included: the
    old password stops working at once, and the reset is in the security
    log. Change it afterwards with: placet users passwd NAME
    """
    with open_accounts() as (_engine, accounts):
        password = accounts.reset_password(name, by=actor_name())
        disabled = accounts.get_user(name).disabled
    err.print(f"new password for {name}, shown once; every session of theirs has ended:")
    out.print(password, soft_wrap=True)
    if disabled:
        err.print(f"note: the account {name} is disabled; it cannot sign in until enabled")
    err.print(f"Change it with: placet users passwd {name}")


@users_app.command("disable")
@handle_errors
def users_disable(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Stop an account from signing in or using its tokens, and end its sessions."""
    with open_accounts() as (_engine, accounts):
        accounts.set_disabled(name, True, by=actor_name())
        accounts.record(
            actor_name(), "disable_user", "allowed", name, _through_cli("every session ended")
        )
    err.print(f"disabled {name}")


@users_app.command("signout")
@handle_errors
def users_signout(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Sign a user out everywhere: every dashboard session of theirs ends at once."""
    with open_accounts() as (_engine, accounts):
        accounts.end_sessions(name)
        accounts.record(actor_name(), "end_sessions", "allowed", name, _through_cli())
    err.print(f"signed {name} out everywhere")


def _through_cli(*details: str) -> str:
    """The security log's detail for an account change made here."""
    return "; ".join([*details, "through the cli"])


@tokens_app.command("create")
@handle_errors
def tokens_create(
    user: Annotated[str, typer.Argument(help="Whose token it is.")],
    label: Annotated[str, typer.Option(help="What it is for.")] = "api token",
) -> None:
    """Create an API token; it is shown once."""
    with open_accounts() as (_engine, accounts):
        secret, token = accounts.create_token(user, label)
        accounts.record(actor_name(), "create_token", "allowed", user, _through_cli(token.id))
    err.print(f"token {token.id} for {user} ({token.label}); keep it secret, it is shown once:")
    out.print(secret)


@tokens_app.command("list")
@handle_errors
def tokens_list(
    user: Annotated[Optional[str], typer.Option(help="Only this user's tokens.")] = None,  # noqa: UP045
) -> None:
    """List API tokens (never their secrets)."""
    with open_accounts() as (_engine, accounts):
        table = Table(box=None, header_style="bold")
        for column in ("id", "user", "label", "created", "state"):
            table.add_column(column)
        for token in accounts.tokens(user):
            state = f"revoked {when(token.revoked_at)}" if token.revoked_at else "live"
            table.add_row(
                token.id, plain(token.user_name), plain(token.label), when(token.created_at), state
            )
    print_table(table)


@tokens_app.command("revoke")
@handle_errors
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The token id.")]) -> None:
    """Revoke an API token at once."""
    with open_accounts() as (_engine, accounts):
        accounts.revoke_token(token_id)
        accounts.record(actor_name(), "revoke_token", "allowed", token_id, _through_cli())
    err.print(f"revoked {token_id}")
