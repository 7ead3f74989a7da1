"""Who hears what, from placet.toml; each channel's secret from the environment, never the file.

Every bad setting is one line naming the file, the table (the kind, the channel)
and the setting; ``check_settings`` (``placet config check``) names them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.config import check_settings, load_settings
from placet.domain.channels import EVENTS
from placet.errors import ConfigError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KIND = '[kinds.reply]\ntemplate = "Answer {q}"\n'
OPS = '[channels.webhook.ops]\nurl = "https://hooks.example.com/placet"\n'


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLACET_CONFIG", "PLACET_BASE_URL", "PLACET_WEBHOOK_OPS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLACET_WEBHOOK_OPS_SECRET", SECRET)


def write(folder: Path, text: str) -> Path:
    path = folder / "placet.toml"
    path.write_text(text)
    return path


def problems(folder: Path) -> list[str]:
    return check_settings(folder)[1]


def test_channels_are_configured_once_and_kinds_say_who_hears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        '[placet]\nnotify = ["webhook:ops"]\nbase_url = "https://placet.example.com/"\n'
        f'{KIND}[kinds.quiet]\ntemplate = "x"\nnotify = []\n'
        '[kinds.legal]\ntemplate = "y"\nnotify = ["webhook:legal"]\n'
        '[channels]\nalert_after = "15m"\nmax_attempts = 4\nretry_delay = "2s"\n'
        f'{OPS}events = ["awaiting_review", "decided"]\n'
        '[channels.webhook.legal]\nurl = "http://127.0.0.1:9000/in"\ntimeout = 3\n',
    )
    monkeypatch.setenv("PLACET_WEBHOOK_LEGAL_SECRET", SECRET)
    settings = load_settings(tmp_path)
    ops, legal = settings.channels.webhooks["ops"], settings.channels.webhooks["legal"]
    assert (ops.url, ops.events, ops.secret, ops.max_attempts) == (
        "https://hooks.example.com/placet",
        ("awaiting_review", "decided"),
        SECRET,
        4,
    )
    assert (legal.events, legal.timeout, legal.retry_delay) == (EVENTS, 3.0, 2.0)
    assert settings.channels.alert_after == 900.0
    assert settings.base_url == "https://placet.example.com"
    assert settings.notify_for(settings.kinds["reply"]) == ("webhook:ops",)
    assert settings.notify_for(settings.kinds["quiet"]) == ()  # its own list replaces
    assert settings.notify_for(settings.kinds["legal"]) == ("webhook:legal",)


def test_the_secret_comes_from_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLACET_WEBHOOK_OPS_SECRET")
    write(tmp_path, OPS)
    (tmp_path / ".env").write_text(f"PLACET_WEBHOOK_OPS_SECRET={SECRET}\n")
    try:
        assert load_settings(tmp_path).channels.webhooks["ops"].secret == SECRET
    finally:
        monkeypatch.delenv("PLACET_WEBHOOK_OPS_SECRET", raising=False)


@pytest.mark.parametrize("key", ["secret", "signing_secret", "api_token", "password"])
def test_a_secret_in_placet_toml_is_refused(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f'{OPS}{key} = "{SECRET}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert caught.value.message == (
        f"{path} [channels.webhook.ops] {key}: a secret never goes in placet.toml (it is shared "
        "and versioned); remove it and set PLACET_WEBHOOK_OPS_SECRET in the environment or .env"
    )


def test_a_missing_or_malformed_secret_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, OPS)
    monkeypatch.delenv("PLACET_WEBHOOK_OPS_SECRET")
    assert problems(tmp_path) == [
        f"{path} [channels.webhook.ops]: no signing secret: set PLACET_WEBHOOK_OPS_SECRET in the "
        "environment or .env to a Standard Webhooks secret, whsec_ and base64 (make one with: "
        "placet channels secret)"
    ]
    monkeypatch.setenv("PLACET_WEBHOOK_OPS_SECRET", "hunter2")
    assert problems(tmp_path) == [
        f"PLACET_WEBHOOK_OPS_SECRET (the secret of {path} [channels.webhook.ops]) must start "
        "with whsec_ (the Standard Webhooks form: whsec_ and base64)"
    ]


def test_check_names_every_channel_problem_with_its_kind_and_setting(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[placet]\nnotify = ["webhook:ops", "webhook:nope"]\nbase_url = "placet.example.com"\n'
        f'{KIND}notify = ["email:group:legal", "slack"]\n'
        '[kinds.other]\ntemplate = "x"\nnotify = ["webhook:gone"]\n'
        '[channels]\nalert_after = "soon"\ncolour = "red"\n'
        '[channels.webhook.ops]\nurl = "ftp://hooks.example.com"\nevents = ["approved"]\n'
        '[channels.webhook.Bad]\nurl = "https://x.example.com"\n'
        '[channels.email.team]\nsmtp_host = "mail"\n',
    )
    assert problems(tmp_path) == [
        f'{path} [kinds.reply] notify: a channel is named TYPE:NAME, such as "webhook:ops", '
        "not 'slack'",
        f"{path} [channels]: unknown setting colour (allowed: alert_after, max_attempts, "
        "retry_delay, timeout)",
        f'{path} [channels] alert_after must be a duration from 1s to 7d (such as "30s", "10m" '
        "or a number of seconds), not 'soon'",
        f"{path} [channels.webhook.ops] url must be an http:// or https:// address with a host, "
        "such as 'https://hooks.example.com/placet', not 'ftp://hooks.example.com'",
        f"{path} [channels.webhook.Bad]: a channel's name is lower-case letters, digits, - and _ "
        "(at most 63), not 'Bad'",
        f"{path} [channels.email] is one table (one SMTP server; notify names the people): put "
        "smtp_host and the rest directly under [channels.email], not in [channels.email.team]",
        f"{path} [placet] base_url must be an http:// or https:// address with a host, such as "
        "'https://placet.example.com', not 'placet.example.com'",
        f"{path} [placet] notify: 'webhook:ops' is no configured channel (configured: none; "
        "add [channels.webhook.NAME])",
        f"{path} [placet] notify: 'webhook:nope' is no configured channel (configured: none; "
        "add [channels.webhook.NAME])",
        f"{path} [kinds.other] notify: 'webhook:gone' is no configured channel (configured: "
        "none; add [channels.webhook.NAME])",
    ]


def test_an_unknown_channel_type_in_notify_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, f'{KIND}notify = ["sms:legal", "webhook:ops"]\n{OPS}')
    assert problems(tmp_path) == [
        f"{path} [kinds.reply] notify: 'sms:legal': unknown channel type 'sms' "
        "(known: webhook, email, slack)"
    ]


def test_events_and_numbers_are_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'{OPS}events = ["decided", "approved"]\nmax_attempts = 0\n',
    )
    with pytest.raises(ConfigError, match=r"\[channels.webhook.ops\] events must be a list of"):
        load_settings(tmp_path)
    write(tmp_path, f"{OPS}max_attempts = 0\n")
    assert problems(tmp_path) == [
        f"{path} [channels.webhook.ops] max_attempts must be a whole number from 1 to 100, not 0"
    ]


def test_base_url_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACET_BASE_URL", "mailto:me")
    assert problems(tmp_path) == [
        "PLACET_BASE_URL must be an http:// or https:// address with a host, such as "
        "'https://placet.example.com', not 'mailto:me'"
    ]
    monkeypatch.setenv("PLACET_BASE_URL", "https://review.example.org/placet/")
    assert load_settings(tmp_path).base_url == "https://review.example.org/placet"


def test_an_email_address_without_the_email_channel_says_what_to_add(tmp_path: Path) -> None:
    path = write(tmp_path, f'{KIND}notify = ["email:group:legal", "webhook:ops"]\n{OPS}')
    assert problems(tmp_path) == [
        f"{path} [kinds.reply] notify: 'email:group:legal' needs the e-mail channel: "
        "add [channels.email]"
    ]
