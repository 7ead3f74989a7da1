"""The stats page's charts, drawn on the server as SVG with pygal.

The numbers come from ``placet.engine.stats`` (counted by ``placet.domain.stats``).
Charts are served as standalone ``image/svg+xml`` documents and shown with
``<img>``: an SVG used as an image never runs script, and pygal's own config
script is stripped as well.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from typing import Any

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from placet.domain.stats import VERDICTS, Overdue, Stats

# pygal appends a legacy import hook (for its map plugins, unused here) to
# sys.meta_path; on Python 3.10+ it makes every later failed import, anywhere in
# the process, raise an ImportWarning. Take it out again.
sys.meta_path[:] = [hook for hook in sys.meta_path if not isinstance(hook, pygal.PluginImportFixer)]

VERDICT_LABELS = {
    "approve": "Approved",
    "edit": "Approved with edits",
    "revise": "Sent back for revision",
    "reject": "Rejected",
}
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


# -- charts -------------------------------------------------------------------------


def decisions_chart(stats: Stats, kind: str | None = None) -> bytes:
    """A stacked bar chart of decisions per day by verdict (for one kind, or all)."""
    points = [p for p in stats.points if kind is None or p.kind == kind]
    days = sorted({p.day for p in points})[-MAX_DAYS:]
    chart = pygal.StackedBar(**_config(f"Decisions per day — {kind or 'all kinds'}"))
    chart.x_labels = [day[5:] for day in days]  # "01-31": the year adds nothing here
    by_day: dict[tuple[str, str], int] = defaultdict(int)
    for point in points:
        by_day[(point.day, point.verdict)] += 1
    for verdict in VERDICTS:
        values = [by_day.get((day, verdict)) or None for day in days]
        chart.add(VERDICT_LABELS[verdict], values)
    return _svg(chart)


def learning_chart(stats: Stats, kind: str | None = None) -> bytes:
    """Per day: the share of approvals made on the first draft and the mean drafts per
    approval; a dot at the top marks each day lessons came into use (for one kind, or all)."""
    days = stats.learning(kind)
    title = f"Learning — {kind or 'all kinds'}"
    chart = pygal.Line(**_config(title, "No approvals yet"), secondary_range=(0, 5), range=(0, 100))
    chart.x_labels = [day.day[5:] for day in days]
    rates = [None if d.first_pass_rate is None else round(100 * d.first_pass_rate) for d in days]
    chart.add("First-pass approvals (%)", rates)
    mean = [None if d.mean_attempts is None else round(d.mean_attempts, 2) for d in days]
    chart.add("Drafts per approval", mean, secondary=True)
    marks = [100 if d.lessons_approved else None for d in days]
    chart.add("Lessons approved", marks, stroke=False, dots_size=6)
    return _svg(chart)


def waits_chart(stats: Stats) -> bytes:
    """A bar chart of the time to decision per kind: median and 90th percentile."""
    rows = [
        (s.kind, s.median_seconds, s.p90_seconds)
        for s in stats.summaries()
        if s.median_seconds is not None and s.p90_seconds is not None
    ]
    return _times_chart("Time to decision", rows, "No decisions yet")


def first_touch_chart(stats: Stats) -> bytes:
    """A bar chart of the time to first touch per kind: median and 90th percentile."""
    rows = [(s.label, s.median_seconds, s.p90_seconds) for s in stats.touch_summaries()]
    return _times_chart("Time to first touch", rows, "No task touched yet")


def group_decisions_chart(stats: Stats) -> bytes:
    """A bar chart of the time to the final decision per reviewer group: median and p90."""
    rows = [(s.label, s.median_seconds, s.p90_seconds) for s in stats.group_summaries()]
    return _times_chart("Time to final decision by reviewer group", rows, "No final decisions yet")


def overdue_chart(overdue: Overdue) -> bytes:
    """A bar chart, per kind with timers, of the tasks overdue now and those escalated."""
    chart = pygal.Bar(**_config("Overdue now", "No kind has timers"))
    kinds = sorted(overdue.overdue)
    chart.x_labels = kinds
    chart.add("overdue", [overdue.overdue[kind] for kind in kinds])
    chart.add("escalated, awaiting review", [overdue.escalated.get(kind, 0) for kind in kinds])
    return _svg(chart)


def escalations_chart(stats: Stats, kind: str | None = None) -> bytes:
    """A stacked bar chart of escalations per day by kind (for one kind, or all)."""
    found = [e for e in stats.escalations if kind is None or e.kind == kind]
    days = sorted({e.day for e in found})[-MAX_DAYS:]
    title = f"Escalations per day — {kind or 'all kinds'}"
    chart = pygal.StackedBar(**_config(title, "No escalations yet"))
    chart.x_labels = [day[5:] for day in days]
    by_day = Counter((e.day, e.kind) for e in found)
    for name in sorted({e.kind for e in found}):
        chart.add(name, [by_day.get((day, name)) or None for day in days])
    return _svg(chart)


def _times_chart(title: str, rows: list[tuple[str, float, float]], no_data: str) -> bytes:
    """Median and 90th percentile per label, in a unit that suits the longest."""
    unit, size = _unit(max((p90 for _label, _median, p90 in rows), default=0.0))
    chart = pygal.Bar(**_config(f"{title} ({unit})", no_data))
    chart.x_labels = [label for label, _median, _p90 in rows]
    chart.add("median", [round(median / size, 1) for _label, median, _p90 in rows])
    chart.add("90th percentile", [round(p90 / size, 1) for _label, _median, p90 in rows])
    return _svg(chart)


def _unit(longest: float) -> tuple[str, float]:
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if longest >= 2 * size:
            return unit, size
    return "seconds", 1.0


def _config(title: str, no_data: str = "No decisions yet") -> dict[str, Any]:
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
        "no_data_text": no_data,
        "margin": 16,
        "margin_bottom": 28,  # room for the legend's descenders
    }


def _svg(chart: Any) -> bytes:
    rendered: bytes = chart.render()
    # pygal always embeds a small config script; strip it (text inside an XML
    # element is escaped, so a literal "</script>" can only be the real end tag).
    return _SCRIPT.sub("", rendered.decode("utf-8")).encode("utf-8")
