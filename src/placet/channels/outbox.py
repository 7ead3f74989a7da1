"""Sending the notifications outbox after commit, at least once (``placet worker``, ``serve``).

The loop: claim the most overdue pending notification under a lease (the try
is counted then), send it through its channel's sender, and record how it
went. A receiver's 2xx ends it; any other answer, a timeout or no connection
schedules the next try after a doubling delay with jitter (or, a 429 or 503,
after the ``Retry-After`` asked for, if longer), until the channel's
``max_attempts`` are spent: then it waits as ``failed`` (``placet channels
failed``, ``placet channels retry ID``). Every try carries the same message id.

A worker killed mid-send (``kill -9``) never records its try: once the lease
has run out, another worker (or this one, restarted) claims the notification
and sends it again, with the same id. The lease outlasts the longest a send
may take (the channel's timeout), so no two workers send one message at once.

Idle, the loop sleeps on the store's change signal: a change committed
anywhere, which may have recorded notifications, wakes it at once.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping

from placet.channels.base import Sender
from placet.channels.email import EmailSender
from placet.channels.slack import slack_senders
from placet.channels.webhook import Sent, WebhookSender
from placet.domain.channels import ChannelSettings
from placet.domain.notifications import NotificationRecord, retry_delay, shown_error
from placet.engine import Engine
from placet.engine.worker import worker_name
from placet.errors import UsageError

Report = Callable[[str], None]
IDLE_SECONDS = 1.0  # the longest sleep: also when nothing signals, a due retry is noticed
MIN_IDLE_SECONDS = 0.05
LEASE_MARGIN_SECONDS = 2.0  # beyond the longest send: a lease never lapses mid-send
LOST = "the last try never finished (the worker sending it was lost)"


def senders_for(channels: ChannelSettings, engine: Engine | None = None) -> dict[str, Sender]:
    """A sender for every configured channel, by address (Slack's need the engine, to keep
    what they posted)."""
    base_url = engine.settings.base_url if engine is not None else None
    senders: dict[str, Sender] = {
        hook.address: WebhookSender(hook, base_url=base_url) for hook in channels.webhooks.values()
    }
    if channels.email is not None:
        senders[channels.email.address] = EmailSender(channels.email, base_url)
    if engine is not None:
        senders.update(slack_senders(channels, engine))
    return senders


class NotificationRunner:
    """Sends due notifications through their channels until stopped."""

    def __init__(
        self,
        engine: Engine,
        *,
        senders: Mapping[str, Sender] | None = None,
        name: str | None = None,
        report: Report = print,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.channels = engine.settings.channels
        self.senders = dict(senders) if senders is not None else senders_for(self.channels, engine)
        self.name = name or worker_name("notify")
        self.outbox = engine.notifications()
        self._report = report
        self._clock = clock
        self._jitter = jitter
        # An e-mail's try is four exchanges (connecting, greeting, TLS and login, sending).
        longest = max(
            (
                channel.timeout * (4 if channel is self.channels.email else 1)
                for channel in self.channels.every()
            ),
            default=0.0,
        )
        self.lease = max(engine.settings.lease_seconds, longest + LEASE_MARGIN_SECONDS)
        self.stop_requested = threading.Event()
        self.tries = 0

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Send until ``stop`` (or ``self.stop()``) is set."""
        stop = stop or self.stop_requested
        token = self.engine.change_token()  # read before each look, so no commit slips by
        try:
            while not stop.is_set() and not self.stop_requested.is_set():
                if self.run_one():
                    continue
                token = self.engine.wait_for_change(token, self._idle_seconds())
        finally:
            self.close()

    def run_pending(self) -> int:
        """Send everything due now, then return how many tries ran (for scripts, tests)."""
        before = self.tries
        while self.run_one():
            pass
        return self.tries - before

    def stop(self) -> None:
        """Finish the current send, then stop."""
        self.stop_requested.set()

    def close(self) -> None:
        """Close the senders' connections."""
        for sender in self.senders.values():
            sender.close()

    def _idle_seconds(self) -> float:
        due = self.outbox.next_due()
        if due is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(MIN_IDLE_SECONDS, due - self._clock()))

    # -- one try -----------------------------------------------------------------------

    def run_one(self) -> bool:
        """Claim one due notification and send it; False when none is due."""
        record = self.outbox.claim(self.name, self._clock(), self.lease)
        if record is None:
            return False
        self.tries += 1
        sender = self.senders.get(record.channel)
        channel = self.channels.get(record.channel)
        if sender is None or channel is None:
            self._give_up(record, f"channel {record.channel} is not configured here")
        elif record.attempts > channel.max_attempts:  # the earlier try never finished
            self._give_up(record, LOST)
        else:
            self._send(sender, record, channel.max_attempts, channel.retry_delay)
        return True

    def _send(
        self, sender: Sender, record: NotificationRecord, max_attempts: int, first_delay: float
    ) -> None:
        try:
            sent = sender.send(record.webhook_id, record.body)
        except BaseException:
            # Interrupted (Ctrl-C) or a sender's own bug: the try is handed back undone.
            self.outbox.hand_back(record, self._clock())
            raise
        now = self._clock()
        if sent.ok:
            if self.outbox.succeed(record, now, sent.code):
                self._say(record, f"delivered, {sent.said()}")
            return
        error = shown_error(sent.error or f"HTTP {sent.code}")
        if record.attempts >= max_attempts:
            if self.outbox.fail(record, error, sent.code, None, now):
                self._say(record, f"failed for good after {record.attempts} tries: {sent.said()}")
            return
        delay = _next_delay(record.attempts, first_delay, self._jitter(), sent)
        if self.outbox.fail(record, error, sent.code, now + delay, now):
            self._say(record, f"failed: {sent.said()}; next try in {delay:.1f} s")

    def _give_up(self, record: NotificationRecord, why: str) -> None:
        if self.outbox.fail(record, why, None, None, self._clock()):
            self._say(record, f"failed for good: {why}")

    def _say(self, record: NotificationRecord, what: str) -> None:
        self._report(
            f"{record.channel}: {record.event} of {record.task_id} "
            f"({record.webhook_id}, try {record.attempts}) {what}"
        )


def _next_delay(attempt: int, first_delay: float, jitter: float, sent: Sent) -> float:
    """The backoff after a failed try, or longer when the receiver asked for longer."""
    delay = retry_delay(attempt, first_delay, jitter)
    if sent.retry_after is not None:
        delay = max(delay, min(sent.retry_after, 3600.0))
    return delay


class NotificationPool:
    """Several runners on threads of one process, so a slow receiver does not hold up
    the others' messages."""

    def __init__(self, engine: Engine, threads: int, report: Report = print) -> None:
        if threads < 1:
            raise UsageError(f"notification threads must be at least 1, not {threads}")
        base = worker_name("notify")
        self.runners = [
            NotificationRunner(
                engine, name=base if threads == 1 else f"{base}-{index + 1}", report=report
            )
            for index in range(threads)
        ]

    def run(self, stop: threading.Event) -> None:
        """Run every runner until ``stop`` is set; the first error stops all, then is raised."""
        failures: list[BaseException] = []

        def run_one(runner: NotificationRunner) -> None:
            try:
                runner.run(stop)
            except BaseException as exc:
                failures.append(exc)
                stop.set()

        threads = [
            threading.Thread(target=run_one, args=(runner,), name=f"placet-{runner.name}")
            for runner in self.runners
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
