"""The e-mail channel from the command line, as a subprocess: ``placet channels test email``,
``placet users email``, a failing SMTP server in ``channels failed`` and ``channels list``,
and ``config check`` naming each problem of ``[channels.email]``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.channels.outbox import NotificationRunner
from placet.config import load_settings
from placet.domain.deliveries import DeliveryStatus
from placet.engine import Engine
from placet.engine.links import set_email
from placet.store import open_store
from tests.e2e.conftest import Cli
from tests.integration.fault_server import free_port
from tests.integration.smtp_receiver import SmtpReceiver

PASSWORD = "a long enough password"


def config(port: int, extra: str = "") -> str:
    return (
        '[placet]\nnotify = ["email:ana"]\nbase_url = "https://placet.example.com"\n'
        '[kinds.note]\ntemplate = "Write about {topic}."\n'
        f'[channels.email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        f'from = "Placet <placet@example.com>"\nmax_attempts = 1\ntimeout = 2\n{extra}'
    )


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as running:
        yield running


@pytest.fixture
def cli(tmp_path: Path, smtp: SmtpReceiver) -> Cli:
    (tmp_path / "placet.toml").write_text(config(smtp.port))
    runner = Cli(tmp_path)
    runner.env["PLACET_SECRET_KEY"] = "the e2e tests' server key"
    return runner


def test_channels_test_email_sends_a_message_and_says_how_it_went(
    cli: Cli, smtp: SmtpReceiver, tmp_path: Path
) -> None:
    result = cli("channels", "test", "email", "--to", "ops@example.com")
    assert result.returncode == 0, result.stderr
    said = result.stdout.replace("\n", "")
    assert f"email → ops@example.com through smtp://127.0.0.1:{smtp.port}: 250 in" in said
    (got,) = smtp.wait_for(1)
    assert got.recipients == ("ops@example.com",) and got.message_id in said
    (tmp_path / "placet.toml").write_text(config(free_port()))  # nothing listens there
    down = cli("channels", "test", "email")
    assert down.returncode == 1 and "failed: email → Placet <placet@example.com>" in down.stderr
    assert "could not send through 127.0.0.1" in down.stderr


def test_users_email_sets_an_address_and_refuses_bad_ones(cli: Cli) -> None:
    assert cli("users", "add", "ana", "--role", "reviewer", "--password", PASSWORD).returncode == 0
    done = cli("users", "email", "ana", "ana@example.com")
    assert done.returncode == 0 and "ana: e-mail set to ana@example.com" in done.stderr
    listed = cli("users", "list").stdout
    assert re.search(r"ana\s+reviewer\s+ana@example\.com", listed), listed
    bad = cli("users", "email", "ana", "ana at example")
    assert bad.returncode != 0 and "is not an e-mail address" in bad.stderr
    nobody = cli("users", "email", "zed", "zed@example.com")
    assert nobody.returncode != 0 and "no user named 'zed'" in nobody.stderr
    neither = cli("users", "email", "ana")
    assert neither.returncode != 0 and "give an address, or --remove" in neither.stderr
    assert cli("users", "email", "ana", "--remove").returncode == 0


def test_a_refused_message_is_listed_as_failed_with_the_servers_words(
    cli: Cli, smtp: SmtpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLACET_CONFIG", raising=False)
    monkeypatch.setenv("PLACET_SECRET_KEY", "the e2e tests' server key")
    monkeypatch.setenv("PLACET_DATABASE_URL", f"sqlite:///{tmp_path / 'placet.db'}")
    settings = load_settings(tmp_path)
    engine = Engine(open_store(settings.database_url), settings)
    try:
        engine.accounts.add_user("ana", PASSWORD, ["reviewer"])
        set_email(engine, "ana", "ana@example.com", "admin")
        task = engine.propose("note", {"topic": "tea"}, "bob", "Tea is good.")
        smtp.answer("550 5.1.1 ana@example.com: no such mailbox")
        runner = NotificationRunner(engine, report=lambda _: None)
        assert runner.run_pending() == 1
        runner.close()
        (record,) = engine.notifications().for_task(task.id)
        assert record.status is DeliveryStatus.FAILED and record.last_code == 550
        listed = cli("channels", "failed")
        row = next(line for line in listed.stdout.splitlines() if record.id in line)
        assert "email" in row and "550 5.1.1" in row
        shown = cli("channels", "list").stdout
        assert re.search(r"email\s+smtp://127\.0\.0\.1:\d+\s+all\s+failing for", shown), shown
        detail = cli("show", task.id).stdout
        assert "ana <ana@example.com>" in detail and "failed" in detail
    finally:
        engine.close(store_too=True)


def test_config_check_names_each_email_problem(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "placet.toml"
    path.write_text(config(2525, 'password = "hunter2"\n'))
    result = cli("ls")
    assert result.returncode == 1 and "hunter2" not in result.stderr
    assert "[channels.email] password: a secret never goes in placet.toml" in result.stderr
    assert "set PLACET_EMAIL_PASSWORD" in result.stderr
    path.write_text(config(2525, 'username = "placet"\n').replace('"none"', '"ssl"'))
    errors = cli("config", "check").stderr
    assert 'security must be one of "starttls", "tls", "none"; not \'ssl\'' in errors
    path.write_text(config(2525, 'username = "placet"\n'))
    errors = cli("config", "check").stderr
    assert "username is set but there is no password: set PLACET_EMAIL_PASSWORD" in errors
    cli.env["PLACET_EMAIL_PASSWORD"] = "hunter2"
    checked = cli("config", "check")
    assert checked.returncode == 0, checked.stderr
