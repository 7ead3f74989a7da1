"""What the web layer needs, built once per app and found through the request."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from placet.domain.notifications import ChannelHealth
from placet.engine import Engine
from placet.engine.accounts import Accounts
from placet.engine.stats import ReviewNumbers, review_numbers
from placet.web.auth import Gate, Sessions, SignInForms, SignInLimiter
from placet.web.broker import Broker
from placet.web.channel_watch import ChannelWatch
from placet.web.counts import Counts, CountsCache
from placet.web.metrics import Metrics
from placet.web.stats_cache import StatsCache


@dataclass
class Services:
    """The engine, accounts, live updates, metrics and the auth gate for one app."""

    engine: Engine
    accounts: Accounts
    broker: Broker
    gate: Gate
    sessions: Sessions
    limiter: SignInLimiter
    sign_in_forms: SignInForms
    max_body_bytes: int = 1024 * 1024
    metrics: Metrics = field(default_factory=Metrics)
    count_cache: CountsCache | None = None
    stats_cache: StatsCache | None = None
    channel_watch: ChannelWatch | None = None

    def __post_init__(self) -> None:
        if self.count_cache is None:
            self.count_cache = CountsCache(self.engine.count_by_status)
        if self.stats_cache is None:
            self.stats_cache = StatsCache(lambda: review_numbers(self.engine))
        # The broker sees every commit (this process's or another's) through the
        # store's change signal; a commit drops the shared counts at once.
        self.broker.on_change(self.count_cache.invalidate)
        self.broker.on_change(self.stats_cache.invalidate)
        self.metrics.watch_reviews(self.review_numbers)
        if self.channel_watch is None:  # the banner, /readyz and /metrics share its reading
            self.channel_watch = ChannelWatch(self.engine, self.metrics)
        self.metrics.watch_channels(self.channel_alerts, self.engine.notifications)

    def counts(self, settled: bool = False) -> Counts:
        """Tasks by (kind, status), shared by every page and stream: see ``web/counts.py``."""
        assert self.count_cache is not None
        return self.count_cache.get(settled)

    def review_numbers(self) -> ReviewNumbers:
        """The stats page's and the metrics' shared reading: see ``web/stats_cache.py``."""
        assert self.stats_cache is not None
        return self.stats_cache.get()

    def channel_alerts(self) -> list[ChannelHealth]:
        """The notification channels failing for longer than ``[channels] alert_after``."""
        assert self.channel_watch is not None
        return self.channel_watch.alerts()

    def settled_counts(self) -> Counts:
        """Counts read after any commit seen more than a quarter second ago (for streams)."""
        return self.counts(settled=True)


def services(request: Request) -> Services:
    """The app's services (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found
