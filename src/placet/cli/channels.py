"""``placet channels``: the notification channels, testing one, and notifications that gave up."""

from __future__ import annotations

import base64
import secrets
import time
from typing import Annotated, Optional

import typer
from rich.table import Table

from placet.channels.notices import (
    failed_notifications,
    find_channel,
    health,
    retry_notification,
    send_test,
)
from placet.cli.common import EXIT_ERROR, actor_name, handle_errors, open_engine
from placet.cli.render import err, out, plain, print_table, when
from placet.domain.channels import EVENTS, Email, Webhook, secret_variable
from placet.domain.notifications import webhook_id
from placet.domain.timers import shown_duration

CHANNELS_HELP = """\
Notification channels: who hears when a draft awaits review, a reminder or an
escalation fires, a task is decided (approved, rejected, expired) or fails.

Configure each channel once in placet.toml, and who hears what per kind
(\\[kinds.NAME] notify, which replaces the global list) or for all kinds:

    \\[placet]
    notify = ["webhook:ops"]
    base_url = "https://placet.example.com"   # links to tasks in messages

    \\[channels.webhook.ops]
    url = "https://hooks.example.com/placet"
    events = ["awaiting_review", "decided"]   # default: all five

The signing secret comes from the environment or .env, never placet.toml:
PLACET_WEBHOOK_OPS_SECRET=whsec_... (make one with: placet channels secret).
Messages are signed as the Standard Webhooks specification says and sent by
`placet worker` and `placet serve` after each change commits, at least once,
retried with backoff; those that give up are listed by `placet channels failed`.

E-mail: notify = ["email:ana", "email:group:legal"] writes to accounts (their
address: placet users email ana ana@example.com), through one SMTP server:

    \\[channels.email]
    smtp_host = "smtp.example.com"
    security = "starttls"                     # or "tls", or "none"
    from = "Placet <placet@example.com>"
    username = "placet"        # its password: PLACET_EMAIL_PASSWORD

Each message has signed, single-use approve / reject links (a confirmation
page decides, never the link itself). Test: placet channels test email.

Slack posts review requests with buttons to the channels notify names:

    \\[placet]
    notify = ["slack:#reviews"]

    \\[channels.slack]
    users = { U0123ABCD = "ana" }   # Slack user id = Placet account

with PLACET_SLACK_BOT_TOKEN and PLACET_SLACK_SIGNING_SECRET in the environment or .env,
and the Slack app's Interactivity URL at https://YOUR-PLACET/slack/interactions.
"""

channels_app = typer.Typer(help=CHANNELS_HELP, no_args_is_help=True)


@channels_app.command("list")
@handle_errors
def list_channels() -> None:
    """List the configured channels, what each hears, and how its sending has gone."""
    with open_engine() as engine:
        channels = engine.settings.channels
        rows = {row.channel: row for row in health(engine)}
    if not channels.every():
        err.print(
            "no channel is configured: add [channels.webhook.NAME] to placet.toml "
            '(or [channels.email], or [channels.slack] and notify = ["slack:#channel"])'
        )
        return
    table = Table(box=None)
    for header in ("channel", "url", "events", "state"):
        table.add_column(header)
    now = time.time()
    for hook in channels.every():
        row = rows.get(hook.address)
        if row is None or (row.last_ok_at is None and row.failing_since is None):
            state = "nothing sent yet"
        elif row.failing_since is None:
            state = f"ok (last delivery {when(row.last_ok_at or 0)})"
        else:
            state = f"failing for {shown_duration(row.failing_for(now))}: {row.last_error}"
        events = "all" if hook.events == EVENTS else ", ".join(hook.events)
        where = hook.url if isinstance(hook, Webhook) else f"smtp://{hook.recipient}"
        table.add_row(hook.address, plain(where), events, plain(state))
    print_table(table)


@channels_app.command("test")
@handle_errors
def test(
    name: Annotated[
        str,
        typer.Argument(help="The channel: its name (ops), webhook:ops, email or slack:#reviews."),
    ],
    to: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time on 3.10
        typer.Option(help="E-mail: the address to send the test to (default: the From address)."),
    ] = None,
) -> None:
    """Send a signed test message to a channel now, and say what happened.

    Not through the outbox and not retried: the receiver's status and the time it
    took, or why it could not be reached. Exit 0 on a 2xx, 1 otherwise.
    """
    with open_engine() as engine:
        channel = find_channel(engine, name)
        message_id, sent = send_test(engine, channel, to)
    if isinstance(channel, Email):
        where = f"{to or channel.sender} through smtp://{channel.recipient}"
        said = f"{channel.address} → {where}: {sent.said()} (Message-ID {message_id})"
    else:
        said = f"{channel.address} → {channel.url}: {sent.said()} (webhook-id {message_id})"
    if sent.ok:
        out.print(plain(said), soft_wrap=True)
        return
    err.print(plain(f"failed: {said}", "red"), soft_wrap=True)
    raise typer.Exit(EXIT_ERROR)


@channels_app.command()
@handle_errors
def failed(
    limit: Annotated[int, typer.Option(min=1, help="How many to show at most.")] = 50,
) -> None:
    """List the notifications that gave up, most recent first."""
    with open_engine() as engine:
        records = failed_notifications(engine, limit)
    if not records:
        err.print("no notification has failed for good")
        return
    table = Table(box=None)
    # The id is what `placet channels retry` needs: never shortened or wrapped.
    table.add_column("id", no_wrap=True, min_width=26)
    table.add_column("task", no_wrap=True, min_width=26)
    for header in ("channel", "event", "tries", "gave up", "last error"):
        table.add_column(header)
    for record in records:
        table.add_row(
            record.id,
            record.task_id,
            plain(record.channel),
            record.event,
            str(record.attempts),
            when(record.finished_at) if record.finished_at is not None else "",
            plain(record.last_error or "", "red"),
        )
    print_table(table)
    err.print("retry one with: placet channels retry ID (the same webhook-id is sent again)")


@channels_app.command()
@handle_errors
def retry(
    notification: Annotated[
        str, typer.Argument(metavar="ID", help="The notification's id (or its msg_ webhook-id).")
    ],
    actor: Annotated[Optional[str], typer.Option("--as", help="Who retries.")] = None,  # noqa: UP045
) -> None:
    """Give a notification that gave up a fresh set of tries; a running worker sends it."""
    with open_engine() as engine:
        record = retry_notification(engine, notification, actor_name(actor))
    err.print(
        plain(
            f"retrying {record.channel} {record.event} of {record.task_id} as "
            f"{webhook_id(record.id)} (it had {record.attempts} tries)"
        )
    )


@channels_app.command()
def secret(
    name: Annotated[
        str, typer.Argument(help="The webhook's name, for the variable's name.")
    ] = "NAME",
) -> None:
    """Print a new random signing secret (whsec_ and 32 random bytes) as an .env line."""
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    out.print(f"{secret_variable('webhook', name)}=whsec_{key}", soft_wrap=True, markup=False)
