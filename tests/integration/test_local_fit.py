"""A local model's context from its GGUF metadata, its GPU layers, and where it runs
(providers/local_fit.py), with the real llama.cpp and the SmolLM2 file; the settings
`context` and `gpu_layers` in placet.toml (or PLACET_LOCAL_CONTEXT, PLACET_LOCAL_GPU_LAYERS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.config import load_settings
from placet.errors import ConfigError
from placet.providers import local_fit
from placet.providers.local import smollm2_path
from placet.providers.registry import resolve

VARIABLES = ("PLACET_LOCAL_CONTEXT", "PLACET_LOCAL_GPU_LAYERS")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_context_is_what_the_model_was_trained_for() -> None:
    assert local_fit.trained_context(smollm2_path()) == 8192  # SmolLM2's GGUF says so
    assert local_fit.context_size(smollm2_path()) == 8192  # not the old fixed 2048
    assert local_fit.context_size(smollm2_path(), 4096) == 4096  # a configured one wins


def test_context_and_gpu_layers_come_from_placet_toml_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "placet.toml").write_text("[placet]\ncontext = 4096\ngpu_layers = 0\n")
    settings = load_settings(tmp_path)
    assert (settings.local_context, settings.local_gpu_layers) == (4096, 0)
    provider = resolve("local:smollm2", settings)
    assert provider._fit == (4096, 0)  # type: ignore[attr-defined]  # what it loads with
    monkeypatch.setenv("PLACET_LOCAL_CONTEXT", "2048")
    assert load_settings(tmp_path).local_context == 2048  # the variable overrides the file
    (tmp_path / "placet.toml").write_text("[placet]\n")
    monkeypatch.delenv("PLACET_LOCAL_CONTEXT")
    unset = load_settings(tmp_path)
    assert (unset.local_context, unset.local_gpu_layers) == (None, None)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("context = 100", "context"),
        ('context = "lots"', "context"),
        ("gpu_layers = -2", "gpu_layers"),
    ],
)
def test_a_bad_context_or_gpu_layers_is_refused_naming_it(
    tmp_path: Path, line: str, said: str
) -> None:
    (tmp_path / "placet.toml").write_text(f"[placet]\n{line}\n")
    with pytest.raises(ConfigError, match=said):
        load_settings(tmp_path)


def test_without_a_gpu_build_no_layer_is_offloaded_and_status_says_cpu() -> None:
    if local_fit.gpu_offload():
        pytest.skip("this llama.cpp has GPU support; the CPU case cannot be shown here")
    assert local_fit.gpu_layers() == 0
    assert local_fit.device().startswith("CPU")
    assert local_fit.gpu_layers(12) == 12
    assert local_fit.device(0) == "CPU (this llama.cpp has no GPU support)"
