"""Slack end to end: the real ``slack_sdk`` against a loopback server that plays Slack's
Web API, interactions signed exactly as Slack signs them, the real app and a real store.

A review request is posted with its buttons and its ``ts`` kept; a click decides through
the engine as the mapped person (the same policy as every other channel), and the
"decided" notification rewrites the message in place, also when the task was decided
elsewhere. Forged, stale and unmapped requests decide nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.testclient import TestClient

from placet.channels.notices import find_channel, send_test
from placet.channels.outbox import NotificationRunner
from placet.domain.deliveries import DeliveryStatus
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.slack_messages import APPROVE, REJECT, REVISE, button_value
from placet.engine import DecisionRequest
from placet.testing import person
from placet.testing_slack import Failure, LoopbackSlack, interaction_body, signed_headers
from tests.integration.web_helpers import WebWorld, web_world

TOKEN = "xoxb-test-token"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
KIND = "reply"

# Slack's published example ("Verifying requests from Slack").
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."
    "47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_TIMESTAMP = 1531420618
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class Clock:
    """Real time, which a test can move forward to make a retry due without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Setup:
    world: WebWorld
    slack: LoopbackSlack
    runner: NotificationRunner
    client: TestClient
    clock: Clock

    def waiting(self, requester: str = "alice") -> Task:
        return self.world.awaiting_review(requester, KIND, {"q": "why?"})

    def deliver(self) -> int:
        return self.runner.run_pending()

    def click(self, user: str, action: str, task: Task, **extra: Any) -> Any:
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "channel": {"id": "C0REVIEWS"},
            "trigger_id": "trigger-1",
            "actions": [
                {"action_id": action, "value": button_value(task.id, task.current_draft_id)}
            ],
            **extra,
        }
        return self.post(payload)

    def submit_form(self, user: str, action: str, task: Task, words: str) -> Any:
        meta = {"task": task.id, "draft": task.current_draft_id, "channel": "C0REVIEWS"}
        view = {
            "callback_id": "placet_words",
            "private_metadata": json.dumps({**meta, "action": action}),
            "state": {"values": {"placet_feedback": {"feedback": {"value": words}}}},
        }
        return self.post({"type": "view_submission", "user": {"id": user}, "view": view})

    def post(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        body = interaction_body(payload)
        return self.client.post(
            "/slack/interactions", content=body, headers=headers or signed_headers(SIGNING, body)
        )


TOML = """\
[placet]
notify = ["slack:#reviews"]
base_url = "https://placet.example.com"

[kinds.reply]
template = "Answer {q}"

[channels.slack]
base_url = "BASE"
users = { U0RITA = "rita", U0ALICE = "alice", U0GONE = "nobody" }
retry_delay = "1s"
"""


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with LoopbackSlack(TOKEN) as slack:
        (tmp_path / ".env").write_text(
            f"PLACET_SLACK_BOT_TOKEN={TOKEN}\nPLACET_SLACK_SIGNING_SECRET={SIGNING}\n"
        )
        with web_world(tmp_path, TOML.replace("BASE", slack.base_url)) as world:
            world.add_user("alice", "requester", "reviewer")
            world.add_user("rita", "reviewer")
            clock = Clock()
            runner = NotificationRunner(world.engine, report=lambda _: None, clock=clock)
            try:
                yield Setup(world, slack, runner, world.client(), clock)
            finally:
                runner.close()


def test_slacks_published_signature_example_is_verified_and_made_alike() -> None:
    verifier = SignatureVerifier(SIGNING)
    assert verifier.generate_signature(timestamp=str(VECTOR_TIMESTAMP), body=VECTOR_BODY) == (
        VECTOR_SIGNATURE
    )
    made = signed_headers(SIGNING, VECTOR_BODY.encode(), VECTOR_TIMESTAMP)
    assert made["x-slack-signature"] == VECTOR_SIGNATURE


def test_a_review_request_is_posted_with_buttons_and_its_ts_is_kept(setup: Setup) -> None:
    task = setup.waiting()
    assert setup.deliver() == 1
    (call,) = setup.slack.calls_to("chat.postMessage")
    assert call.token == TOKEN and call.args["channel"] == "#reviews"
    actions = [block for block in call.args["blocks"] if block["type"] == "actions"]
    assert [b.get("action_id") for b in actions[0]["elements"]][:3] == [APPROVE, REJECT, REVISE]
    (post,) = setup.world.engine.slack_posts().for_task(task.id)
    assert (post.channel_id, post.event) == ("C0REVIEWS", "awaiting_review")
    (record,) = setup.world.engine.notifications().for_task(task.id)
    assert record.status is DeliveryStatus.DELIVERED and record.recipient == "#reviews"


def test_approve_in_slack_decides_as_the_mapped_person_and_updates_the_message(
    setup: Setup,
) -> None:
    task = setup.waiting()
    setup.deliver()
    answer = setup.click("U0RITA", APPROVE, task)
    assert answer.status_code == 200
    decided = setup.world.engine.get(task.id)
    assert decided.status is TaskStatus.APPROVED
    detail = setup.world.engine.detail(task.id)
    (decision,) = detail.decisions
    assert decision.actor == "rita"
    assert detail.events[-1].payload["channel"] == "slack"  # the audit says which door
    assert setup.deliver() == 1  # the "decided" notification
    (update,) = setup.slack.calls_to("chat.update")
    (post,) = setup.world.engine.slack_posts().for_task(task.id)
    assert (update.args["channel"], update.args["ts"]) == (post.channel_id, post.ts)
    assert update.args["text"].startswith("Approved by rita at ")
    assert all(block["type"] != "actions" for block in update.args["blocks"])


def test_a_task_decided_elsewhere_updates_its_slack_message_too(setup: Setup) -> None:
    task = setup.waiting()
    setup.deliver()
    request = DecisionRequest(task.id, DecisionKind.REJECT, person("rita"), reason="Off topic")
    setup.world.engine.decide(request)
    setup.deliver()
    (update,) = setup.slack.calls_to("chat.update")
    assert update.args["text"].startswith("Rejected by rita at ")
    assert any("Reason: Off topic" in str(block) for block in update.args["blocks"])


def test_a_requester_cannot_approve_their_own_task_from_slack(setup: Setup) -> None:
    task = setup.waiting(requester="alice")
    assert setup.click("U0ALICE", APPROVE, task).status_code == 200
    assert setup.world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    (told,) = setup.slack.calls_to("chat.postEphemeral")
    assert told.args["user"] == "U0ALICE" and "Placet refused" in told.args["text"]


def test_an_unmapped_slack_user_is_refused_and_told_why(setup: Setup) -> None:
    task = setup.waiting()
    setup.click("U0STRANGER", APPROVE, task)
    assert setup.world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    (info,) = setup.slack.calls_to("users.info")  # the e-mail lookup found no one
    assert info.args["user"] == "U0STRANGER"
    (told,) = setup.slack.calls_to("chat.postEphemeral")
    assert "not linked to a Placet account" in told.args["text"]
    assert ("slack:U0STRANGER", "identify", None) in setup.world.refusals()


def test_a_slack_user_is_found_by_the_email_slack_holds_for_them(setup: Setup) -> None:
    setup.world.add_user("pat@example.com", "reviewer")
    setup.slack.users["U0PAT"] = {"id": "U0PAT", "profile": {"email": "Pat@example.com"}}
    task = setup.waiting()
    setup.click("U0PAT", APPROVE, task)
    (decision,) = setup.world.engine.detail(task.id).decisions
    assert decision.actor == "pat@example.com"


def test_a_slack_user_is_found_by_the_address_their_account_has(setup: Setup) -> None:
    setup.world.add_user("pat", "reviewer")
    assert setup.world.engine.links().set_email("pat", "pat.lee@example.com")
    setup.slack.users["U0PAT"] = {"id": "U0PAT", "profile": {"email": "Pat.Lee@Example.com"}}
    task = setup.waiting()
    setup.click("U0PAT", APPROVE, task)
    (decision,) = setup.world.engine.detail(task.id).decisions
    assert decision.actor == "pat"


def test_a_mapped_name_with_no_account_is_refused(setup: Setup) -> None:
    task = setup.waiting()
    setup.click("U0GONE", APPROVE, task)
    assert setup.world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    (told,) = setup.slack.calls_to("chat.postEphemeral")
    assert "is linked to nobody, which has no Placet account" in told.args["text"]
    assert ("nobody", "identify", None) in setup.world.refusals()


def test_a_disabled_account_is_refused(setup: Setup) -> None:
    setup.world.accounts.set_disabled("rita", True)
    task = setup.waiting()
    setup.click("U0RITA", APPROVE, task)
    assert setup.world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    (told,) = setup.slack.calls_to("chat.postEphemeral")
    assert "disabled" in told.args["text"]


@pytest.mark.parametrize("action", [REJECT, REVISE])
def test_reject_and_request_changes_ask_for_words_in_a_modal(setup: Setup, action: str) -> None:
    task = setup.waiting()
    assert setup.click("U0RITA", action, task).status_code == 200
    (opened,) = setup.slack.calls_to("views.open")
    assert opened.args["trigger_id"] == "trigger-1"
    assert setup.world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    answer = setup.submit_form("U0RITA", action, task, "Shorter, please")
    assert answer.status_code == 200 and answer.content == b""
    (decision,) = setup.world.engine.detail(task.id).decisions
    assert decision.actor == "rita"
    if action == REJECT:
        assert decision.reason == "Shorter, please"
    else:
        assert decision.feedback == "Shorter, please"


def test_an_empty_reason_keeps_the_modal_open_with_the_engines_words(setup: Setup) -> None:
    task = setup.waiting()
    answer = setup.submit_form("U0RITA", REJECT, task, "  ")
    assert answer.json()["response_action"] == "errors"
    assert "reason" in answer.json()["errors"]["placet_feedback"]
    assert setup.world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


def test_a_stale_button_is_refused_with_the_conflict(setup: Setup) -> None:
    task = setup.waiting()
    setup.world.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rita")))
    setup.click("U0RITA", APPROVE, task)
    (told,) = setup.slack.calls_to("chat.postEphemeral")
    assert "Placet refused" in told.args["text"]


def test_forged_stale_and_unsigned_requests_decide_nothing(setup: Setup) -> None:
    task = setup.waiting()
    payload = {
        "type": "block_actions", "user": {"id": "U0RITA"}, "channel": {"id": "C0REVIEWS"},
        "actions": [{"action_id": APPROVE, "value": button_value(task.id, task.current_draft_id)}],
    }  # fmt: skip
    body = interaction_body(payload)
    forged = signed_headers("not-the-secret", body)
    stale = signed_headers(SIGNING, body, timestamp=VECTOR_TIMESTAMP)
    for headers, said in (
        (forged, "does not match"),
        (stale, "stale"),
        ({"content-type": "application/x-www-form-urlencoded"}, "missing"),
    ):
        answer = setup.post(payload, headers)
        assert answer.status_code == 401 and said in answer.json()["detail"]
    assert setup.world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    assert setup.slack.calls == []


def test_slack_down_or_refusing_is_retried_with_the_same_message(setup: Setup) -> None:
    task = setup.waiting()
    setup.slack.fail(Failure(429, "ratelimited", retry_after=1), Failure(200, "fatal_error"))
    assert setup.deliver() == 1
    (record,) = setup.world.engine.notifications().for_task(task.id)
    assert record.status is DeliveryStatus.PENDING and record.last_code == 429
    assert "ratelimited" in (record.last_error or "")
    setup.slack.stop()
    outbox = setup.world.engine.notifications()
    assert setup.runner.run_one() is False  # not due yet: nothing tried early
    setup.clock.offset += 3600.0
    assert setup.deliver() == 1
    (record,) = outbox.for_task(task.id)
    assert record.status is DeliveryStatus.PENDING and "could not reach Slack" in (
        record.last_error or ""
    )
    setup.slack.start()
    setup.clock.offset += 3600.0
    assert setup.deliver() == 1  # Slack's "fatal_error" (HTTP 200, ok: false)
    setup.clock.offset += 3600.0
    assert setup.deliver() == 1
    (record,) = outbox.for_task(task.id)
    assert record.status is DeliveryStatus.DELIVERED and record.attempts == 4
    bodies = {json.dumps(call.args["blocks"]) for call in setup.slack.calls_to("chat.postMessage")}
    assert len(bodies) == 1  # every try posted the same message


def test_placet_channels_test_posts_to_slack(setup: Setup) -> None:
    channel = find_channel(setup.world.engine, "slack:#reviews")
    _, sent = send_test(setup.world.engine, channel)
    assert sent.ok
    (call,) = setup.slack.calls_to("chat.postMessage")
    assert "test message from Placet" in call.args["text"]
    setup.slack.stop()
    _, sent = send_test(setup.world.engine, channel)
    assert not sent.ok and "could not reach Slack" in (sent.error or "")


def test_a_kind_defined_in_python_may_name_a_slack_channel(tmp_path: Path) -> None:
    from placet.channels.slack import slack_senders
    from placet.config import Settings
    from placet.domain.channels import ChannelSettings, Slack
    from placet.domain.models import TaskKind
    from placet.engine import Engine
    from placet.testing import temp_store

    kind = TaskKind("legal", template="Check {q}", notify=("slack:#legal",))
    slack = Slack(bot_token=TOKEN, signing_secret=SIGNING, channels=("#reviews",))
    store = temp_store(tmp_path)
    settings = Settings(
        database_url=store.url,
        kinds={"legal": kind},
        channels=ChannelSettings(slack=slack),
        notify=("slack:C0123ABCD",),
    )
    engine = Engine(store, settings)
    try:
        found = slack_senders(settings.channels, engine)
        assert sorted(found) == ["slack:#legal", "slack:#reviews", "slack:C0123ABCD"]
    finally:
        engine.close(store_too=True)


def test_a_signed_payload_of_the_wrong_shape_is_a_clear_400(setup: Setup) -> None:
    answer = setup.post({"type": "block_actions", "actions": "approve everything"})
    assert answer.status_code == 400 and "not an interaction" in answer.json()["detail"]
    body = b"payload=not-json"
    answer = setup.client.post(
        "/slack/interactions", content=body, headers=signed_headers(SIGNING, body)
    )
    assert answer.status_code == 400 and "JSON payload" in answer.json()["detail"]


def test_over_real_http_the_served_app_posts_takes_the_click_and_updates(setup: Setup) -> None:
    """``placet serve`` as it runs: uvicorn on loopback, its own outbox thread posting to
    Slack, a click signed as Slack signs it arriving over HTTP."""
    import httpx

    from tests.integration.web_helpers import serving

    with serving(setup.world.app) as live:
        task = setup.waiting()
        setup.slack.wait_for("chat.postMessage", 1)
        payload = {
            "type": "block_actions", "user": {"id": "U0RITA"}, "channel": {"id": "C0REVIEWS"},
            "actions": [
                {"action_id": APPROVE, "value": button_value(task.id, task.current_draft_id)}
            ],
        }  # fmt: skip
        body = interaction_body(payload)
        answer = httpx.post(
            f"{live.url}/slack/interactions", content=body, headers=signed_headers(SIGNING, body)
        )
        assert answer.status_code == 200
        (update,) = setup.slack.wait_for("chat.update", 1)
    assert update.args["text"].startswith("Approved by rita at ")
    assert setup.world.engine.get(task.id).status is TaskStatus.APPROVED
