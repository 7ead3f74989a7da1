"""The supervisor's first reading: the scanners read every draft (and, apart, its input)
before a person does; the draft's event records what they found, the task row its risk and
flags, and every surface shows them. It never decides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placet.config import Settings, parse_kind
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.domain.supervision import Supervision
from placet.engine import DecisionRequest, Engine, supervising
from placet.engine.auditing import export_jsonl, verify_store
from placet.errors import ConfigError, PermissionDeniedError
from placet.store.sql import SqlStore
from placet.testing import FakeProvider
from tests.integration.web_helpers import WebWorld, web_world

WATCHED = TaskKind(
    name="reply", template="Reply to {customer}: {message}", supervisor=Supervision()
)
PLAIN = TaskKind(name="note", template="A note on {topic}.")
CARD = "4111 1111 1111 1111"  # a test Visa number: passes the Luhn check
DRAFT = f"Hi Maya, we charged your card {CARD}. Write to billing@example.com if it is wrong."


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    provider = FakeProvider()
    settings = Settings(database_url=url, kinds={"reply": WATCHED, "note": PLAIN})
    made = Engine(SqlStore(url), settings, provider_for=lambda _: provider)
    yield made
    made.store.close()


def proposed(engine: Engine, text: str = DRAFT, message: str = "Why was I charged?") -> str:
    values = {"customer": "Maya", "message": message}
    return engine.propose("reply", values, "sam", text).id


def test_a_draft_is_read_before_anyone_sees_it_and_the_chain_proves_the_reading(
    engine: Engine,
) -> None:
    task_id = proposed(engine)
    task = engine.get(task_id)
    assert task.status is TaskStatus.AWAITING_REVIEW  # the supervisor never decides
    assert (task.risk, task.flags) == (80, "card,email")
    saved = [e for e in engine.detail(task_id).events if e.type == "save_draft"][-1]
    found = {
        (f["type"], DRAFT[f["start"] : f["end"]]) for f in saved.payload["supervisor"]["findings"]
    }
    assert found == {("card", CARD), ("email", "billing@example.com")}
    assert verify_store(engine).ok


def test_what_the_input_holds_is_reported_apart_and_counts_for_less(engine: Engine) -> None:
    message = f"My card {CARD} was charged twice."
    task_id = proposed(engine, text="Hi Maya, we are looking into it.", message=message)
    task = engine.get(task_id)
    assert (task.risk, task.flags) == (40, None)  # half a card's risk; nothing in the draft
    saved = [e for e in engine.detail(task_id).events if e.type == "save_draft"][-1]
    (finding,) = saved.payload["supervisor"]["findings"]
    assert (finding["where"], finding["field"], finding["type"]) == ("input", "message", "card")
    assert message[finding["start"] : finding["end"]] == CARD


def test_a_kind_without_a_supervisor_is_not_read(engine: Engine) -> None:
    task = engine.propose("note", {"topic": "cards"}, "sam", f"Card {CARD}.")
    assert (task.risk, task.flags) == (None, None)


def test_a_broken_scanner_never_blocks_a_draft(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_text: str, _kinds: object) -> list[object]:
        raise RuntimeError("scanner crashed")

    monkeypatch.setattr(supervising, "scan", broken)
    task = engine.get(proposed(engine))
    assert task.status is TaskStatus.AWAITING_REVIEW
    assert (task.risk, task.flags) == (None, "unavailable")
    assert verify_store(engine).ok


def test_an_edited_risk_or_flags_is_reported(engine: Engine, url: str) -> None:
    task_id = proposed(engine)
    sql = sa.create_engine(url)
    try:
        with sql.begin() as conn:
            conn.execute(
                sa.text("UPDATE tasks SET risk = 0, flags = NULL WHERE id = :id"), {"id": task_id}
            )
    finally:
        sql.dispose()
    problems = [p.problem for p in verify_store(engine).problems]
    assert any("its supervisor's risk was altered" in p for p in problems), problems
    assert any("its supervisor's flags was altered" in p for p in problems), problems


def test_the_redacted_export_masks_what_the_scanners_find(engine: Engine) -> None:
    proposed(engine, message=f"My card {CARD}, mail me at maya@example.org")
    out = StringIO()
    export_jsonl(engine, out, redact=True)
    text = out.getvalue()
    assert CARD not in text and "maya@example.org" not in text
    assert "[card]" in text and "[email]" in text
    plain = StringIO()
    export_jsonl(engine, plain)
    assert CARD in plain.getvalue()
    assert all(json.loads(line) for line in text.splitlines())


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ({"scan": ["pii", "dna"]}, "supervisor: scan must be a list of 'pii', 'secrets', 'links'"),
        ({"scan": []}, "supervisor: scan must be a list"),
        ({"auto_revise": 2}, "supervisor: auto_revise sends back drafts that fail a check"),
        ({"checks": ["ok"], "auto_revise": 9}, "supervisor: auto_revise must be a whole number"),
        ({"checks": "No refunds"}, "supervisor: checks must be a list of sentences"),
        ({"checks": ["No refunds", " "]}, "supervisor: a check is empty"),
        ({"checks": [f"rule {n}" for n in range(11)]}, "supervisor: at most 10 checks"),
        ({"checks": ["x"], "model": 3}, "supervisor: model must name a model"),
        ({"sacn": ["pii"]}, "supervisor: unknown setting sacn"),
        ("yes", "supervisor must be a table"),
    ],
)
def test_a_bad_supervisor_table_names_the_kind_and_the_setting(table: object, said: str) -> None:
    with pytest.raises(ConfigError, match="kinds.reply") as caught:
        parse_kind(
            "reply", {"template": "Hi {name}", "supervisor": table}, "placet.toml [kinds.reply]"
        )
    assert said in str(caught.value)


# -- where the reading shows ---------------------------------------------------------------------

TOML = """\
[kinds.reply]
template = "Reply to {customer}: {message}"
[kinds.reply.supervisor]
scan = ["pii", "secrets"]
"""
HOSTILE = f"<script>alert(1)</script> card {CARD} <b>bold</b>"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, toml=TOML) as found:
        found.add_user("rita", "reviewer")
        yield found


def test_the_page_marks_findings_in_place_escaped_and_the_queue_filters(world: WebWorld) -> None:
    values = {"customer": "Maya", "message": "Hello"}
    flagged = world.engine.propose("reply", values, "sam", HOSTILE)
    clean = world.engine.propose("reply", values, "sam", "Thanks, Maya.")
    rita, _ = world.session_client("rita")
    page = rita.get(f"/tasks/{flagged.id}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert '<mark class="finding" title="card: ' in page and f">{CARD}</mark>" in page
    assert "risk 80 of 100" in page
    queue = rita.get("/?flag=card").text
    assert f'data-id="{flagged.id}"' in queue and f'data-id="{clean.id}"' not in queue
    assert "risk 80" in rita.get("/").text
    detail = world.client_as("rita").get(f"/api/v1/tasks/{flagged.id}").json()
    assert (detail["risk"], detail["flags"]) == (80, ["card"])
    (finding,) = detail["supervisor"]["findings"]
    assert HOSTILE[finding["start"] : finding["end"]] == CARD


def test_the_terminal_lists_by_flag_and_risk_and_shows_the_findings(world: WebWorld) -> None:
    values = {"customer": "Maya", "message": "Hello"}
    flagged = world.engine.propose("reply", values, "sam", f"Card {CARD}")
    world.engine.propose("reply", values, "sam", "Thanks, Maya.")
    env = {**os.environ, "PLACET_DATABASE_URL": world.engine.settings.database_url}

    def placet(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "placet", *args]
        return subprocess.run(command, cwd=world.root, env=env, capture_output=True, text=True)

    listed = placet("ls", "--flag", "card")
    assert flagged.id in listed.stdout and listed.stdout.count("\n") == 2  # header + one
    ranked = placet("ls", "--sort", "risk")
    assert ranked.stdout.splitlines()[1].startswith(flagged.id)
    assert placet("ls", "--sort", "loud").returncode == 2
    shown = placet("show", flagged.id).stdout
    assert "supervisor: risk 80/100, 1 finding" in shown
    assert "card in the draft at 5-24" in shown


PLANTS = st.sampled_from(
    [
        CARD,
        "billing@example.com",
        "+44 20 7946 0958",
        "AKIAIOSFODNN7EXAMPLE",
        "http://intranet.corp/x",
        "",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.text(max_size=40), PLANTS), max_size=6))
def test_no_reading_ever_decides(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    """Whatever the scanners find in whatever a draft says, it only waits for people."""
    text = " ".join(parts).replace("\x00", "")
    text = text if text.strip() else "empty"  # a blank input or draft is refused before
    url = f"sqlite:///{tmp_path_factory.mktemp('never')}/placet.db"
    engine = Engine(SqlStore(url), Settings(database_url=url, kinds={"reply": WATCHED}))
    try:
        task = engine.propose("reply", {"customer": "M", "message": text}, "sam", text)
        detail = engine.detail(task.id)
        assert task.status is TaskStatus.AWAITING_REVIEW and detail.decisions == []
        assert task.final_output is None
    finally:
        engine.store.close()


ROUTED_TOML = """\
[groups]
security = ["sec1", "sec2", "sec3"]

[kinds.reply]
template = "Reply to {customer}: {message}"
reviewers = ["rita", "rob"]

[kinds.reply.supervisor]
route = [
  { when = "risk >= 70 or flag == 'secret'", reviewers = "group:security", approvals = 2 },
  { when = "no flags", priority = "low" },
]
"""


def test_a_risky_draft_is_routed_to_other_people_and_needs_more_approvals(
    tmp_path: Path,
) -> None:
    with web_world(tmp_path, toml=ROUTED_TOML) as world:
        for name in ("rita", "rob", "sec1", "sec2", "sec3"):
            world.add_user(name, "reviewer")
        values = {"customer": "Maya", "message": "Hello"}
        risky = world.engine.propose("reply", values, "sam", f"Card {CARD}")
        clean = world.engine.propose("reply", values, "sam", "Thanks, Maya.")
        engine = world.engine
        rita, sec1 = (
            engine.accounts.principal(engine.accounts.get_user(n)) for n in ("rita", "sec1")
        )
        assert not engine.may_decide(rita, risky).allowed  # routed away from the kind's list
        assert engine.may_decide(sec1, risky).allowed  # though security reviews no kind
        assert engine.approvals_needed(risky) == 2 and engine.approvals_needed(clean) == 1
        assert engine.may_decide(rita, clean).allowed and not engine.may_decide(sec1, clean).allowed
        with pytest.raises(PermissionDeniedError):
            engine.decide(DecisionRequest(risky.id, DecisionKind.APPROVE, rita))
        first = engine.decide(DecisionRequest(risky.id, DecisionKind.APPROVE, sec1))
        assert first.status is TaskStatus.AWAITING_REVIEW  # 1 of 2
        sec2 = engine.accounts.principal(engine.accounts.get_user("sec2"))
        assert engine.decide(DecisionRequest(risky.id, DecisionKind.APPROVE, sec2)).status is (
            TaskStatus.APPROVED
        )
        detail = world.client_as("rob").get(f"/api/v1/tasks/{clean.id}").json()
        assert detail["route"] == "low priority (when no flags)"
        page = world.session_client("rob")[0].get("/").text
        assert "low priority" in page
        assert verify_store(engine).ok
