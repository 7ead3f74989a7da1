"""Where a hold shows and how it is taken: the dashboard's Open button, the task page, the
queue that skips what others review, the API, and the queue's overdue and escalated views.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from placet.domain.models import TaskStatus
from placet.engine import accounts
from tests.integration.test_pages import decide
from tests.integration.web_helpers import WebWorld, csrf_of, web_world

KINDS = """\
[kinds.onboarding_email]
template = "Welcome {name}."

[kinds.contract]
template = "A clause on {name}."
reviewers = ["dan"]
escalate_after = "1s"
escalate_to = ["boss"]
"""


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, toml=KINDS) as found:
        for name in ("rita", "rob", "dan"):
            found.add_user(name, "reviewer")
        found.add_user("boss", "admin")
        found.add_user("alice", "requester")
        yield found


def queue_ids(client: object, query: str = "") -> str:
    page = client.get("/" + query)  # type: ignore[attr-defined]
    assert page.status_code == 200
    return str(page.text)


def test_the_open_button_takes_the_item_and_others_queues_skip_it(world: WebWorld) -> None:
    task = world.awaiting_review()
    rita, rita_csrf = world.session_client("rita")
    rob, _ = world.session_client("rob")
    queue = rita.get("/").text
    assert f'action="/tasks/{task.id}/take"' in queue  # the Open button
    opened = rita.post(
        f"/tasks/{task.id}/take", data={"csrf_token": rita_csrf}, follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"/tasks/{task.id}"
    assert world.engine.get(task.id).held_by == "rita"
    mine = rita.get(f"/tasks/{task.id}").text
    assert "You are reviewing this until" in mine and 'id="let-go"' in mine
    # rob's queue skips it and says why; his task page says who reviews it.
    robs = rob.get("/").text
    assert f'data-id="{task.id}"' not in robs
    assert "1 task someone else is reviewing is hidden" in robs
    assert f'data-id="{task.id}"' in rob.get("/?status=all").text
    assert "rita is reviewing" in rob.get("/?status=all").text
    theirs = rob.get(f"/tasks/{task.id}").text
    assert "rita is reviewing it (for 30 more minutes)" in theirs
    assert "You may still decide it" in theirs


def test_a_decision_over_someone_elses_hold_counts_and_the_api_warns(world: WebWorld) -> None:
    task = world.awaiting_review()
    world.client_as("rita").post(f"/api/v1/tasks/{task.id}/hold", json={"seconds": 900})
    shown = world.client_as("rob").get(f"/api/v1/tasks/{task.id}").json()
    assert shown["held_by"] == "rita" and shown["held_until"]
    current = world.engine.get(task.id)
    answer = world.client_as("rob").post(
        f"/api/v1/tasks/{task.id}/decisions",
        json={
            "kind": "approve",
            "draft_id": current.current_draft_id,
            "version": current.version,
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "approved" and body["held_by"] is None
    assert body["warnings"] == [
        "rita is reviewing it (for 15 more minutes); your decision was recorded and ends their hold"
    ]


def test_the_api_takes_refuses_a_second_taker_and_lets_go(world: WebWorld) -> None:
    task = world.awaiting_review()
    taken = world.client_as("rita").post(f"/api/v1/tasks/{task.id}/hold")
    assert taken.status_code == 200 and taken.json()["held_by"] == "rita"
    second = world.client_as("rob").post(f"/api/v1/tasks/{task.id}/hold")
    assert second.status_code == 409 and "rita is reviewing it" in second.json()["detail"]
    refused = world.client_as("rob").delete(f"/api/v1/tasks/{task.id}/hold")
    assert refused.status_code == 403
    handed = world.client_as("boss").post(f"/api/v1/tasks/{task.id}/hold", json={"to": "rob"})
    assert handed.status_code == 200 and handed.json()["held_by"] == "rob"
    assert world.client_as("alice").post(f"/api/v1/tasks/{task.id}/hold").status_code in (
        403,
        404,
    )
    freed = world.client_as("rob").delete(f"/api/v1/tasks/{task.id}/hold")
    assert freed.status_code == 200 and freed.json()["held_by"] is None
    too_long = world.client_as("rob").post(
        f"/api/v1/tasks/{task.id}/hold", json={"seconds": 2 * 86400}
    )
    assert too_long.status_code == 422


def test_after_a_decision_the_next_item_is_taken_for_the_reviewer(world: WebWorld) -> None:
    first, second = world.awaiting_review(), world.awaiting_review()
    rita, csrf = world.session_client("rita")
    answer = decide(rita, csrf, first, "approve")
    assert answer.headers["location"].startswith(f"/tasks/{second.id}?")
    assert world.engine.get(second.id).held_by == "rita"


def test_an_admin_hands_an_item_over_from_the_task_page(world: WebWorld) -> None:
    task = world.awaiting_review()
    world.engine.take(task.id, world.accounts.principal(world.accounts.get_user("rita")))
    boss, csrf = world.session_client("boss")
    page = boss.get(f"/tasks/{task.id}").text
    assert 'id="hand-over"' in page
    handed = boss.post(
        f"/tasks/{task.id}/hand-over",
        data={"csrf_token": csrf, "to": "rob"},
        follow_redirects=False,
    )
    assert handed.status_code == 303
    assert world.engine.get(task.id).held_by == "rob"
    rob, _ = world.session_client("rob")
    assert "You are reviewing this until" in rob.get(f"/tasks/{task.id}").text
    rita, rita_csrf = world.session_client("rita")
    refused = rita.post(f"/tasks/{task.id}/release", data={"csrf_token": rita_csrf})
    assert refused.status_code == 403
    assert world.engine.get(task.id).held_by == "rob"


def test_the_overdue_and_escalated_views(world: WebWorld) -> None:
    contract = world.awaiting_review(kind="contract")
    plain = world.awaiting_review()
    boss, _ = world.session_client("boss")
    assert f'data-id="{contract.id}"' not in boss.get("/?view=escalated").text
    world.engine.fire_timers(now=world.engine.get(contract.id).updated_at + 5)
    assert world.engine.get(contract.id).status is TaskStatus.AWAITING_REVIEW
    escalated = boss.get("/?view=escalated").text
    assert f'data-id="{contract.id}"' in escalated and f'data-id="{plain.id}"' not in escalated
    overdue = boss.get("/?view=overdue").text
    assert f'data-id="{contract.id}"' in overdue and f'data-id="{plain.id}"' not in overdue
    rob, _ = world.session_client("rob")
    assert f'data-id="{contract.id}"' not in rob.get("/?view=escalated").text
    assert 'id="view-overdue"' in rob.get("/").text


def test_the_take_form_needs_its_csrf_token(world: WebWorld) -> None:
    task = world.awaiting_review()
    rita, _ = world.session_client("rita")
    refused = rita.post(f"/tasks/{task.id}/take", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert world.engine.get(task.id).held_by is None
    assert csrf_of(rita.get("/").text)
