from pathlib import Path

import pytest

from placet.config import load_settings
from placet.domain.starter import STARTER_TOML
from placet.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLACET_CONFIG", "PLACET_MODEL", "GROQ_API_KEY", "PLACET_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_without_a_file_the_starter_kinds_are_ready(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert {"onboarding_email", "customer_reply", "policy_answer"} <= set(settings.kinds)
    assert settings.config_path is None


def test_the_starter_file_parses_to_the_same_kinds(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(STARTER_TOML)
    assert load_settings(tmp_path).kinds == load_settings(tmp_path / "nowhere").kinds


def test_a_broken_file_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text('[placet]\ndatabase = "x"\n[kinds.a\n')
    with pytest.raises(ConfigError, match=r"placet\.toml.*line 3"):
        load_settings(tmp_path)


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text('[kinds.a]\ntemplate = "x"\ntemplte = "y"\n')
    with pytest.raises(ConfigError, match="unknown setting templte"):
        load_settings(tmp_path)


def test_a_kind_needs_a_template(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text('[kinds.a]\nsystem = "x"\n')
    with pytest.raises(ConfigError, match="'template' is required"):
        load_settings(tmp_path)


def test_model_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "placet.toml").write_text(
        '[kinds.a]\ntemplate = "x"\n[kinds.b]\ntemplate = "y"\nmodel = "openai:gpt-4o-mini"\n'
    )
    settings = load_settings(tmp_path)
    assert settings.model_for(settings.kinds["a"]) == "local:smollm2"
    monkeypatch.setenv("GROQ_API_KEY", "test-key")
    settings = load_settings(tmp_path)
    assert settings.model_for(settings.kinds["a"]) == "groq:llama-3.3-70b-versatile"
    assert settings.model_for(settings.kinds["b"]) == "openai:gpt-4o-mini"
    monkeypatch.setenv("PLACET_MODEL", "local:smollm2")
    assert load_settings(tmp_path).model_for(settings.kinds["a"]) == "local:smollm2"


def test_dotenv_fills_what_the_environment_leaves_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("GROQ_API_KEY=from-dotenv\n")
    assert load_settings(tmp_path).groq_api_key == "from-dotenv"
