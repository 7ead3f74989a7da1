"""The stats page's numbers and its charts, drawn on the server as SVG with pygal.

The numbers come from the audit events (a decision event follows the
``save_draft`` event of the draft it answers), so the stats agree with the
trail. Charts are served as standalone ``image/svg+xml`` documents and shown
with ``<img>``: an SVG used as an image never runs script, and pygal's own
config script is stripped as well.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from placet.domain.models import Event
from placet.domain.queries import TaskFilter
from placet.engine.reading import Reads

# pygal appends a legacy import hook (for its map plugins, unused here) to
# sys.meta_path; on Python 3.10+ it makes every later failed import, anywhere in
# the process, raise an ImportWarning. Take it out again.
sys.meta_path[:] = [hook for hook in sys.meta_path if not isinstance(hook, pygal.PluginImportFixer)]

VERDICTS = ("approve", "edit", "revise", "reject")
VERDICT_LABELS = {
    "approve": "Approved",
    "edit": "Approved with edits",
    "revise": "Sent back for revision",
    "reject": "Rejected",
}
SCAN_LIMIT = 1000  # the newest tasks the stats look at; keeps the page fast on big stores
MAX_DAYS = 30
# An SVG shown through <img> cannot run script; its own styles are inline, so
# this policy replaces the page policy for the chart responses only.
SVG_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#374151",
    foreground_strong="#111827",
    foreground_subtle="#e5e7eb",
    opacity="0.92",
    opacity_hover="1",
    colors=("#1f8a4c", "#38a3a5", "#d69e2e", "#c53030", "#3b5bdb", "#7048e8"),
    font_family=_FONT,
    label_font_family=_FONT,
    major_label_font_family=_FONT,
    title_font_family=_FONT,
    legend_font_family=_FONT,
    value_font_family=_FONT,
    tooltip_font_family=_FONT,
    no_data_font_family=_FONT,
    title_font_size=15,
    legend_font_size=12,
    label_font_size=11,
    major_label_font_size=11,
    no_data_font_size=16,
)


@dataclass(frozen=True)
class DecisionPoint:
    """One decision: when, on which kind, what, and how long the draft waited for it."""

    day: str
    kind: str
    verdict: str
    wait_seconds: float | None


@dataclass(frozen=True)
class KindSummary:
    """Counts per verdict and time to decision for one kind."""

    kind: str
    counts: dict[str, int]
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def total(self) -> int:
        """Every decision on this kind."""
        return sum(self.counts.values())


@dataclass
class Stats:
    """Decisions found in the newest tasks."""

    points: list[DecisionPoint] = field(default_factory=list)
    tasks_scanned: int = 0

    def kinds(self) -> list[str]:
        """The kinds that have decisions, by name."""
        return sorted({point.kind for point in self.points})

    def summaries(self) -> list[KindSummary]:
        """One summary per kind, by name."""
        return [_summary(kind, [p for p in self.points if p.kind == kind]) for kind in self.kinds()]

    def total(self) -> KindSummary:
        """The summary over every kind."""
        return _summary("all kinds", self.points)


def _summary(kind: str, points: list[DecisionPoint]) -> KindSummary:
    counts = Counter(point.verdict for point in points)
    waits = [p.wait_seconds for p in points if p.wait_seconds is not None]
    return KindSummary(
        kind,
        {verdict: counts.get(verdict, 0) for verdict in VERDICTS},
        statistics.median(waits) if waits else None,
        percentile(waits, 90) if waits else None,
    )


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile by the nearest-rank method (an actual observed value)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def collect_stats(store: Reads, limit: int = SCAN_LIMIT) -> Stats:
    """Decisions on the newest ``limit`` tasks, read from their events."""
    stats = Stats()
    for task in store.list_tasks(TaskFilter(limit=limit, newest_first=True)):
        stats.tasks_scanned += 1
        stats.points.extend(decision_points(task.kind, store.task_events(task.id)))
    return stats


def decision_points(kind: str, events: Iterable[Event]) -> list[DecisionPoint]:
    """The decisions in one task's events, each timed from its draft being saved."""
    points: list[DecisionPoint] = []
    drafted_at: float | None = None
    for event in events:
        if event.type == "save_draft":
            drafted_at = event.created_at
        elif event.type in VERDICTS:
            wait = event.created_at - drafted_at if drafted_at is not None else None
            points.append(DecisionPoint(_day(event.created_at), kind, event.type, wait))
    return points


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


# -- charts -------------------------------------------------------------------------


def decisions_chart(stats: Stats, kind: str | None = None) -> bytes:
    """A stacked bar chart of decisions per day by verdict (for one kind, or all)."""
    points = [p for p in stats.points if kind is None or p.kind == kind]
    days = sorted({p.day for p in points})[-MAX_DAYS:]
    chart = pygal.StackedBar(**_config(title=f"Decisions per day — {kind or 'all kinds'}"))
    chart.x_labels = [day[5:] for day in days]  # "01-31": the year adds nothing here
    by_day: dict[tuple[str, str], int] = defaultdict(int)
    for point in points:
        by_day[(point.day, point.verdict)] += 1
    for verdict in VERDICTS:
        values = [by_day.get((day, verdict)) or None for day in days]
        chart.add(VERDICT_LABELS[verdict], values)
    return _svg(chart)


def waits_chart(stats: Stats) -> bytes:
    """A bar chart of the time to decision per kind: median and 90th percentile."""
    summaries = [s for s in stats.summaries() if s.median_seconds is not None]
    longest = max((s.p90_seconds or 0.0 for s in summaries), default=0.0)
    unit, size = ("minutes", 60.0) if longest >= 120 else ("seconds", 1.0)
    chart = pygal.Bar(**_config(title=f"Time to decision ({unit})"))
    chart.x_labels = [s.kind for s in summaries]
    chart.add("median", [round((s.median_seconds or 0.0) / size, 1) for s in summaries])
    chart.add("90th percentile", [round((s.p90_seconds or 0.0) / size, 1) for s in summaries])
    return _svg(chart)


def _config(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "style": _STYLE,
        "width": 760,
        "height": 320,
        "js": [],  # no script from a CDN
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 4,
        "print_values": False,
        "show_y_guides": True,
        "x_label_rotation": 0,
        "truncate_label": 24,
        "no_data_text": "No decisions yet",
        "margin": 16,
        "margin_bottom": 28,  # room for the legend's descenders
    }


def _svg(chart: Any) -> bytes:
    rendered: bytes = chart.render()
    # pygal always embeds a small config script; strip it (text inside an XML
    # element is escaped, so a literal "</script>" can only be the real end tag).
    return _SCRIPT.sub("", rendered.decode("utf-8")).encode("utf-8")
