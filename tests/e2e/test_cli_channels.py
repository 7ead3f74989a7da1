"""``placet channels`` as a subprocess: help, test, list, failed, retry; and config check
naming a channel's problems. A real receiver on loopback verifies every message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.channels.outbox import NotificationRunner
from placet.config import load_settings
from placet.domain.deliveries import DeliveryStatus
from placet.engine import Engine
from placet.store import open_store
from tests.e2e.conftest import Cli
from tests.integration.fault_server import free_port
from tests.integration.webhook_receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def config(url: str, extra: str = "") -> str:
    return (
        '[placet]\nnotify = ["webhook:ops"]\n'
        '[kinds.note]\ntemplate = "Write about {topic}."\n'
        f'[channels.webhook.ops]\nurl = "{url}"\nmax_attempts = 1\ntimeout = 2\n{extra}'
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as running:
        yield running


@pytest.fixture
def cli(tmp_path: Path, receiver: Receiver) -> Cli:
    (tmp_path / "placet.toml").write_text(config(receiver.url))
    runner = Cli(tmp_path)
    runner.env["PLACET_WEBHOOK_OPS_SECRET"] = SECRET
    return runner


def test_placet_channels_explains_itself(cli: Cli) -> None:
    shown = cli("channels", "--help")
    assert shown.returncode == 0
    for words in ("PLACET_WEBHOOK_OPS_SECRET", "[channels.webhook.ops]", "Standard Webhooks"):
        assert words in shown.stdout
    for command in ("test", "failed", "retry", "list", "secret"):
        assert f" {command} " in shown.stdout
    bare = cli("channels")
    assert "Usage:" in bare.stdout + bare.stderr


def test_channels_test_sends_a_signed_message_and_says_how_it_went(
    cli: Cli, receiver: Receiver
) -> None:
    sent = cli("channels", "test", "ops")
    assert sent.returncode == 0, sent.stderr
    (got,) = receiver.wait_for(1)
    assert got.verified and got.json["type"] == "placet.test"
    assert got.json["data"]["channel"] == "webhook:ops"
    line = sent.stdout.strip()
    assert line.startswith(f"webhook:ops → {receiver.url}: 204 in ")
    assert line.endswith(f"(webhook-id {got.id})")
    receiver.answer(500)
    failed = cli("channels", "test", "webhook:ops")
    assert failed.returncode == 1
    assert "failed: webhook:ops" in failed.stderr and "HTTP 500: busy" in failed.stderr
    unknown = cli("channels", "test", "nope")
    assert unknown.returncode == 2
    assert "no channel named 'nope'; configured: webhook:ops" in unknown.stderr


def test_channels_test_says_when_nothing_answers(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(config(f"http://127.0.0.1:{free_port()}/hook"))
    result = cli("channels", "test", "ops")
    assert result.returncode == 1 and "could not reach 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_notification_that_gave_up_is_listed_and_retried(
    cli: Cli, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("channels", "failed").stderr.strip() == "no notification has failed for good"
    monkeypatch.setenv("PLACET_WEBHOOK_OPS_SECRET", SECRET)
    monkeypatch.delenv("PLACET_CONFIG", raising=False)
    monkeypatch.setenv("PLACET_DATABASE_URL", f"sqlite:///{tmp_path / 'placet.db'}")
    settings = load_settings(tmp_path)
    engine = Engine(open_store(settings.database_url), settings)
    try:
        task = engine.propose("note", {"topic": "tea"}, "ana", "Tea is good.")
        receiver.answer(503)
        runner = NotificationRunner(engine, report=lambda _: None)
        assert runner.run_pending() == 1
        (record,) = engine.notifications().for_task(task.id)
        assert record.status is DeliveryStatus.FAILED
        listed = cli("channels", "failed")
        assert listed.returncode == 0
        row = next(line for line in listed.stdout.splitlines() if record.id in line)
        assert task.id in row and "webhook:ops" in row and "awaiting_review" in row
        assert "HTTP 503: busy" in row
        detail = cli("show", task.id).stdout
        assert "notifications" in detail and record.webhook_id in detail
        assert f"webhook:ops (127.0.0.1:{receiver.port})  awaiting_review  failed  1 try" in detail
        shown = cli("channels", "list")
        assert "webhook:ops" in shown.stdout and "failing for" in shown.stdout
        retried = cli("channels", "retry", record.webhook_id)
        assert retried.returncode == 0, retried.stderr
        assert f"retrying webhook:ops awaiting_review of {task.id} as {record.webhook_id}" in (
            retried.stderr.replace("\n", " ")
        )
        again = cli("channels", "retry", record.id)
        assert again.returncode == 1 and "is pending, not failed" in again.stderr
        assert runner.run_pending() == 1
        first, second = receiver.wait_for(2)
        assert first.id == second.id == record.webhook_id and second.verified
        assert json.loads(second.body)["data"]["task_id"] == task.id
        runner.close()
    finally:
        engine.close(store_too=True)


def test_config_check_names_each_channel_problem(cli: Cli, tmp_path: Path) -> None:
    del cli.env["PLACET_WEBHOOK_OPS_SECRET"]
    path = tmp_path / "placet.toml"
    path.write_text(
        config("ftp://hooks.example.com")
        + '[kinds.legal]\ntemplate = "x"\nnotify = ["webhook:legal"]\n'
    )
    result = cli("config", "check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any(f"{path} [channels.webhook.ops] url must be an http://" in e for e in errors)
    assert any(
        f"{path} [kinds.legal] notify: 'webhook:legal' is no configured channel" in e
        for e in errors
    )
    path.write_text(config("https://hooks.example.com/placet"))
    result = cli("config", "check")
    assert "no signing secret: set PLACET_WEBHOOK_OPS_SECRET" in result.stderr
    path.write_text(config("https://hooks.example.com/placet", f'secret = "{SECRET}"\n'))
    result = cli("ls")
    assert result.returncode == 1
    assert "secret: a secret never goes in placet.toml" in result.stderr
    assert SECRET not in result.stderr


def test_channels_secret_makes_a_secret_the_library_takes(cli: Cli) -> None:
    from standardwebhooks import Webhook

    made = cli("channels", "secret", "ops-eu").stdout.strip()
    name, _, secret = made.partition("=")
    assert name == "PLACET_WEBHOOK_OPS_EU_SECRET" and secret.startswith("whsec_")
    Webhook(secret)  # a key the specification's library accepts
