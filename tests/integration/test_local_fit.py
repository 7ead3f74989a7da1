"""A local model's context from its GGUF metadata, its GPU layers, and where it runs
(providers/local_fit.py), with the real llama.cpp and the SmolLM2 file."""

from __future__ import annotations

import pytest

from placet.errors import ConfigError
from placet.providers import local_fit
from placet.providers.local import smollm2_path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (local_fit.CONTEXT_ENV, local_fit.GPU_LAYERS_ENV):
        monkeypatch.delenv(name, raising=False)


def test_the_context_is_what_the_model_was_trained_for() -> None:
    assert local_fit.trained_context(smollm2_path()) == 8192  # SmolLM2's GGUF says so
    assert local_fit.context_size(smollm2_path()) == 8192  # not the old fixed 2048


def test_a_configured_context_wins_and_a_bad_one_says_its_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(local_fit.CONTEXT_ENV, "4096")
    assert local_fit.context_size(smollm2_path()) == 4096
    monkeypatch.setenv(local_fit.CONTEXT_ENV, "lots")
    with pytest.raises(ConfigError, match="PLACET_LOCAL_CONTEXT must be a whole number from 256"):
        local_fit.check_fit_settings()


def test_without_a_gpu_build_no_layer_is_offloaded_and_status_says_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if local_fit.gpu_offload():
        pytest.skip("this llama.cpp has GPU support; the CPU case cannot be shown here")
    assert local_fit.gpu_layers() == 0
    assert local_fit.device().startswith("CPU")
    monkeypatch.setenv(local_fit.GPU_LAYERS_ENV, "12")
    assert local_fit.gpu_layers() == 12
    monkeypatch.setenv(local_fit.GPU_LAYERS_ENV, "-2")
    with pytest.raises(ConfigError, match="PLACET_LOCAL_GPU_LAYERS must be a whole number"):
        local_fit.gpu_layers()
