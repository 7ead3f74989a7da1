"""Channels failing for too long, as the dashboard's banner, ``/readyz`` and ``/metrics`` say.

A channel whose tries have all failed for longer than ``[channels] alert_after`` is
an outage people must hear of, or notifications stop silently and a queue fills
with nobody looking. The reading is each channel's health row (a tiny table,
written by whichever worker sends), kept for a couple of seconds so every page,
probe and scrape in that time shares one read. Each outage found raises
``placet_channel_alerts_total`` once in this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from placet.channels.notices import channel_alerts
from placet.domain.notifications import ChannelHealth
from placet.domain.timers import shown_duration
from placet.engine import Engine
from placet.errors import PlacetError
from placet.web.metrics import Metrics

log = logging.getLogger("placet.web")
KEPT_SECONDS = 2.0


class ChannelWatch:
    """Which configured channels have been failing for longer than ``alert_after``."""

    def __init__(
        self,
        engine: Engine,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        kept_seconds: float = KEPT_SECONDS,
    ) -> None:
        self._engine = engine
        self._metrics = metrics
        self._clock = clock
        self.kept_seconds = kept_seconds
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._alerts: list[ChannelHealth] = []
        self._counted: dict[str, float] = {}  # channel -> the outage (failing_since) counted

    def alerts(self) -> list[ChannelHealth]:
        """The channels failing too long, longest first (none when none are configured)."""
        if not self._engine.settings.channels.configured:
            return []
        now = self._clock()
        with self._lock:
            if now - self._read_at < self.kept_seconds:
                return list(self._alerts)
            try:
                found = channel_alerts(self._engine, now)
            except PlacetError as exc:  # the store's own outage is /readyz's other half
                log.warning("could not read the channels' health: %s", exc.message)
                return list(self._alerts)
            self._read_at, self._alerts = now, found
            for alert in found:
                if self._counted.get(alert.channel) != alert.failing_since:
                    self._counted[alert.channel] = alert.failing_since or 0.0
                    self._metrics.channel_alerts.labels(alert.channel).inc()
            return list(found)

    def said(self, alert: ChannelHealth) -> str:
        """``webhook:ops has failed for 12m: HTTP 500``."""
        since = shown_duration(alert.failing_for(self._clock()))
        return f"{alert.channel} has failed for {since}: {alert.last_error or 'no answer'}"
