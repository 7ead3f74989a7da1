"""Prometheus metrics for one app, in a registry of its own.

Queue depth is read from the store at scrape time, so it is right whichever
process changed the queue. So are the review numbers the stats page shows
(``ReviewStats``): overdue and escalated tasks now, escalations, time to first
touch per kind and time to the final decision per reviewer group, from the
stats page's shared reading (``web/stats_cache.py``: bounded scans, read at
most every few seconds however often Prometheus scrapes). Decisions, time to
decision, drafting latency, tokens and provider errors are counted in this
process as they happen: the API and the dashboard report decisions, and the
in-process worker reports drafts (``MeteredWorker``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from placet.domain.models import Draft, Task, TaskDetail, TaskStatus
from placet.domain.notifications import ChannelHealth
from placet.engine import ChunkSink, Engine
from placet.engine.reading import Reads
from placet.engine.stats import ReviewNumbers
from placet.engine.worker import Report, Worker
from placet.errors import PlacetError

log = logging.getLogger("placet.web")

# A reviewer answers in seconds to days; a draft takes a fraction of a second to minutes.
DECISION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 86400, 7 * 86400)
DRAFTING_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


class QueueDepth(Collector):
    """``placet_queue_depth{kind,status}``, counted by the store when scraped."""

    def __init__(self, state: Reads, kinds: Iterable[str] = ()) -> None:
        self._state = state
        self._kinds = tuple(kinds)

    def describe(self) -> Iterator[Metric]:
        """The metric families (without touching the database)."""
        yield self._families()[0]
        yield self._families()[1]

    def collect(self) -> Iterator[Metric]:
        """The current counts; ``placet_store_up`` says whether the store answered."""
        depth, up = self._families()
        try:
            counts = self._state.count_by_status()
        except PlacetError as exc:
            log.warning("metrics: the store did not answer: %s", exc.message)
            up.add_metric([], 0)
            yield up
            return
        # Configured kinds show zeros, so a series does not vanish when its queue empties.
        for kind in self._kinds:
            for status in TaskStatus:
                counts.setdefault((kind, status), 0)
        for (kind, status), count in sorted(counts.items()):
            depth.add_metric([kind, status.value], count)
        up.add_metric([], 1)
        yield depth
        yield up

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "placet_queue_depth", "Tasks by kind and status.", labels=["kind", "status"]
        )
        up = GaugeMetricFamily("placet_store_up", "1 when the store answered the scrape.")
        return depth, up


QUANTILES = (("0.5", "median_seconds"), ("0.9", "p90_seconds"))


class ReviewStats(Collector):
    """The stats page's review numbers, from its shared reading, when scraped.

    Each is a gauge: counts now (overdue, escalated and still awaiting review),
    and, over the stats page's window (the newest ``SCAN_LIMIT`` tasks),
    escalations and the median and 90th percentile of the times.
    """

    def __init__(self, read: Callable[[], ReviewNumbers]) -> None:
        self._read = read

    def describe(self) -> Iterator[Metric]:
        """The metric families (without touching the database)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """The numbers of the latest reading (none when the store does not answer)."""
        try:
            numbers = self._read()
        except PlacetError as exc:  # placet_store_up (QueueDepth) says the store is down
            log.warning("metrics: could not read the review stats: %s", exc.message)
            return
        overdue, escalated, recent, touch, touches, group, decided, scanned = self._families()
        for kind, count in sorted(numbers.overdue.overdue.items()):
            overdue.add_metric([kind], count)
        for kind, count in sorted(numbers.overdue.escalated.items()):
            escalated.add_metric([kind], count)
        for kind, count in numbers.stats.escalations_by_kind().items():
            recent.add_metric([kind], count)
        for row in numbers.stats.touch_summaries():
            touches.add_metric([row.label], row.count)
            for quantile, field in QUANTILES:
                touch.add_metric([row.label, quantile], getattr(row, field))
        for row in numbers.stats.group_summaries():
            decided.add_metric([row.label], row.count)
            for quantile, field in QUANTILES:
                group.add_metric([row.label, quantile], getattr(row, field))
        scanned.add_metric(["history"], numbers.stats.tasks_scanned)
        scanned.add_metric(["awaiting_review"], numbers.overdue.tasks_scanned)
        yield from (overdue, escalated, recent, touch, touches, group, decided, scanned)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        window = "on the stats page's window (the newest tasks)"
        return (
            GaugeMetricFamily(
                "placet_overdue_tasks",
                "Tasks awaiting review that were reminded or escalated (placet ls --overdue).",
                labels=["kind"],
            ),
            GaugeMetricFamily(
                "placet_escalated_awaiting_tasks",
                "Tasks awaiting review whose draft under review was escalated.",
                labels=["kind"],
            ),
            GaugeMetricFamily(
                "placet_recent_escalations", f"Escalations {window}.", labels=["kind"]
            ),
            GaugeMetricFamily(
                "placet_time_to_first_touch_seconds",
                f"From the first draft awaiting review to a person's first event, {window}.",
                labels=["kind", "quantile"],
            ),
            GaugeMetricFamily(
                "placet_first_touches", f"Tasks touched by a person, {window}.", labels=["kind"]
            ),
            GaugeMetricFamily(
                "placet_group_time_to_decision_seconds",
                "From the first draft awaiting review to the decision that ended the task, "
                f"by the deciding person's reviewer groups, {window}.",
                labels=["group", "quantile"],
            ),
            GaugeMetricFamily(
                "placet_group_decisions",
                f"Final decisions by the deciding person's reviewer groups, {window}.",
                labels=["group"],
            ),
            GaugeMetricFamily(
                "placet_stats_tasks_scanned",
                "Tasks the review numbers were read from: the history and those awaiting review.",
                labels=["scan"],
            ),
        )


class Outbox(Protocol):
    """What the metrics read of the notifications outbox (the engine's ``notifications()``)."""

    def health(self) -> list[ChannelHealth]:
        """Each channel's health row."""
        ...

    def undelivered(self) -> dict[tuple[str, str], int]:
        """Notifications pending or failed, by channel and status."""
        ...


class ChannelStats(Collector):
    """The notification channels, when scraped: how long each has been failing, what
    waits or gave up, and how many outages this process found (each counted once)."""

    def __init__(
        self,
        alerts: Callable[[], object],
        outbox: Callable[[], Outbox],
        counter: Counter,
    ) -> None:
        self._alerts = alerts
        self._outbox = outbox
        self._counter = counter

    def describe(self) -> Iterator[Metric]:
        """The metric families (without touching the database)."""
        yield from self._families()
        yield from self._counter.describe()

    def collect(self) -> Iterator[Metric]:
        """Read the channels' health and the outbox's backlog; then the outage counter."""
        failing, undelivered = self._families()
        try:
            self._alerts()  # first: an outage found now is counted in this very scrape
            outbox = self._outbox()
            now = time.time()
            for row in outbox.health():
                failing.add_metric([row.channel], row.failing_for(now))
            for (channel, status), count in sorted(outbox.undelivered().items()):
                undelivered.add_metric([channel, status], count)
        except PlacetError as exc:  # placet_store_up (QueueDepth) says the store is down
            log.warning("metrics: could not read the channels: %s", exc.message)
        yield failing
        yield undelivered
        yield from self._counter.collect()

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "placet_channel_failing_seconds",
                "How long each channel's tries have all failed (0: its last try succeeded).",
                labels=["channel"],
            ),
            GaugeMetricFamily(
                "placet_notifications_undelivered",
                "Notifications waiting to be sent (pending) or given up (failed), by channel.",
                labels=["channel", "status"],
            ),
        )


class Metrics:
    """The app's metrics; ``render()`` gives the Prometheus text format."""

    def __init__(self, state: Reads | None = None, kinds: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "placet_decisions",
            "Decisions by task kind and verdict.",
            ["kind", "verdict"],
            registry=self.registry,
        )
        self.time_to_decision = Histogram(
            "placet_time_to_decision_seconds",
            "From the draft being saved to its decision.",
            ["kind"],
            buckets=DECISION_BUCKETS,
            registry=self.registry,
        )
        self.drafting = Histogram(
            "placet_drafting_seconds",
            "How long the model took to write a draft.",
            ["kind"],
            buckets=DRAFTING_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "placet_draft_tokens",
            "Tokens used by drafts, by kind and type (prompt, completion).",
            ["kind", "type"],
            registry=self.registry,
        )
        self.provider_errors = Counter(
            "placet_provider_errors",
            "Drafts that failed because the model provider failed.",
            ["kind"],
            registry=self.registry,
        )
        # Collected with the channels' other numbers (``watch_channels``), after they are read.
        self.channel_alerts = Counter(
            "placet_channel_alerts",
            "Outages found: a channel failing for longer than [channels] alert_after "
            "(each outage counted once by this process).",
            ["channel"],
            registry=None,
        )
        if state is not None:
            self.registry.register(QueueDepth(state, kinds))

    def watch_channels(self, alerts: Callable[[], object], outbox: Callable[[], Outbox]) -> None:
        """Report the notification channels' health, read through these when scraped."""
        self.registry.register(ChannelStats(alerts, outbox, self.channel_alerts))

    def watch_reviews(self, read: Callable[[], ReviewNumbers]) -> None:
        """Report the stats page's review numbers, read through ``read`` when scraped."""
        self.registry.register(ReviewStats(read))

    def render(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)

    def decided(self, detail: TaskDetail, draft_id: str | None) -> None:
        """Count the decision made on ``draft_id`` and how long after the draft it came."""
        decision = next((d for d in detail.decisions if d.draft_id == draft_id), None)
        draft = next((d for d in detail.drafts if d.id == draft_id), None)
        if decision is None or draft is None:
            return
        kind = detail.task.kind
        self.decisions.labels(kind, decision.kind.value).inc()
        waited = max(0.0, decision.created_at - draft.created_at)
        self.time_to_decision.labels(kind).observe(waited)

    def drafted(self, task: Task, draft: Draft) -> None:
        """Count a saved draft's latency and tokens."""
        self.drafting.labels(task.kind).observe(draft.latency_ms / 1000)
        self.tokens.labels(task.kind, "prompt").inc(draft.usage.prompt_tokens)
        self.tokens.labels(task.kind, "completion").inc(draft.usage.completion_tokens)

    def provider_failed(self, task: Task) -> None:
        """Count a draft lost to a provider failure."""
        self.provider_errors.labels(task.kind).inc()


class MeteredWorker(Worker):
    """The drafting worker, reporting each draft's outcome to the metrics.

    The outcome is read back from the store after each draft (the draft's own
    latency and token counts, or the task's ``failed`` status), so the numbers
    are the ones the audit trail keeps.
    """

    def __init__(
        self,
        engine: Engine,
        metrics: Metrics,
        report: Report = print,
        stream_to: Callable[[Task], ChunkSink | None] | None = None,
        concurrency: int = 1,
    ) -> None:
        super().__init__(engine, report=report, stream_to=stream_to, concurrency=concurrency)
        self._metrics = metrics

    def _draft(self, task: Task) -> None:
        super()._draft(task)
        try:
            self._observe(task)
        except PlacetError as exc:  # metrics never stop the drafting
            log.warning("metrics: could not read the outcome of %s: %s", task.id, exc.message)

    def _observe(self, task: Task) -> None:
        after = self.engine.get(task.id)
        if after.status is TaskStatus.FAILED:
            self._metrics.provider_failed(after)
        elif after.current_draft_id and after.current_draft_id != task.current_draft_id:
            self._metrics.drafted(after, self.engine.get_draft(after.current_draft_id))
