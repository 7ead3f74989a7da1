"""Every bad setting is a ``ConfigError`` naming where it was read, never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.config import load_settings
from placet.errors import ConfigError
from placet.providers.local import local_threads

VARIABLES = (
    "PLACET_CONFIG",
    "PLACET_MODEL",
    "PLACET_DATABASE_URL",
    "PLACET_REVIEW_DIR",
    "PLACET_REVIEW_AS",
    "PLACET_MAX_INPUT_BYTES",
    "PLACET_PROVIDER_TIMEOUT",
    "PLACET_LOCAL_THREADS",
    "GROQ_API_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_numbers_within_their_ranges_are_read(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(
        "[placet]\nlease_seconds = 30\nmax_input_bytes = 2048\n"
        '[kinds.a]\ntemplate = "x"\nmax_attempts = 5\nmax_tokens = 64\ntemperature = 0\n'
    )
    settings = load_settings(tmp_path)
    assert settings.lease_seconds == 30 and settings.max_input_bytes == 2048
    kind = settings.kinds["a"]
    assert (kind.max_attempts, kind.max_tokens, kind.temperature) == (5, 64, 0)


def test_where_each_setting_came_from_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "placet.toml").write_text('[placet]\nreview_dir = "reviews"\n')
    settings = load_settings(tmp_path)
    assert settings.source_of("review_dir") == f"review_dir in {tmp_path / 'placet.toml'} [placet]"
    monkeypatch.setenv("PLACET_REVIEW_DIR", "elsewhere")
    assert load_settings(tmp_path).source_of("review_dir") == "PLACET_REVIEW_DIR"
    assert load_settings(tmp_path / "none").source_of("lease_seconds") == "lease_seconds"


@pytest.mark.parametrize(
    "text",
    [
        "max_attempts = 99999999999999999999",
        "max_attempts = -1",
        "max_tokens = 1_000_001",
        "temperature = 2.5",
        "temperature = -inf",
    ],
)
def test_a_kinds_bad_number_names_the_file_kind_and_setting(tmp_path: Path, text: str) -> None:
    (tmp_path / "placet.toml").write_text(f'[kinds.a]\ntemplate = "x"\n{text}\n')
    setting = text.split(" = ")[0]
    with pytest.raises(ConfigError, match=rf"placet\.toml \[kinds\.a\]: {setting} must be"):
        load_settings(tmp_path)


def test_a_huge_environment_value_is_cut_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACET_MAX_INPUT_BYTES", "9" * 10_000)
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert raised.value.message.startswith("PLACET_MAX_INPUT_BYTES must be a whole number")
    assert len(raised.value.message) < 200


@pytest.mark.parametrize("value", ["abc", "-2", "99999999999999999999", "4.5"])
def test_local_threads_must_be_a_small_whole_number(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PLACET_LOCAL_THREADS", value)
    with pytest.raises(ConfigError, match="PLACET_LOCAL_THREADS must be a whole number"):
        local_threads()


def test_local_threads_default_to_every_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_threads() >= 1
    monkeypatch.setenv("PLACET_LOCAL_THREADS", "3")
    assert local_threads() == 3
