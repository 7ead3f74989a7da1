"""Where lessons show (issue 18): the Lessons page, the task page, the API and the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.models import DecisionKind, Task
from placet.engine import DecisionRequest
from placet.testing import person
from tests.integration.test_lessons import Teacher
from tests.integration.web_helpers import WebWorld, web_world

TOML = """\
[kinds.reply]
template = "Reply to {message}"
"""
HOSTILE = "<script>alert(1)</script> Sign as 'Ana'"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    teacher = Teacher()
    teacher.lines = f"Sign as 'The Support Team'\n{HOSTILE}"
    with web_world(tmp_path, toml=TOML, provider=teacher) as found:
        found.add_user("rita", "reviewer")
        found.add_user("rob", "reviewer")
        found.add_user("sam", "requester")
        yield found


def drafted(world: WebWorld, task_id: str) -> Task:
    claimed = world.engine.claim("w", task_id)
    assert claimed is not None
    return world.engine.draft(claimed, "w")


def with_feedback(world: WebWorld) -> None:
    task = drafted(world, world.engine.submit("reply", {"message": "Hi"}, "sam").id)
    rita = person("rita", *world.accounts.get_user("rita").roles)
    world.engine.decide(
        DecisionRequest(task.id, DecisionKind.REVISE, rita, feedback="Sign as The Support Team")
    )


def test_a_proposal_from_the_page_is_decided_and_listed_escaped(world: WebWorld) -> None:
    with_feedback(world)
    rita, csrf = world.session_client("rita")
    assert "No lessons yet" in rita.get("/lessons/reply").text
    made = rita.post("/lessons/reply/propose", data={"csrf_token": csrf}, follow_redirects=False)
    assert made.status_code == 303
    proposal_id = made.headers["location"].rsplit("/", 1)[-1]
    proposal = drafted(world, proposal_id)
    page = rita.get(f"/tasks/{proposal.id}").text
    assert "A lesson proposal for" in page and "<script>alert(1)</script>" not in page
    rob = person("rob", *world.accounts.get_user("rob").roles)
    world.engine.decide(DecisionRequest(proposal.id, DecisionKind.APPROVE, rob))
    listed = rita.get("/lessons/reply").text
    assert "Sign as &#39;The Support Team&#39;" in listed and "&lt;script&gt;" in listed
    assert "<script>alert(1)</script>" not in listed
    retired = rita.post(
        "/lessons/reply/1/retire", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert retired.status_code == 303
    assert "retired by rita" in rita.get("/lessons/reply").text
    assert rita.get("/lessons", follow_redirects=False).headers["location"] == "/lessons/reply"
    task = drafted(world, world.engine.submit("reply", {"message": "Hi"}, "sam").id)
    assert 'id="lessons-used"' in rita.get(f"/tasks/{task.id}").text


def test_a_proposal_that_may_contradict_a_lesson_in_use_says_so(world: WebWorld) -> None:
    with_feedback(world)
    first = drafted(world, world.engine.learning.propose("reply", "sam").id)
    rob = person("rob", *world.accounts.get_user("rob").roles)
    world.engine.decide(DecisionRequest(first.id, DecisionKind.EDIT, rob, text="Sign as 'Bo'"))
    with_feedback(world)
    second = drafted(world, world.engine.learning.propose("reply", "sam").id)
    rita, _ = world.session_client("rita")
    page = rita.get(f"/tasks/{second.id}").text
    assert 'id="lesson-clashes"' in page and "may contradict" in page


def test_the_api_lists_proposes_retires_and_restores(world: WebWorld) -> None:
    rita = world.client_as("rita")
    assert rita.post("/api/v1/kinds/reply/lessons").status_code == 422  # nothing to learn from
    with_feedback(world)
    made = world.client_as("sam").post("/api/v1/kinds/reply/lessons")
    assert made.status_code == 201 and made.json()["kind"] == "lessons:reply"
    proposal = drafted(world, made.json()["id"])
    world.engine.decide(
        DecisionRequest(
            proposal.id, DecisionKind.APPROVE, person("rob", *world.accounts.get_user("rob").roles)
        )
    )
    listed = rita.get("/api/v1/kinds/reply/lessons").json()
    assert [item["number"] for item in listed] == [1, 2] and listed[0]["approved_by"] == "rob"
    assert rita.post("/api/v1/kinds/reply/lessons/1/retire").json()["active"] is False
    assert rita.post("/api/v1/kinds/reply/lessons/1/retire").status_code == 422
    assert world.client_as("sam").post("/api/v1/kinds/reply/lessons/1/restore").status_code == 403
    assert rita.post("/api/v1/kinds/reply/lessons/1/restore").json()["active"] is True
    assert rita.get("/api/v1/kinds/nope/lessons").status_code == 404


def test_the_terminal_proposes_lists_and_retires(world: WebWorld) -> None:
    with_feedback(world)
    env = {**os.environ, "PLACET_DATABASE_URL": world.engine.settings.database_url}
    env["PLACET_USER"] = "rita"

    def placet(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "placet", *args]
        return subprocess.run(command, cwd=world.root, env=env, capture_output=True, text=True)

    listed = placet("lessons", "reply")
    assert "reply has no lessons yet" in listed.stderr
    proposed = placet("learn", "reply", "--no-draft")
    assert proposed.returncode == 0, proposed.stderr
    assert "proposed lessons for reply: task" in proposed.stderr
    assert placet("lessons", "reply", "--retire", "1", "--restore", "1").returncode == 2
    assert placet("lessons", "reply", "--retire", "9").returncode != 0
