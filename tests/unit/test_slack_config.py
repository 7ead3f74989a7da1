"""``[channels.slack]`` from placet.toml: one workspace; its token and signing secret from
the environment (never the file); its Slack channels named in ``notify``."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.config import check_settings, load_settings
from placet.domain.channels import SlackTarget

SLACK = '[channels.slack]\nusers = { U0RITA = "rita" }\n'
KIND = '[kinds.reply]\ntemplate = "Answer {q}"\nnotify = ["slack:#legal", "slack:C0123ABCD"]\n'
VARIABLES = ("PLACET_SLACK_BOT_TOKEN", "PLACET_SLACK_SIGNING_SECRET")


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLACET_CONFIG", raising=False)
    monkeypatch.setenv("PLACET_SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("PLACET_SLACK_SIGNING_SECRET", "s3cret")


def problems(folder: Path, text: str) -> list[str]:
    (folder / "placet.toml").write_text(text)
    return check_settings(folder)[1]


def test_a_workspace_and_the_slack_channels_notify_names(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(
        f'[placet]\nnotify = ["slack:#reviews"]\n{KIND}{SLACK}max_attempts = 3\n'
    )
    channels = load_settings(tmp_path).channels
    assert channels.slack is not None
    assert (channels.slack.bot_token, channels.slack.signing_secret) == ("xoxb-1", "s3cret")
    assert channels.slack.base_url == "https://slack.com/api/"
    assert channels.slack.users == {"U0RITA": "rita"}
    assert channels.addresses == ("slack:#legal", "slack:#reviews", "slack:C0123ABCD")
    found = channels.find("#reviews")
    assert isinstance(found, SlackTarget) and found.max_attempts == 3
    assert channels.get("slack:#reviews") == found


@pytest.mark.parametrize("key", ["bot_token", "signing_secret", "token"])
def test_a_secret_in_placet_toml_is_refused_naming_where_it_belongs(
    tmp_path: Path, key: str
) -> None:
    (found,) = problems(tmp_path, f'{SLACK}{key} = "xoxb-leaked"\n')
    assert f"[channels.slack] {key}: a secret never goes in placet.toml" in found
    assert "PLACET_SLACK_BOT_TOKEN or PLACET_SLACK_SIGNING_SECRET" in found


@pytest.mark.parametrize("variable", VARIABLES)
def test_a_missing_secret_names_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv(variable)
    (found,) = problems(tmp_path, SLACK)
    assert f"[channels.slack]: set {variable} in the environment or .env" in found


def test_bad_settings_and_bad_slack_channels_are_named(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, '[channels.slack]\nusers = { ana = "ana" }\n')
    assert "users: each is a Slack user id (U or W and capitals and digits)" in found
    (found,) = problems(tmp_path, f'{SLACK}base_url = "ftp://x"\n')
    assert "[channels.slack] base_url must be an http:// or https:// address" in found
    (found,) = problems(tmp_path, f"{SLACK}who = 1\n")
    assert "[channels.slack]: unknown setting who" in found
    (found,) = problems(tmp_path, '[placet]\nnotify = ["slack:Reviews"]\n' + SLACK)
    assert found == (
        f"{tmp_path / 'placet.toml'} [placet] notify: 'slack:Reviews' names no Slack channel: "
        'write "slack:#name" (lower case) or its id, "slack:C0123ABCD"'
    )


def test_slack_without_its_table_is_no_channel(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, '[placet]\nnotify = ["slack:#reviews"]\n')
    assert "'slack:#reviews' is no configured channel" in found
