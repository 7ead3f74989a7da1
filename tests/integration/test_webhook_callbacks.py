"""A callback URL in each review request's webhook (``decide_as``): a tool that can only
call a URL decides through it, once, as the account the channel names; every try of the
message carries the same URL, signed with the rest of the message."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from placet.channels.outbox import NotificationRunner
from placet.domain.models import TaskStatus
from placet.errors import ConfigError
from tests.integration.web_helpers import KIND, WebWorld, web_world
from tests.integration.webhook_receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BASE = "https://placet.example.com"


def toml(url: str, decide_as: str = "ci-bot") -> str:
    return (
        f'[placet]\nnotify = ["webhook:ops"]\nbase_url = "{BASE}"\n'
        f'[kinds.{KIND}]\ntemplate = "Write a welcome email to {{name}}."\n'
        f'[channels.webhook.ops]\nurl = "{url}"\ndecide_as = "{decide_as}"\n'
        "max_attempts = 3\nretry_delay = 0.1\ntimeout = 2\n"
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as running:
        yield running


@pytest.fixture
def world(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebWorld]:
    monkeypatch.setenv("PLACET_WEBHOOK_OPS_SECRET", SECRET)
    with web_world(tmp_path, toml(receiver.url)) as made:
        made.add_user("alice", "requester")
        made.add_user("ci-bot", "reviewer")
        yield made


def send(world: WebWorld) -> int:
    runner = NotificationRunner(world.engine, report=print)
    try:
        return runner.run_pending()
    finally:
        runner.close()


def callback_of(message: Any) -> str:
    url: str = message["data"]["links"]["callback"]
    assert url.startswith(f"{BASE}/api/v1/callbacks/")
    return urlsplit(url).path


def test_a_review_request_carries_a_callback_url_that_decides_once_as_decide_as(
    world: WebWorld, receiver: Receiver
) -> None:
    task = world.awaiting_review(requester="alice")
    assert send(world) == 1
    (arrived,) = receiver.wait_for(1)
    assert arrived.verified  # the URL is part of the signed message
    message = arrived.json
    assert message["data"]["version"] == task.version
    path = callback_of(message)
    tool = world.client()  # no token, no cookie: the URL is the credential
    answer = tool.post(path, json={"decision": "approve", "by": "alice"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"task_id": task.id, "status": "approved", "decided_as": "ci-bot"}
    (decision,) = world.engine.detail(task.id).decisions
    assert decision.actor == "ci-bot"
    again = tool.post(path, json={"decision": "reject", "reason": "changed my mind"})
    assert again.status_code == 410 and "already used" in again.json()["detail"]
    assert world.engine.get(task.id).status is TaskStatus.APPROVED
    send(world)  # the decided message: no callback in it
    decided = receiver.wait_for(2)[1].json
    assert decided["type"] == "task.decided" and "callback" not in decided["data"]["links"]


def test_every_try_of_a_message_carries_the_same_callback_url(
    world: WebWorld, receiver: Receiver
) -> None:
    world.awaiting_review(requester="alice")
    receiver.answer(500)
    assert send(world) == 1
    deadline = time.monotonic() + 30
    while len(receiver.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the retry falls due after its delay (with jitter)
        send(world)
    first, second = receiver.wait_for(2)
    assert first.id == second.id and first.verified and second.verified
    assert callback_of(first.json) == callback_of(second.json)


def test_a_stale_callback_url_is_refused_after_a_revision(
    world: WebWorld, receiver: Receiver
) -> None:
    task = world.awaiting_review(requester="alice")
    send(world)
    path = callback_of(receiver.wait_for(1)[0].json)
    world.add_user("rita", "reviewer")
    revised = world.client_as("rita").post(
        f"/api/v1/tasks/{task.id}/decisions",
        json={
            "kind": "revise",
            "feedback": "Warmer, please.",
            "draft_id": task.current_draft_id,
            "version": task.version,
        },
    )
    assert revised.status_code == 200, revised.text
    world.draft(task.id)
    stale = world.client().post(path, json={"decision": "approve"})
    assert stale.status_code == 410 and "earlier draft" in stale.json()["detail"]
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_decide_as_must_be_an_account_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLACET_WEBHOOK_OPS_SECRET", SECRET)
    bad = toml("http://127.0.0.1:9/", decide_as="not a name")
    with (
        pytest.raises(ConfigError, match="decide_as must be an account's name"),
        web_world(tmp_path, bad),
    ):
        pass
