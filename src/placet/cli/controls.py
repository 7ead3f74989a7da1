"""The kill switch from the terminal: ``placet pause``, ``placet resume``, ``placet status``."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer
from rich.text import Text

from placet.cli.common import cli_principal, handle_errors, open_engine
from placet.cli.render import err, out, plain, when
from placet.domain.models import TaskStatus
from placet.domain.paces import PaceRow
from placet.providers.local_fit import device

KindOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option("--kind", help="Only this kind (default: everything)."),
]
AsOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--as", help="Act in an admin's name (admins only once accounts exist)."),
]


@handle_errors
def pause(
    reason: Annotated[str, typer.Option("--reason", help="Why: kept in the audit log.")],
    kind: KindOption = None,
    acting_as: AsOption = None,
) -> None:
    """Stop the AI from acting: nothing is drafted, no approved call runs, handlers hold.

    Decisions are still recorded. Every process (placet serve, placet worker, a
    program using the SDK) sees the pause within a second; a draft being written
    stops and its task goes back to the queue. `placet resume` lifts it.
    """
    with open_engine() as engine:
        found = engine.pause(cli_principal(engine, acting_as), reason, kind)
    err.print(f"{found.shown()}; placet resume{' --kind ' + kind if kind else ''} lifts it")


@handle_errors
def resume(kind: KindOption = None, acting_as: AsOption = None) -> None:
    """Lift a pause made with `placet pause` (of everything, or of one kind)."""
    with open_engine() as engine:
        lifted = engine.resume(cli_principal(engine, acting_as), kind)
    err.print(f"resumed ({lifted.shown()}, since {when(lifted.at)})")


@handle_errors
def status() -> None:
    """Where Placet stands: pauses in force, and how many tasks are in each state."""
    with open_engine() as engine:
        pauses = engine.controls.pauses()
        counts = engine.count_by_status()
        paces = engine.provider_paces(PACE_SHOWN_SECONDS)
        models = engine.model_of_each_kind().values()
        local = sorted({model for model in models if model.startswith("local:")})
        layers = engine.settings.local_gpu_layers
    if pauses:
        for found in pauses.values():
            out.print(plain(f"PAUSED: {found.shown()} (since {when(found.at)})", "bold red"))
    else:
        out.print(Text("running: not paused", "green"))
    totals = {status: 0 for status in TaskStatus}
    for (_kind, status_), count in counts.items():
        totals[status_] += count
    shown = ", ".join(f"{count} {status_.value}" for status_, count in totals.items() if count)
    out.print(f"tasks: {shown or 'none yet'}")
    for row in paces:
        out.print(plain(pace_line(row, time.time())), soft_wrap=True)
    if local:
        out.print(f"local models ({', '.join(local)}) run on: {device(layers)}")


PACE_SHOWN_SECONDS = 30.0  # a worker writes its pace every few seconds while it runs


def pace_line(row: PaceRow, now: float) -> str:
    """One worker's pace against one hosted API: per limit, the pace and what is left."""
    pace = row.pace
    parts = []
    for name in ("requests", "tokens"):
        limit, left, rate = (pace[key].get(name) for key in ("limits", "headroom", "rates"))
        if left is None:
            continue
        of = f" of {limit:g}" if limit is not None else ""
        per = f", refilling {rate:.1f}/s" if rate is not None else ""
        parts.append(f"{name}: {left:.0f}{of} left{per}")
    limits = "; ".join(parts) or "no limits announced"
    paused = f"; paused {pace['paused_for']:.1f} s after a 429" if pace["paused_for"] else ""
    slower = f"; pace at {pace['caution']:.0%} after 429s" if pace["caution"] < 1 else ""
    return (
        f"pace {row.endpoint} ({row.worker}, {now - row.updated_at:.0f} s ago): {limits}; "
        f"{pace['sent']} sent, {pace['rate_limited']} answered 429{paused}{slower}"
    )
