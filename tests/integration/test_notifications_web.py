"""Delivery you can see: the task page's Notifications card, the API, the dashboard's banner,
``/readyz`` and ``/metrics`` while a channel fails, and ``placet serve`` sending itself."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from placet.channels.outbox import NotificationRunner
from placet.domain.deliveries import DeliveryStatus
from placet.domain.models import Task
from tests.integration.web_helpers import KIND, WebWorld, serving, web_world
from tests.integration.webhook_receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WAIT_SECONDS = 60.0


def toml(url: str, alert_after: str = "1m") -> str:
    return (
        '[placet]\nnotify = ["webhook:ops"]\nbase_url = "https://placet.example.com"\n'
        f'[kinds.{KIND}]\ntemplate = "Write a welcome email to {{name}}."\n'
        f'[channels]\nalert_after = "{alert_after}"\n'
        f'[channels.webhook.ops]\nurl = "{url}"\nmax_attempts = 1\ntimeout = 2\n'
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
        made.add_user("rita", "reviewer")
        made.add_user("ada", "admin")
        yield made


def send(world: WebWorld) -> int:
    """Send what is due now."""
    runner = NotificationRunner(world.engine, report=print)
    try:
        return runner.run_pending()
    finally:
        runner.close()


def failed_one(world: WebWorld, receiver: Receiver) -> Task:
    task = world.awaiting_review()
    receiver.answer(500, body=b"<script>alert(1)</script> overloaded")
    assert send(world) == 1
    return task


def card(html: str) -> str:
    found = re.search(r'<section class="card" id="notifications">.*?</section>', html, re.S)
    assert found, "no Notifications card"
    return found.group(0)


def test_the_task_page_lists_every_notification_and_why_one_failed(
    world: WebWorld, receiver: Receiver
) -> None:
    task = failed_one(world, receiver)
    browser, _csrf = world.session_client("rita")
    shown = card(browser.get(f"/tasks/{task.id}").text)
    assert "webhook:ops" in shown and f"127.0.0.1:{receiver.port}" in shown
    assert "awaiting review" in shown and "failed" in shown and "1 try" in shown
    assert "Why it failed: HTTP 500: &lt;script&gt;alert(1)&lt;/script&gt; overloaded" in shown
    assert "<script>alert" not in shown  # the receiver's words are escaped
    (record,) = world.engine.notifications().for_task(task.id)
    assert record.webhook_id in shown
    assert "Send again" not in shown  # a reviewer may not; an admin may
    admin, csrf = world.session_client("ada")
    assert "Send again" in card(admin.get(f"/tasks/{task.id}").text)
    posted = admin.post(
        f"/tasks/{task.id}/notifications/retry",
        data={"csrf_token": csrf, "notification": record.id},
        follow_redirects=False,
    )
    assert posted.status_code == 303 and "notification-retried" in posted.headers["location"]
    assert send(world) == 1
    shown = card(admin.get(f"/tasks/{task.id}").text)
    assert "delivered" in shown and "(HTTP 204)" in shown
    again = admin.post(
        f"/tasks/{task.id}/notifications/retry",
        data={"csrf_token": csrf, "notification": record.id},
    )
    assert again.status_code == 409 and "not failed" in again.text
    reviewer, reviewer_csrf = world.session_client("rita")
    refused = reviewer.post(
        f"/tasks/{task.id}/notifications/retry",
        data={"csrf_token": reviewer_csrf, "notification": record.id},
    )
    assert refused.status_code == 403


def test_the_api_lists_a_tasks_notifications_and_an_admin_sends_one_again(
    world: WebWorld, receiver: Receiver
) -> None:
    task = failed_one(world, receiver)
    (listed,) = world.client_as("rita").get(f"/api/v1/tasks/{task.id}/notifications").json()
    assert (listed["channel"], listed["event"], listed["status"]) == (
        "webhook:ops",
        "awaiting_review",
        "failed",
    )
    assert listed["webhook_id"] == f"msg_{listed['id']}" and listed["last_code"] == 500
    assert listed["recipient"] == f"127.0.0.1:{receiver.port}"
    (failed,) = world.client_as("rita").get("/api/v1/notifications/failed").json()
    assert failed["id"] == listed["id"]
    retry = f"/api/v1/notifications/{listed['webhook_id']}/retry"
    assert world.client_as("rita").post(retry).status_code == 403
    retried = world.client_as("ada").post(retry)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert world.client_as("ada").post(retry).status_code == 409
    assert world.client_as("ada").post("/api/v1/notifications/msg_NONE/retry").status_code == 404
    assert world.client_as("ada").get("/api/v1/tasks/01NOSUCH/notifications").status_code == 404


def test_a_channel_failing_too_long_shows_a_banner_degrades_readyz_and_counts(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACET_WEBHOOK_OPS_SECRET", SECRET)
    with web_world(tmp_path, toml(receiver.url, alert_after="1s")) as world:
        world.add_user("rita", "reviewer")
        banner_readyz_and_metrics(world, receiver)


def banner_readyz_and_metrics(world: WebWorld, receiver: Receiver) -> None:
    watch = world.services.channel_watch
    assert watch is not None
    watch.kept_seconds = 0.0  # read the health afresh on every request
    client = world.client()
    assert client.get("/readyz").json() == {"status": "ok", "detail": None}
    receiver.stop()
    world.awaiting_review()
    assert send(world) == 1
    browser, _ = world.session_client("rita")
    assert "Notifications are not getting out." not in browser.get("/").text  # not for 1s yet
    assert client.get("/readyz").json()["status"] == "ok"
    time.sleep(1.2)  # alert_after is 1s
    page = browser.get("/").text
    assert "Notifications are not getting out." in page
    assert re.search(r"webhook:ops has failed for \ds: could not reach 127\.0\.0\.1", page)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "degraded"
    assert "webhook:ops has failed for " in ready.json()["detail"]
    metrics = client.get("/metrics").text
    assert 'placet_channel_alerts_total{channel="webhook:ops"} 1.0' in metrics
    assert re.search(r'placet_channel_failing_seconds\{channel="webhook:ops"\} [1-9]', metrics)
    assert 'placet_notifications_undelivered{channel="webhook:ops",status="failed"} 1.0' in (
        metrics
    )
    again = client.get("/metrics").text  # the same outage is counted once
    assert 'placet_channel_alerts_total{channel="webhook:ops"} 1.0' in again
    receiver.start()
    world.awaiting_review()
    assert send(world) == 1  # the channel works again
    assert client.get("/readyz").json()["status"] == "ok"
    assert "Notifications are not getting out." not in browser.get("/").text
    assert 'placet_channel_failing_seconds{channel="webhook:ops"} 0.0' in (
        client.get("/metrics").text
    )


def test_placet_serve_sends_the_notifications_itself(world: WebWorld, receiver: Receiver) -> None:
    with serving(world.app) as live:
        task = world.awaiting_review()
        (got,) = receiver.wait_for(1, timeout=WAIT_SECONDS)
        assert got.verified and got.json["data"]["task_id"] == task.id
        assert httpx.get(f"{live.url}/readyz").json()["status"] == "ok"
    deadline = time.monotonic() + WAIT_SECONDS
    while world.engine.notifications().for_task(task.id)[0].status is DeliveryStatus.PENDING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (record,) = world.engine.notifications().for_task(task.id)
    assert record.status is DeliveryStatus.DELIVERED
