"""The local provider with the real SmolLM2 model, run in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.errors import ConfigError
from placet.providers.base import CompletionRequest
from placet.providers.local import LocalProvider, model_path, smollm2_path

REQUEST = CompletionRequest(
    messages=[
        {"role": "system", "content": "You write short, friendly emails."},
        {"role": "user", "content": "Write one sentence welcoming Rahul to the team."},
    ],
    max_tokens=16,
    temperature=0.0,
)


def test_smollm2_ships_as_a_gguf_file() -> None:
    path = smollm2_path()
    assert path.is_file()
    assert path.read_bytes()[:4] == b"GGUF"
    assert model_path("smollm2") == path


def test_name_says_local_and_the_model() -> None:
    assert LocalProvider().name == "local:smollm2"


@pytest.mark.slow
def test_stream_yields_several_chunks_then_usage() -> None:
    chunks = list(LocalProvider().stream(REQUEST))

    pieces = [chunk.text for chunk in chunks if chunk.text]
    assert len(pieces) >= 2
    assert "".join(pieces).strip()
    assert not any(chunk.restart for chunk in chunks)
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.prompt_tokens > 5
    assert 0 < usage.completion_tokens <= 16


@pytest.mark.slow
def test_complete_returns_text_and_usage() -> None:
    completion = LocalProvider().complete(REQUEST)

    assert completion.text.strip()
    assert completion.usage.prompt_tokens > 5
    assert 0 < completion.usage.completion_tokens <= 16


def test_unknown_gguf_path_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model.gguf"
    with pytest.raises(ConfigError, match=r"no-such-model\.gguf"):
        LocalProvider(str(missing))
