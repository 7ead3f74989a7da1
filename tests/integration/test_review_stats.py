"""The review numbers on the stats page and in /metrics, from tasks built through the engine.

One day of a legal team, on a test clock: a clause approved by li (in two groups) after
30 minutes, one escalated to maria and approved by her after 5 hours, one escalated and
still waiting, one reminded and waiting, one not due yet, an e-mail rejected by zoe (in
no group) after 10 minutes, and an offer its deadline rejected (nobody's decision).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from placet.config import Settings
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.domain.stats import NO_GROUP, TimeSummary
from placet.engine import DecisionRequest, Engine, accounts
from placet.engine.stats import review_numbers
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person
from placet.web.render import duration
from tests.integration.test_api import sample
from tests.integration.web_helpers import WebWorld, web_world

HOUR = 3600.0
T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC
GROUPS = {"legal": ("ana", "li"), "finance": ("li", "omar"), "managers": ("maria",)}
TOML = """\
[groups]
legal = ["ana", "li"]
finance = ["li", "omar"]
managers = ["maria"]

[kinds.clause]
template = "A clause about {topic}."
reviewers = ["group:legal"]
remind_after = "1h"
escalate_after = "4h"
escalate_to = ["group:managers"]
deadline = "1d"

[kinds.offer]
template = "An offer about {topic}."
deadline = "1h"

[kinds.onboarding_email]
template = "Welcome {topic}."
"""
KINDS = {
    "clause": TaskKind(
        name="clause",
        template="A clause about {topic}.",
        reviewers=("group:legal",),
        remind_after=HOUR,
        escalate_after=4 * HOUR,
        escalate_to=("group:managers",),
        deadline=24 * HOUR,
    ),
    "offer": TaskKind(name="offer", template="An offer about {topic}.", deadline=HOUR),
    "onboarding_email": TaskKind(name="onboarding_email", template="Welcome {topic}."),
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def drafted(engine: Engine, kind: str) -> Task:
    task = engine.submit(kind, {"topic": "fees"}, "rita", claim_as="worker:test:1")
    return engine.draft(task, "worker:test:1")


def a_day_of_reviews(engine: Engine, clock: Clock, li_approves: Callable[[Task], None]) -> None:
    """The day the module's docstring tells, through the engine (and li's door)."""
    approved_by_li, escalated_then_approved, escalated = (drafted(engine, "clause") for _ in "abc")
    rejected_by_zoe, lapsed = drafted(engine, "onboarding_email"), drafted(engine, "offer")
    clock.now = T0 + 600
    engine.decide(
        DecisionRequest(rejected_by_zoe.id, DecisionKind.REJECT, person("zoe"), reason="No.")
    )
    clock.now = T0 + 1800
    li_approves(engine.get(approved_by_li.id))
    clock.now = T0 + HOUR
    engine.fire_timers()  # reminders for the two waiting clauses; the offer's deadline
    clock.now = T0 + 3 * HOUR
    drafted(engine, "clause")  # reminded at 4h
    clock.now = T0 + 4 * HOUR
    engine.fire_timers()  # two escalations, their reminders, and the new clause's first
    clock.now = T0 + 4.5 * HOUR
    drafted(engine, "clause")  # nothing due yet
    clock.now = T0 + 5 * HOUR
    maria = DecisionRequest(escalated_then_approved.id, DecisionKind.APPROVE, person("maria"))
    engine.decide(maria)
    assert engine.get(lapsed.id).status is TaskStatus.REJECTED
    assert engine.get(escalated.id).status is TaskStatus.AWAITING_REVIEW


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(url: str, clock: Clock) -> Iterator[Engine]:
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds=KINDS, groups=GROUPS)
    made = Engine(SqlStore(url), settings, provider_for=lambda _model: provider, clock=clock)
    yield made
    made.store.close()


def test_the_numbers_count_touches_groups_overdue_and_escalations(
    engine: Engine, clock: Clock
) -> None:
    def li_approves(task: Task) -> None:
        engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("li")))

    a_day_of_reviews(engine, clock, li_approves)
    numbers = review_numbers(engine)
    stats, overdue = numbers.stats, numbers.overdue
    assert stats.tasks_scanned == 7 and overdue.tasks_scanned == 3
    assert stats.touch_summaries() == [
        TimeSummary("clause", 2, (1800 + 5 * HOUR) / 2, 5 * HOUR),
        TimeSummary("onboarding_email", 1, 600, 600),
    ]
    assert stats.group_summaries() == [
        TimeSummary(NO_GROUP, 1, 600, 600),
        TimeSummary("finance", 1, 1800, 1800),  # li is in finance and in legal
        TimeSummary("legal", 1, 1800, 1800),
        TimeSummary("managers", 1, 5 * HOUR, 5 * HOUR),
    ]
    assert overdue.overdue == {"clause": 2, "offer": 0}
    assert overdue.escalated == {"clause": 1, "offer": 0}
    assert [(e.day, e.kind) for e in stats.escalations] == [("2027-01-15", "clause")] * 2
    # The overdue count is the one `placet ls --overdue` lists.
    waiting = engine.list_tasks(TaskFilter((TaskStatus.AWAITING_REVIEW,), limit=100))
    assert sum(engine.overdue(task) for task in waiting) == 2


# -- the page, its charts and /metrics ------------------------------------------------------------


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def world(tmp_path: Path, clock: Clock) -> Iterator[WebWorld]:
    with web_world(tmp_path, toml=TOML, clock=clock) as found:
        found.add_user("li", "reviewer")
        yield found


@pytest.fixture
def day(world: WebWorld, clock: Clock) -> WebWorld:
    li = world.client_as("li")

    def li_approves(task: Task) -> None:
        # Through the API: the dashboard's form would also take the next item for li (a
        # touch of its own, which would move the figures this day is built to give).
        body = {"kind": "approve", "draft_id": task.current_draft_id, "version": task.version}
        assert li.post(f"/api/v1/tasks/{task.id}/decisions", json=body).status_code == 200

    a_day_of_reviews(world.engine, clock, li_approves)
    return world


def cells(html: str, attribute: str, value: str) -> list[str]:
    """The cells of the table row marked ``attribute="value"``, as text."""
    row = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>', html, re.DOTALL)
    assert row, f"no row {attribute}={value}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.DOTALL)
    ]


def test_the_stats_page_shows_touches_groups_overdue_and_escalations(day: WebWorld) -> None:
    client, _ = day.session_client("li")
    html = client.get("/stats").text
    median, p90 = duration((1800 + 5 * HOUR) / 2), duration(5 * HOUR)
    assert cells(html, "data-kind", "clause") == ["clause", "2", median, p90, "2", "1", "2"]
    ten_minutes = duration(600)
    assert cells(html, "data-kind", "onboarding_email") == [
        "onboarding_email",
        "1",
        ten_minutes,
        ten_minutes,
        "—",
        "—",
        "0",
    ]
    assert cells(html, "data-kind", "offer") == ["offer", "0", "-", "-", "0", "0", "0"]
    half_hour = duration(1800)
    assert cells(html, "data-group", "finance") == ["finance", "1", half_hour, half_hour]
    assert cells(html, "data-group", "legal") == ["legal", "1", half_hour, half_hour]
    assert cells(html, "data-group", "managers") == ["managers", "1", p90, p90]
    assert cells(html, "data-group", NO_GROUP) == [NO_GROUP, "1", ten_minutes, ten_minutes]
    assert re.search(r'id="overdue-total">2<', html) and re.search(
        r'id="escalations-total">2<', html
    )
    assert "1 still awaiting review" in html
    assert "A person in two groups counts in both" in html  # the definitions are on the page


def values_of(svg: str) -> list[str]:
    """The values a pygal chart shows in its tooltips, in order."""
    return re.findall(r'<desc class="value">([^<]*)</desc>', svg)


def test_the_charts_draw_the_same_numbers(day: WebWorld) -> None:
    client, _ = day.session_client("li")
    charts = {
        name: client.get(f"/stats/{name}.svg")
        for name in ("first-touch", "groups", "overdue", "escalations")
    }
    for chart in charts.values():
        assert chart.headers["content-type"].startswith("image/svg+xml")
        assert "<script" not in chart.text
    touch = charts["first-touch"].text
    assert "Time to first touch (hours)" in touch
    # clause, onboarding_email: medians 2.75 h and 10 min, then the 90th percentiles
    assert values_of(touch) == ["2.8", "0.2", "5", "0.2"]
    groups = charts["groups"].text
    assert values_of(groups) == ["0.2", "0.5", "0.5", "5", "0.2", "0.5", "0.5", "5"]
    assert values_of(charts["overdue"].text) == ["2", "0", "1", "0"]  # clause, offer
    escalations = charts["escalations"].text
    assert values_of(escalations) == ["2"] and "01-15" in escalations


def test_metrics_report_the_same_numbers(day: WebWorld) -> None:
    text = day.client().get("/metrics").text
    assert sample(text, "placet_overdue_tasks", kind="clause") == 2
    assert sample(text, "placet_overdue_tasks", kind="offer") == 0
    assert 'placet_overdue_tasks{kind="offer"} 0.0' in text
    assert 'placet_overdue_tasks{kind="onboarding_email"}' not in text  # it has no timers
    assert sample(text, "placet_escalated_awaiting_tasks", kind="clause") == 1
    assert sample(text, "placet_recent_escalations", kind="clause") == 2
    touch = "placet_time_to_first_touch_seconds"
    assert sample(text, touch, kind="clause", quantile="0.5") == (1800 + 5 * HOUR) / 2
    assert sample(text, touch, kind="clause", quantile="0.9") == 5 * HOUR
    assert sample(text, touch, kind="onboarding_email", quantile="0.5") == 600
    assert sample(text, "placet_first_touches", kind="clause") == 2
    group = "placet_group_time_to_decision_seconds"
    assert sample(text, group, group="managers", quantile="0.5") == 5 * HOUR
    assert sample(text, group, group="finance", quantile="0.9") == 1800
    assert sample(text, group, group=NO_GROUP, quantile="0.5") == 600
    assert sample(text, "placet_group_decisions", group="legal") == 1
    assert sample(text, "placet_stats_tasks_scanned", scan="history") == 7
    assert sample(text, "placet_stats_tasks_scanned", scan="awaiting_review") == 3
