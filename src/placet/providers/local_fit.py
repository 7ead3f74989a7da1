"""How a local GGUF model is fitted to the machine: its context size and GPU layers.

The context was a fixed 2,048 tokens for every model. Now it is what the model was
trained for (``<architecture>.context_length`` in the GGUF's metadata), at most
``DEFAULT_CONTEXT_CAP`` so a long-context model does not take gigabytes of KV cache by
default; ``[placet] context`` (``PLACET_LOCAL_CONTEXT``) sets it outright. Layers go to
a GPU when llama.cpp was built with one (all of them by default; ``[placet] gpu_layers``,
``PLACET_LOCAL_GPU_LAYERS``, sets how many, 0 for none). Without a GPU nothing changes.
The settings are read and checked with the rest of the configuration (``placet.config``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

FALLBACK_CONTEXT = 2048  # a GGUF whose metadata does not say
DEFAULT_CONTEXT_CAP = 8192
ALL_LAYERS = -1  # llama.cpp's word for every layer


def context_size(path: Path, configured: int | None = None) -> int:
    """The context a model is loaded with: the configured one, else what the GGUF says
    it was trained for (at most DEFAULT_CONTEXT_CAP), else FALLBACK_CONTEXT."""
    if configured is not None:
        return configured
    trained = trained_context(path)
    return min(trained, DEFAULT_CONTEXT_CAP) if trained else FALLBACK_CONTEXT


def trained_context(path: Path) -> int | None:
    """``<architecture>.context_length`` from a GGUF's metadata (its vocabulary only is
    loaded to read it: a fraction of a second)."""
    from llama_cpp import Llama

    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        probe = Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        metadata: dict[str, Any] = dict(probe.metadata)
    finally:
        probe.close()
    architecture = metadata.get("general.architecture")
    found = metadata.get(f"{architecture}.context_length")
    try:
        return int(found) if found is not None else None
    except ValueError:
        return None


def gpu_layers(configured: int | None = None) -> int:
    """Layers offloaded to a GPU: the configured number, else all when llama.cpp can
    offload (a GPU build), else none."""
    if configured is not None:
        return configured
    return ALL_LAYERS if gpu_offload() else 0


def gpu_offload() -> bool:
    """Whether this llama.cpp build can put layers on a GPU."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def device(configured_layers: int | None = None) -> str:
    """Where local models run, in words, for placet status."""
    try:
        offload = gpu_offload()
    except ImportError:
        return "nowhere yet: llama-cpp-python is not installed (pip install llama-cpp-python)"
    if not offload:
        return "CPU (this llama.cpp has no GPU support)"
    layers = gpu_layers(configured_layers)
    if layers == 0:
        return "CPU (gpu_layers = 0)"
    return "GPU (every layer)" if layers == ALL_LAYERS else f"GPU ({layers} layers), CPU the rest"
