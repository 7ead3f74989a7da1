"""Which changes people hear of, what each message says, and how tries are spaced. Pure."""

from __future__ import annotations

import json

import pytest

from placet.domain import channels as ch
from placet.domain import notifications as nt
from placet.domain.audit import GENESIS_HASH
from placet.domain.changes import Change, change_for
from placet.domain.models import Decision, DecisionKind, Draft, Task, TaskStatus, Usage
from placet.domain.transitions import Action

NOW = 1_700_000_000.0
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def task(status: TaskStatus = TaskStatus.DRAFTING, **fields: object) -> Task:
    values: dict[str, object] = {
        "id": "01TASK00000000000000000000",
        "kind": "reply",
        "input": {"q": "?"},
        "requester": "ana",
        "status": status,
        "version": 3,
        "attempt": 1,
        "max_attempts": 3,
        "created_at": NOW,
        "updated_at": NOW,
        "head_hash": GENESIS_HASH,
        "event_count": 2,
        "current_draft_id": "01DRAFT0000000000000000000",
    }
    values.update(fields)
    return Task(**values)  # type: ignore[arg-type]


def draft(output: str = "Dear Ana, welcome.") -> Draft:
    return Draft(
        "01DRAFT0000000000000000000", task().id, 1, "fake", "fake:echo", [], output, Usage(),
        1.0, NOW,
    )  # fmt: skip


def saved(output: str = "Dear Ana, welcome.") -> Change:
    return change_for(task(), Action.SAVE_DRAFT, "worker:1", {}, NOW, draft=draft(output))


def decided(kind: DecisionKind, action: Action, **updates: object) -> Change:
    waiting = task(TaskStatus.AWAITING_REVIEW)
    decision = Decision("01DECISION0000000000000000", waiting.id, draft().id, kind, "rita", NOW)
    if kind is DecisionKind.REJECT:
        decision = Decision(
            decision.id, waiting.id, draft().id, kind, "rita", NOW, reason="Too cold."
        )
    return change_for(waiting, action, "rita", {}, NOW, decision=decision, **updates)


def timer(event_type: str, payload: dict[str, object], action: Action = Action.TIMER) -> Change:
    return change_for(
        task(TaskStatus.AWAITING_REVIEW), action, "timer", payload, NOW, event_type=event_type
    )


@pytest.mark.parametrize(
    ("change", "event"),
    [
        (saved(), ch.AWAITING_REVIEW),
        (timer("reminder", {"number": 2}), ch.REMINDER),
        (timer("escalated", {"to": ["group:leads"]}), ch.ESCALATED),
        (decided(DecisionKind.APPROVE, Action.APPROVE, final_output="Hi"), ch.DECIDED),
        (decided(DecisionKind.REJECT, Action.REJECT), ch.DECIDED),
        (timer("deadline", {"outcome": "expired", "after": "1d"}, Action.EXPIRE), ch.DECIDED),
        (timer("deadline", {"outcome": "rejected", "after": "1d"}, Action.LAPSE), ch.DECIDED),
        (change_for(task(), Action.FAIL, "worker:1", {"error": "model down"}, NOW), ch.FAILED),
        # Nothing a person waits on: a claim, a hold, a revision, an approval toward a quorum.
        (change_for(task(TaskStatus.QUEUED), Action.CLAIM, "worker:1", {}, NOW), None),
        (change_for(task(TaskStatus.AWAITING_REVIEW), Action.HOLD, "rita", {}, NOW), None),
        (decided(DecisionKind.REVISE, Action.REVISE), None),
        (decided(DecisionKind.APPROVE, Action.ENDORSE), None),
        (change_for(task(TaskStatus.QUEUED), Action.CANCEL, "ana", {}, NOW), None),
    ],
)
def test_which_changes_people_hear_of(change: Change, event: str | None) -> None:
    assert nt.event_of(change) == event


def test_a_revision_with_no_attempts_left_is_a_decision() -> None:
    waiting = task(TaskStatus.AWAITING_REVIEW, attempt=3)
    decision = Decision("01D", waiting.id, draft().id, DecisionKind.REVISE, "rita", NOW)
    change = change_for(waiting, Action.REVISE, "rita", {}, NOW, decision=decision)
    assert change.task.status is TaskStatus.REJECTED and nt.event_of(change) == ch.DECIDED


def test_a_message_says_what_happened_in_the_specifications_shape() -> None:
    body = nt.body_of(saved(), ch.AWAITING_REVIEW, "https://placet.example.com/")
    assert body["type"] == "task.awaiting_review"
    assert body["timestamp"] == "2023-11-14T22:13:20.000Z"
    data = body["data"]
    assert (data["task_id"], data["kind"], data["status"]) == (
        task().id,
        "reply",
        "awaiting_review",
    )
    assert data["event"] == {"seq": 3, "type": "save_draft", "actor": "worker:1"}
    assert data["links"] == {"task": f"https://placet.example.com/tasks/{task().id}"}
    assert data["draft"] == {
        "id": draft().id,
        "excerpt": "Dear Ana, welcome.",
        "truncated": False,
        "chars": 18,
    }


def test_without_a_base_url_there_is_no_link_and_a_long_draft_is_cut() -> None:
    long = "x" * (nt.EXCERPT_CHARS + 10)
    data = nt.body_of(saved(long), ch.AWAITING_REVIEW, None)["data"]
    assert data["links"] == {"task": None}
    assert data["draft"]["excerpt"] == "x" * nt.EXCERPT_CHARS
    assert data["draft"]["truncated"] is True and data["draft"]["chars"] == len(long)


def test_each_message_type_adds_its_own_details() -> None:
    approved = decided(DecisionKind.APPROVE, Action.APPROVE, final_output="Hi Ana")
    data = nt.body_of(approved, ch.DECIDED, None)["data"]
    assert data["outcome"] == "approved"
    assert data["decision"] == {
        "verdict": "approve",
        "by": "rita",
        "reason": None,
        "feedback": None,
    }
    assert data["output"]["excerpt"] == "Hi Ana"
    rejected = nt.body_of(decided(DecisionKind.REJECT, Action.REJECT), ch.DECIDED, None)["data"]
    assert rejected["decision"]["reason"] == "Too cold." and "output" not in rejected
    expired = timer("deadline", {"outcome": "expired", "after": "1d"}, Action.EXPIRE)
    data = nt.body_of(expired, ch.DECIDED, None)["data"]
    assert (data["outcome"], data["deadline"]) == ("expired", {"after": "1d"})
    reminded = nt.body_of(timer("reminder", {"number": 2}), ch.REMINDER, None)["data"]
    assert reminded["reminder"] == 2
    escalated = nt.body_of(timer("escalated", {"to": ["group:leads"]}), ch.ESCALATED, None)
    assert escalated["data"]["escalated_to"] == ["group:leads"]
    failed = change_for(task(), Action.FAIL, "worker:1", {"error": "model down"}, NOW)
    assert nt.body_of(failed, ch.FAILED, None)["data"]["error"] == "model down"


def test_the_body_is_compact_json_with_text_as_itself() -> None:
    text = nt.body_text(nt.body_of(saved("Grüße, Ana"), ch.AWAITING_REVIEW, None))
    assert "Grüße" in text and ", " not in text.replace("Grüße, Ana", "")
    assert json.loads(text)["data"]["draft"]["excerpt"] == "Grüße, Ana"


def test_tries_are_spaced_doubling_with_jitter_and_capped() -> None:
    assert [nt.retry_delay(n, 5.0, 1.0) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert [nt.retry_delay(n, 5.0, 0.0) for n in (1, 2, 3)] == [2.5, 5.0, 10.0]
    assert 5.0 <= nt.retry_delay(2, 5.0, 0.5) <= 10.0
    assert nt.retry_delay(40, 5.0, 1.0) == nt.MAX_RETRY_DELAY_SECONDS


def test_the_webhook_id_is_the_notifications_id_and_either_names_it() -> None:
    assert nt.webhook_id("01ABC") == "msg_01ABC"
    assert nt.notice_id("msg_01ABC") == nt.notice_id(" 01ABC ") == "01ABC"


def test_channels_failing_longer_than_alert_after_raise_the_alarm() -> None:
    rows = [
        nt.ChannelHealth("webhook:a", NOW - 700, None, NOW, "down", 3),
        nt.ChannelHealth("webhook:b", NOW - 60, None, NOW, "down", 1),
        nt.ChannelHealth("webhook:c", None, NOW, None, None, 0),
    ]
    assert [row.channel for row in nt.alerts(rows, NOW, 600)] == ["webhook:a"]
    assert rows[0].failing_for(NOW) == 700 and rows[2].failing_for(NOW) == 0


def test_secrets_urls_and_addresses_are_checked() -> None:
    assert ch.secret_problem(SECRET) is None
    assert "whsec_" in (ch.secret_problem("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") or "")
    assert "base64" in (ch.secret_problem("whsec_not base64!") or "")
    assert "24 to 64" in (ch.secret_problem("whsec_c2hvcnQ=") or "")
    assert ch.url_problem("https://hooks.example.com/x?y=1") is None
    assert ch.url_problem("http://127.0.0.1:8080/hook") is None
    assert "http://" in (ch.url_problem("ftp://hooks.example.com") or "")
    assert "password" in (ch.url_problem("https://me:pw@hooks.example.com") or "")
    assert ch.url_problem("https://hooks.example.com:99999/") == "is not a URL"
    assert ch.secret_variable("webhook", "ops-eu") == "PLACET_WEBHOOK_OPS_EU_SECRET"
    assert ch.split_address("webhook:ops") == ("webhook", "ops")
    with pytest.raises(ValueError, match="TYPE:NAME"):
        ch.split_address("ops")


def test_a_webhook_shows_its_host_never_its_secret() -> None:
    hook = ch.Webhook("ops", "https://hooks.example.com:8443/placet", SECRET)
    assert hook.address == "webhook:ops" and hook.recipient == "hooks.example.com:8443"
    assert SECRET not in repr(hook) and SECRET not in repr(ch.ChannelSettings({"ops": hook}))
    settings = ch.ChannelSettings({"ops": hook})
    assert settings.find("ops") is settings.find("webhook:ops") is hook
    assert settings.find("email:ops") is None and settings.addresses == ("webhook:ops",)


def test_changes_applied_together_tell_only_where_the_last_leaves_the_task() -> None:
    from placet.config import Settings
    from placet.engine.notifying import Notifier

    hook = ch.Webhook("ops", "https://hooks.example.com/placet", SECRET)
    settings = Settings(channels=ch.ChannelSettings({"ops": hook}), notify=(hook.address,))
    notifier = Notifier(settings, lambda _name: None)
    draft_saved = saved()
    # The supervisor sends the draft straight back: nobody is told it awaits review.
    decision = Decision("01R", task().id, draft().id, DecisionKind.REVISE, "supervisor:m", NOW)
    sent_back = change_for(
        draft_saved.task, Action.REVISE, "supervisor:m", {}, NOW, decision=decision
    )
    both = notifier.attach_last([draft_saved, sent_back])
    assert [change.notices for change in both] == [(), ()]
    (alone,) = notifier.attach_last([draft_saved])
    (notice,) = alone.notices
    assert (notice.event, notice.channel, notice.recipient, notice.event_seq) == (
        "awaiting_review",
        "webhook:ops",
        "hooks.example.com",
        3,
    )
    quiet = Notifier(Settings(), lambda _name: None)
    assert quiet.attach(draft_saved) is draft_saved  # no channel: the change as it was
