"""Examples from approved work where people see them: the task page names the approved tasks a
draft was made with and marks an approved task "not an example" (a button, with CSRF); the API
reads and changes the mark; only the kind's reviewers and admins may change it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.models import DecisionKind, Task
from placet.engine import DecisionRequest
from placet.testing import person
from tests.integration.web_helpers import WebWorld, web_world

KINDS = """\
[kinds.reply]
template = "Answer the customer: {question}"
learn = { examples = 2 }
reviewers = ["rita", "boss"]
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, toml=KINDS) as found:
        found.add_user("rita", "reviewer")
        found.add_user("rob", "reviewer")  # a reviewer, but not of reply
        found.add_user("boss", "admin")
        found.add_user("alice", "requester")
        yield found


def approved(world: WebWorld, question: str) -> Task:
    task = world.awaiting_review(kind="reply", values={"question": question})
    return world.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rita")))


def test_the_task_page_links_the_examples_and_marks_one_not_an_example(world: WebWorld) -> None:
    kettle = approved(world, "My <b>kettle</b> arrived broken")
    drafted = world.awaiting_review(kind="reply", values={"question": "Broken kettle"})
    rita, csrf = world.session_client("rita")
    page = rita.get(f"/tasks/{drafted.id}").text
    assert 'id="made-with"' in page and f'href="/tasks/{kettle.id}"' in page

    shown = rita.get(f"/tasks/{kettle.id}").text
    assert 'id="example"' in shown and "An example: later drafts of reply" in shown
    assert f'action="/tasks/{kettle.id}/example/not"' in shown
    assert "<b>kettle</b>" not in shown  # the input is escaped wherever it shows
    refused = rita.post(f"/tasks/{kettle.id}/example/not", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    marked = rita.post(
        f"/tasks/{kettle.id}/example/not", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert marked.status_code == 303
    after = rita.get(marked.headers["location"]).text
    assert "Marked not an example" in after
    assert "Not an example: marked by <strong>rita</strong>" in after
    assert f'action="/tasks/{kettle.id}/example/again"' in after

    again = world.awaiting_review(kind="reply", values={"question": "Broken kettle"})
    assert 'id="made-with"' not in rita.get(f"/tasks/{again.id}").text  # kettle left out
    undone = rita.post(
        f"/tasks/{kettle.id}/example/again", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert undone.status_code == 303
    assert "Marked so again by <strong>rita</strong>" in rita.get(f"/tasks/{kettle.id}").text


def test_a_draft_repeating_an_example_is_flagged_on_the_page_and_in_the_api(
    world: WebWorld,
) -> None:
    # Approved as edited to the very text the fake writes next for "Broken kettle".
    task = world.awaiting_review(kind="reply", values={"question": "My kettle arrived broken"})
    copied_text = "Draft 2: Answer the customer: Broken kettle"
    request = DecisionRequest(task.id, DecisionKind.EDIT, person("rita"), text=copied_text)
    kettle = world.engine.decide(request)
    drafted = world.awaiting_review(kind="reply", values={"question": "Broken kettle"})
    rita, _ = world.session_client("rita")
    page = rita.get(f"/tasks/{drafted.id}").text
    assert 'id="copies-example"' in page and "(100% alike)" in page
    assert f'<a class="mono" href="/tasks/{kettle.id}">' in page
    detail = world.client_as("rita").get(f"/api/v1/tasks/{drafted.id}").json()
    assert detail["drafts"][-1]["copies_example"] == {"task_id": kettle.id, "alike": 1.0}
    assert detail["drafts"][-1]["output"] == copied_text
    fresh = world.awaiting_review(kind="reply", values={"question": "Where is my parcel?"})
    assert 'id="copies-example"' not in rita.get(f"/tasks/{fresh.id}").text


def test_people_who_may_not_decide_the_kind_get_no_button_and_are_refused(
    world: WebWorld,
) -> None:
    kettle = approved(world, "My kettle arrived broken")
    rob, csrf = world.session_client("rob")
    page = rob.get(f"/tasks/{kettle.id}").text
    assert 'id="example"' in page and 'id="example-form"' not in page
    refused = rob.post(f"/tasks/{kettle.id}/example/not", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "not a reviewer of reply" in refused.text
    assert ("rob", "mark_example", kettle.id) in world.refusals("rob")  # recorded
    assert world.client_as("alice").delete(f"/api/v1/tasks/{kettle.id}/example").status_code in (
        403,
        404,
    )
    waiting = world.awaiting_review(kind="reply", values={"question": "Where is my parcel?"})
    boss, boss_csrf = world.session_client("boss")
    assert 'id="example"' not in boss.get(f"/tasks/{waiting.id}").text  # approved work only
    not_yet = boss.post(f"/tasks/{waiting.id}/example/not", data={"csrf_token": boss_csrf})
    assert not_yet.status_code == 422 and "only approved work is an example" in not_yet.text


def test_the_api_reads_marks_and_undoes(world: WebWorld) -> None:
    kettle = approved(world, "My kettle arrived broken")
    rita = world.client_as("rita")
    assert rita.get(f"/api/v1/tasks/{kettle.id}/example").json() == {
        "task_id": kettle.id,
        "example": True,
        "marked_by": None,
        "marked_at": None,
    }
    marked = rita.delete(f"/api/v1/tasks/{kettle.id}/example")
    assert marked.status_code == 200, marked.text
    assert marked.json()["example"] is False and marked.json()["marked_by"] == "rita"
    assert rita.delete(f"/api/v1/tasks/{kettle.id}/example").json()["example"] is False
    detail = rita.get(f"/api/v1/tasks/{kettle.id}").json()
    assert detail["example"]["example"] is False
    assert [e["type"] for e in detail["events"]].count("not_an_example") == 1  # asked twice
    boss = world.client_as("boss")
    assert boss.post(f"/api/v1/tasks/{kettle.id}/example").json()["marked_by"] == "boss"
    assert world.client_as("rob").delete(f"/api/v1/tasks/{kettle.id}/example").status_code == 403

    drafted = world.awaiting_review(kind="reply", values={"question": "Kettle broken"})
    shown = rita.get(f"/api/v1/tasks/{drafted.id}").json()
    assert shown["drafts"][-1]["examples"] == [kettle.id] and shown["example"] is None
    assert rita.get(f"/api/v1/tasks/{drafted.id}/example").status_code == 422
