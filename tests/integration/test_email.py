"""The e-mail channel end to end: a real SMTP server on loopback (aiosmtpd), the real app,
the real outbox sender. Messages per person, signed single-use links that only a POST
from their confirmation page may use, and every way a link is refused."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from placet.channels.email import EmailSender, send_test_email
from placet.channels.outbox import NotificationRunner
from placet.domain.channels import Email
from placet.domain.deliveries import DeliveryStatus
from placet.domain.links import APPROVE, Link, sign
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.engine import DecisionRequest
from placet.engine.links import set_email
from tests.integration.certificates import loopback_certificate, server_context
from tests.integration.smtp_receiver import Got, SmtpReceiver
from tests.integration.web_helpers import WebWorld, csrf_of, web_world
from tests.xss_corpus import assert_inert, corpus_markdown

BASE = "https://placet.example.com"
LINK = re.compile(re.escape(BASE) + r"/\S+")


def toml(port: int, extra: str = "") -> str:
    return (
        '[placet]\nnotify = ["email:ana", "email:group:legal", "email:alice"]\n'
        f'base_url = "{BASE}"\n'
        '[groups]\nlegal = ["lea", "ana"]\n'
        '[kinds.memo]\ntemplate = "Write a memo about {topic}."\nreviewers = ["group:legal"]\n'
        f'[channels.email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        f'from = "Placet <placet@example.com>"\ntimeout = 5\n{extra}'
    )


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def world(tmp_path: Path, smtp: SmtpReceiver) -> Iterator[WebWorld]:
    with web_world(tmp_path, toml(smtp.port)) as opened:
        for name, role in (("ana", "reviewer"), ("lea", "reviewer"), ("alice", "requester")):
            opened.add_user(name, role)
        set_email(opened.engine, "ana", "ana@example.com", "admin")
        set_email(opened.engine, "alice", "alice@example.com", "admin")
        yield opened


def send_all(world: WebWorld, clock: float | None = None) -> None:
    at = clock if clock is not None else time.time()
    runner = NotificationRunner(world.engine, report=lambda _line: None, clock=lambda: at)
    runner.run_pending()
    runner.close()


def request_and_mail(world: WebWorld, smtp: SmtpReceiver) -> tuple[Task, Got]:
    """A memo awaiting review, and the message ana got about it."""
    task = world.awaiting_review(requester="alice", kind="memo", values={"topic": "leave"})
    send_all(world)
    got = next(m for m in smtp.wait_for(2) if m.recipients == ("ana@example.com",))
    return task, got


def links_in(got: Got) -> dict[str, str]:
    """The message's links by what they do, as paths on the app."""
    text = got.part("plain")
    found = {}
    for line in text.splitlines():
        match = LINK.search(line)
        if match:
            found[line.split(":")[0].strip().lower()] = urlsplit(match.group()).path
    return found


def decisions(world: WebWorld, task: Task) -> list[str]:
    return [f"{d.kind.value} by {d.actor}" for d in world.engine.detail(task.id).decisions]


def confirm(client: TestClient, path: str, **form: str) -> tuple[int, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    posted = client.post(path, data={"csrf_token": csrf_of(page.text), **form})
    return posted.status_code, posted.text


def test_each_person_gets_one_message_with_the_draft_and_signed_links(
    world: WebWorld, smtp: SmtpReceiver
) -> None:
    task, got = request_and_mail(world, smtp)
    notices = world.engine.notifications().for_task(task.id)
    # ana is named twice (herself, and in group legal): one message; lea has no address.
    assert sorted(n.recipient for n in notices) == [
        "alice <alice@example.com>",
        "ana <ana@example.com>",
        "lea (no e-mail address)",
    ]
    mine = next(n for n in notices if n.recipient.startswith("ana"))
    assert (mine.channel, mine.status) == ("email", DeliveryStatus.DELIVERED)
    assert got.message_id == f"<msg_{mine.id}@example.com>"
    assert got.sender == "placet@example.com" and "memo" in str(got.message["Subject"])
    draft = world.engine.get_draft(task.current_draft_id or "").output
    assert draft in got.part("plain")
    assert set(links_in(got)) == {"approve", "reject", "open the task"}
    assert all(path in got.part("html") for path in links_in(got).values())
    lea = next(n for n in notices if n.recipient.startswith("lea"))
    assert lea.status is DeliveryStatus.PENDING and lea.attempts == 1
    assert "lea has no e-mail address" in (lea.last_error or "")
    assert "placet users email lea" in (lea.last_error or "")


def test_fetching_every_link_decides_nothing_then_the_confirmed_post_decides_as_the_recipient(
    world: WebWorld, smtp: SmtpReceiver
) -> None:
    task, got = request_and_mail(world, smtp)
    scanner = world.client(follow_redirects=False)
    for path in links_in(got).values():  # as a mail scanner does: every link, GET and HEAD
        assert scanner.get(path).status_code in (200, 303, 307)
        scanner.head(path)
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    assert decisions(world, task) == []
    status, text = confirm(world.client(), links_in(got)["approve"])
    assert status == 200 and "Approved as ana" in text
    assert world.engine.get(task.id).status is TaskStatus.APPROVED
    assert decisions(world, task) == ["approve by ana"]
    events = world.engine.task_events(task.id)
    assert any(e.type == "approve" and e.payload.get("channel") == "email" for e in events), [
        (e.type, e.payload) for e in events
    ]


def test_a_second_use_is_refused_showing_the_decision_that_stands(
    world: WebWorld, smtp: SmtpReceiver
) -> None:
    task, got = request_and_mail(world, smtp)
    links = links_in(got)
    assert confirm(world.client(), links["approve"])[0] == 200
    for path in (links["approve"], links["reject"]):  # one message's links share one use
        again = world.client().get(path)
        assert again.status_code == 410
        assert "already used" in again.text and "approved by ana" in again.text
    # A form fetched before the first use and posted after it is refused too.
    early = world.client()
    form = early.get(links["reject"])
    assert form.status_code == 410
    assert decisions(world, task) == ["approve by ana"]


def test_a_race_of_two_posts_decides_once(world: WebWorld, smtp: SmtpReceiver) -> None:
    task, got = request_and_mail(world, smtp)
    path = links_in(got)["approve"]
    first, second = world.client(), world.client()
    tokens = [csrf_of(client.get(path).text) for client in (first, second)]
    answers = [
        client.post(path, data={"csrf_token": token})
        for client, token in zip((first, second), tokens, strict=True)
    ]
    assert sorted(answer.status_code for answer in answers) == [200, 410]
    assert decisions(world, task) == ["approve by ana"]


def test_a_forged_or_altered_link_is_refused(world: WebWorld, smtp: SmtpReceiver) -> None:
    task, got = request_and_mail(world, smtp)
    path = links_in(got)["approve"]
    token = path.rsplit("/", 1)[1]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    link = Link("x", task.id, task.current_draft_id or "", task.version, "ana", APPROVE, 2e9)
    forged = sign(link, "not-the-servers-key")
    for bad in (altered, forged, "nonsense"):
        client = world.client()
        assert client.get(f"/links/{bad}").status_code == 404
        assert client.post(f"/links/{bad}", data={"csrf_token": "x"}).status_code == 404
    assert "not valid" in world.client().get(f"/links/{forged}").text
    assert decisions(world, task) == []


def test_an_expired_link_is_refused(world: WebWorld, smtp: SmtpReceiver) -> None:
    task = world.awaiting_review(requester="alice", kind="memo", values={"topic": "leave"})
    email = world.engine.settings.channels.email
    assert email is not None
    draft = task.current_draft_id or ""
    old = Link("old1", task.id, draft, task.version, "ana", APPROVE, time.time() - 1)
    page = world.client().get(f"/links/{sign(old, email.link_key)}")
    assert page.status_code == 410 and "expired" in page.text
    assert decisions(world, task) == []


def test_a_link_for_an_earlier_draft_is_refused(world: WebWorld, smtp: SmtpReceiver) -> None:
    task, got = request_and_mail(world, smtp)
    path = links_in(got)["approve"]
    browser = world.client()
    token = csrf_of(browser.get(path).text)  # the page was open when the draft changed
    lea = world.accounts.principal(world.accounts.get_user("lea"))
    world.engine.decide(
        DecisionRequest(task.id, DecisionKind.REVISE, lea, feedback="Shorter, please.")
    )
    world.draft(task.id)
    answer = browser.post(path, data={"csrf_token": token})
    assert answer.status_code == 410 and "earlier draft" in answer.text
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
    assert decisions(world, task) == ["revise by lea"]


def test_a_recipient_the_policy_refuses_cannot_decide_through_a_link(
    world: WebWorld, smtp: SmtpReceiver
) -> None:
    task = world.awaiting_review(requester="alice", kind="memo", values={"topic": "leave"})
    send_all(world)
    mine = next(m for m in smtp.wait_for(2) if m.recipients == ("alice@example.com",))
    page = world.client().get(links_in(mine)["approve"])
    # alice asked for it (and is no reviewer): the engine's policy says no, on the page.
    assert page.status_code == 410 and "alice may not decide" in page.text
    assert decisions(world, task) == []


def test_a_post_without_the_pages_token_or_from_another_site_is_refused(
    world: WebWorld, smtp: SmtpReceiver
) -> None:
    task, got = request_and_mail(world, smtp)
    path = links_in(got)["approve"]
    assert world.client().post(path, data={"csrf_token": ""}).status_code == 403
    browser = world.client()
    token = csrf_of(browser.get(path).text)
    other_site = {"origin": "https://evil.example"}
    assert browser.post(path, data={"csrf_token": token}, headers=other_site).status_code == 403
    stranger = world.client()  # the token without the cookie it was issued with
    assert stranger.post(path, data={"csrf_token": token}).status_code == 403
    assert decisions(world, task) == []
    assert browser.post(path, data={"csrf_token": token}).status_code == 200


def test_every_try_is_the_same_message_with_the_same_id_and_links(
    world: WebWorld, smtp: SmtpReceiver
) -> None:
    smtp.answer("451 4.3.0 Try again later", "451 4.3.0 Try again later", "451 4.3.0 Later")
    task = world.awaiting_review(requester="alice", kind="memo", values={"topic": "leave"})
    now = time.time()
    send_all(world, now)  # ana and alice: both refused; lea has no address
    failing = [n for n in world.engine.notifications().for_task(task.id)]
    assert all(n.status is DeliveryStatus.PENDING for n in failing)
    assert any("451" in (n.last_error or "") for n in failing)
    (health,) = world.engine.notifications().health()
    assert health.channel == "email" and health.failing_since is not None
    send_all(world, now + 3600)  # the retries: one more 451, then accepted
    send_all(world, now + 7200)
    got = smtp.wait_for(2)
    ids = {n.recipient: n.id for n in world.engine.notifications().for_task(task.id)}
    assert {m.message_id for m in got} == {
        f"<msg_{ids['ana <ana@example.com>']}@example.com>",
        f"<msg_{ids['alice <alice@example.com>']}@example.com>",
    }


def test_model_output_in_the_html_part_is_inert(world: WebWorld, smtp: SmtpReceiver) -> None:
    task = world.engine.propose("memo", {"topic": "x"}, "alice", corpus_markdown())
    send_all(world)
    got = next(m for m in smtp.wait_for(2) if m.recipients == ("ana@example.com",))
    assert_inert(got.part("html"))
    assert corpus_markdown() in got.part("plain")  # the plain part carries it as it is
    assert "<script" not in str(got.message["Subject"]) and task.id[-8:] in got.message["Subject"]


def test_logging_in_to_the_smtp_server(tmp_path: Path) -> None:
    with SmtpReceiver(users={"placet": "s3cret"}) as smtp:
        extra = 'username = "placet"\n'
        (tmp_path / "placet.toml").write_text(toml(smtp.port, extra))
        from placet.config import load_settings

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PLACET_EMAIL_PASSWORD", "s3cret")
            patch.setenv("PLACET_SECRET_KEY", "k" * 40)
            settings = load_settings(tmp_path)
        channel = settings.channels.email
        assert channel is not None and channel.password == "s3cret"
        assert "s3cret" not in repr(channel)
        sent = send_test_email(channel, "msg_01TEST", "ops@example.com")
        assert sent.ok, sent.error
        (got,) = smtp.wait_for(1)
        assert got.login == "placet" and got.recipients == ("ops@example.com",)
        wrong = EmailSender(
            type(channel)(**{**channel.__dict__, "password": "wrong"}), None
        ).send_message(got.message, time.monotonic())
        assert not wrong.ok and "535" in (wrong.error or "")


def test_the_reject_link_asks_for_a_reason_and_keeps_it(
    world: WebWorld, smtp: SmtpReceiver
) -> None:
    task, got = request_and_mail(world, smtp)
    path = links_in(got)["reject"]
    browser = world.client()
    token = csrf_of(browser.get(path).text)
    empty = browser.post(path, data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 409 and "a rejection needs a reason" in empty.text
    status, text = confirm(browser, path, reason="Too long.")  # the use was given back
    assert status == 200 and "Rejected as ana" in text
    (decision,) = world.engine.detail(task.id).decisions
    assert (decision.kind, decision.actor, decision.reason) == (
        DecisionKind.REJECT,
        "ana",
        "Too long.",
    )


def test_a_failing_smtp_server_shows_on_the_task_page_the_banner_readyz_and_metrics(
    tmp_path: Path,
) -> None:
    alarm = '[channels]\nalert_after = "1s"\n'  # a table may follow its sub-table in TOML
    with SmtpReceiver() as smtp, web_world(tmp_path, toml(smtp.port) + alarm) as world:
        world.add_user("ana", "reviewer")
        world.add_user("alice", "requester")
        set_email(world.engine, "ana", "ana@example.com", "admin")
        watch = world.services.channel_watch
        assert watch is not None
        watch.kept_seconds = 0.0
        client = world.client()
        smtp.answer(*["421 4.7.0 <script>x</script> going down"] * 20)
        task = world.awaiting_review(requester="alice", kind="memo", values={"topic": "x"})
        send_all(world)
        time.sleep(1.2)  # alert_after is 1s
        browser, _ = world.session_client("ana")
        page = browser.get(f"/tasks/{task.id}").text
        assert "ana &lt;ana@example.com&gt;" in page and "421 4.7.0" in page
        assert "<script>x</script>" not in page
        assert "Notifications are not getting out." in browser.get("/").text
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded" and "email has failed for" in ready["detail"]
        assert 'placet_channel_alerts_total{channel="email"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_and_starttls_check_the_certificate_then_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    cert, key = loopback_certificate(tmp_path)
    context = server_context(cert, key)
    tls = {"starttls": context} if security == "starttls" else {"implicit_tls": context}
    with SmtpReceiver(users={"placet": "s3cret"}, **tls) as smtp:  # type: ignore[arg-type]
        channel = Email(
            "127.0.0.1", smtp.port, security, "placet@example.com", "placet", "s3cret", "k"
        )
        untrusted = send_test_email(channel, "msg_01UNTRUSTED", "ops@example.com")
        assert not untrusted.ok and "CERTIFICATE_VERIFY_FAILED" in (untrusted.error or "")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the client trusts it
        sent = send_test_email(channel, "msg_01TRUSTED", "ops@example.com")
        assert sent.ok, sent.error
        (got,) = smtp.wait_for(1)
        assert got.login == "placet" and got.message_id == "<msg_01TRUSTED@example.com>"
