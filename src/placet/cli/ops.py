"""Long-running and maintenance commands: worker, watch, audit."""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from placet.channels.folder import FolderChannel
from placet.channels.outbox import NotificationPool
from placet.cli.apps import load_client
from placet.cli.common import (
    EXIT_ERROR,
    ConcurrencyOption,
    handle_errors,
    open_engine,
    warn_of_model_problems,
)
from placet.cli.render import err, plain
from placet.engine import Engine
from placet.engine.worker import Worker
from placet.errors import PlacetError, UsageError
from placet.handlers.pipelines import pipeline_handlers
from placet.handlers.runner import HandlerPool

if TYPE_CHECKING:
    from placet.sdk.client import Client


def _say(message: str) -> None:
    err.print(plain(message), soft_wrap=True)  # one log line stays one line


@handle_errors
def worker(
    max_tasks: Annotated[
        Optional[int],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
        typer.Option(help="Stop after drafting this many tasks."),
    ] = None,
    folder: Annotated[bool, typer.Option(help="Also watch the review folder.")] = True,
    app: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            metavar="MODULE:ATTRIBUTE",
            help="Your app, MODULE:ATTRIBUTE naming a placet.Client (e.g. myapp:client): "
            "also run its on_approved / on_rejected handlers, on its database.",
        ),
    ] = None,
    drafting: Annotated[
        bool,
        typer.Option(
            help="Draft queued tasks (--no-drafting: only run handlers and send notifications)."
        ),
    ] = True,
    handler_threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="With --app: how many handlers run at once (for handlers that wait on "
            "the network).",
        ),
    ] = 1,
    notify: Annotated[
        bool,
        typer.Option(
            help="Send the notifications to the configured channels (placet channels --help)."
        ),
    ] = True,
    notify_threads: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="How many notifications are sent at once (slow receivers)."
        ),
    ] = 1,
    concurrency: ConcurrencyOption = None,
) -> None:
    """Draft queued tasks, send notifications, and run an app's handlers, until stopped
    (Ctrl-C or SIGTERM; with --concurrency, Ctrl-C twice hands the drafts in flight back)."""
    if app is None and handler_threads != 1:
        raise UsageError("--handler-threads runs an app's handlers: give the app with --app")
    sending = notify_threads if notify else 0
    if app is None:
        with open_engine() as engine:
            drafting_at_once = concurrency or engine.settings.worker_concurrency()
            _work(engine, max_tasks, folder, drafting, None, 1, sending, drafting_at_once)
        return
    client = load_client(app)
    try:
        drafting_at_once = concurrency or client.engine.settings.worker_concurrency()
        _work(
            client.engine,
            max_tasks,
            folder,
            drafting,
            client,
            handler_threads,
            sending,
            drafting_at_once,
        )
    finally:
        client.close()


def _work(
    engine: Engine,
    max_tasks: int | None,
    folder: bool,
    drafting: bool,
    client: Client | None,
    handler_threads: int = 1,
    notify_threads: int = 1,
    concurrency: int = 1,
) -> None:
    drafter = Worker(engine, report=_say, concurrency=concurrency)
    stop = threading.Event()

    def request_stop(*_: object) -> None:  # SIGTERM: finish the current draft and handler
        stop.set()
        drafter.stop()

    signal.signal(signal.SIGTERM, request_stop)
    handlers = _start_handlers(engine, client, stop, handler_threads)
    notifier = _start_notifications(engine, stop, notify_threads)
    channel = FolderChannel(engine, engine.settings.review_dir, on_message=_say)
    try:
        if folder:
            channel.start()
        if drafting:
            warn_of_model_problems(engine)
            at_once = f", up to {concurrency} at once" if concurrency > 1 else ""
            err.print(f"{drafter.name} drafting{at_once}; Ctrl-C to stop")
            drafter.run(max_tasks)
        else:
            stop.wait()
    except KeyboardInterrupt:
        err.print("stopped")
    finally:
        request_stop()
        channel.stop()
        for thread in (handlers, notifier):
            if thread is not None:
                thread.join()
    if any(thread is not None and thread.failed for thread in (handlers, notifier)):
        raise typer.Exit(EXIT_ERROR)


class _HandlerThread(threading.Thread):
    """The app's handlers (or the notifications), run beside the drafting loop until
    ``stop`` is set."""

    def __init__(
        self, pool: HandlerPool | NotificationPool, stop: threading.Event, what: str = "handlers"
    ) -> None:
        super().__init__(name=f"placet-{what}")
        self.pool = pool
        self.stop = stop
        self.what = what
        self.failed = False

    def run(self) -> None:
        try:
            self.pool.run(self.stop)
        except PlacetError as exc:  # the database went away: stop the whole worker, visibly
            self.failed = True
            _say(f"{self.what} stopped: {exc.message}")
            os.kill(os.getpid(), signal.SIGTERM)


def _start_notifications(
    engine: Engine, stop: threading.Event, threads: int
) -> _HandlerThread | None:
    """Send the configured channels' notifications beside the drafting loop (0: not here)."""
    channels = engine.settings.channels.addresses
    if not threads or not channels:
        return None
    at_once = f" ({threads} at a time)" if threads > 1 else ""
    err.print(plain(f"sending notifications{at_once} to: {', '.join(channels)}"))
    pool = NotificationPool(engine, threads, _say)
    thread = _HandlerThread(pool, stop, "notifications")
    thread.start()
    return thread


def _start_handlers(
    engine: Engine, client: Client | None, stop: threading.Event, threads: int
) -> _HandlerThread | None:
    """Run the app's handlers, and those advancing pipelines, beside the drafting loop,
    until ``stop`` is set."""
    chosen = pipeline_handlers(engine)
    if client is not None:
        if not len(client.handlers):
            err.print("the app registers no on_approved / on_rejected handlers")
        chosen = [*client.handlers, *chosen]
    if not chosen:
        return None
    names = ", ".join(handler.name for handler in chosen)
    at_once = f" ({threads} at a time)" if threads > 1 else ""
    err.print(plain(f"running handlers{at_once}: {names}"))
    thread = _HandlerThread(HandlerPool(engine, chosen, threads, _say), stop)
    thread.start()
    return thread


@handle_errors
def watch() -> None:
    """Watch the review folder and turn file moves into decisions, until Ctrl-C."""
    with open_engine() as engine:
        root = engine.settings.review_dir
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with FolderChannel(engine, root, on_message=_say):
            err.print(f"watching {root}/ (pending, approved, rejected); Ctrl-C to stop")
            try:
                stop.wait()
            except KeyboardInterrupt:
                err.print("stopped")
