"""Turning a model name such as ``groq:llama-3.3-70b-versatile`` into a Provider."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

from placet.config import Settings
from placet.errors import ConfigError
from placet.providers.base import Provider

ENTRY_POINT_GROUP = "placet.providers"
GROQ_BASE_URL = "https://api.groq.com/openai/v1"
OPENAI_BASE_URL = "https://api.openai.com/v1"
OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"

Factory = Callable[[str, Settings], Provider]
Check = Callable[[str, Settings], None]


def _groq_key(settings: Settings) -> str:
    if not settings.groq_api_key:
        raise ConfigError("groq: models need GROQ_API_KEY (in the environment or .env)")
    return settings.groq_api_key


def _groq(model: str, settings: Settings) -> Provider:
    from placet.providers.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        "groq",
        model,
        base_url=settings.groq_base_url or GROQ_BASE_URL,
        api_key=_groq_key(settings),
        timeout=settings.provider_timeout,
    )


def _openai_base_url(settings: Settings) -> str:
    base_url = settings.openai_base_url or OPENAI_BASE_URL
    if not settings.openai_api_key and base_url == OPENAI_BASE_URL:
        raise ConfigError(
            "openai: models need OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
        )
    return base_url


def _openai(model: str, settings: Settings) -> Provider:
    from placet.providers.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        "openai",
        model,
        base_url=_openai_base_url(settings),
        api_key=settings.openai_api_key or "none",
        timeout=settings.provider_timeout,
    )


def _ollama(model: str, settings: Settings) -> Provider:
    from placet.providers.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        "ollama",
        model,
        base_url=settings.ollama_base_url or OLLAMA_BASE_URL,
        api_key="ollama",
        timeout=settings.provider_timeout,
    )


def _local_ready(model: str, settings: Settings) -> None:
    from placet.providers.local import local_threads, model_path, repeat_penalty

    model_path(model)
    local_threads()  # PLACET_LOCAL_THREADS and PLACET_LOCAL_REPEAT_PENALTY, read
    repeat_penalty()  # when drafting, are checked now too


def _local(model: str, settings: Settings) -> Provider:
    from placet.providers.local import LocalProvider

    return LocalProvider(model, settings.local_context, settings.local_gpu_layers)


BUILT_IN: dict[str, Factory] = {
    "groq": _groq,
    "openai": _openai,
    "ollama": _ollama,
    "local": _local,
}
# What each built-in provider needs that can be checked without making it: a key, an
# endpoint, a model file. Making one is dearer: the openai SDK alone takes most of a
# second to import, and llama.cpp's library a third.
CHECKS: dict[str, Check] = {
    "groq": lambda _model, settings: _needs(_groq_key, settings),
    "openai": lambda _model, settings: _needs(_openai_base_url, settings),
    "ollama": lambda _model, _settings: None,  # no key; whether it answers shows when drafting
    "local": _local_ready,
}


def _needs(setting: Callable[[Settings], str], settings: Settings) -> None:
    """Check a setting a provider needs (it raises ConfigError when missing)."""
    setting(settings)


def resolve(name: str, settings: Settings) -> Provider:
    """The provider for a ``prefix:model`` name; third parties add prefixes by entry point."""
    prefix, model = _split(name)
    factory = BUILT_IN.get(prefix) or _plugin(prefix)
    if factory is None:
        raise _unknown(prefix)
    return factory(model, settings)


def check(name: str, settings: Settings) -> None:
    """Raise ConfigError when a model cannot be used as configured; nothing is made or called.

    For the built-in providers: the name, the key or endpoint, the model file and the
    local model's settings. A third party's provider is checked by its prefix only (its
    entry point is not loaded).
    """
    prefix, model = _split(name)
    built_in = CHECKS.get(prefix)
    if built_in is not None:
        built_in(model, settings)
    elif not any(entry_point.name == prefix for entry_point in _entry_points()):
        raise _unknown(prefix)


def _split(name: str) -> tuple[str, str]:
    prefix, sep, model = name.partition(":")
    if not sep or not model:
        raise ConfigError(f"model {name!r} must look like provider:model, e.g. local:smollm2")
    return prefix, model


def _unknown(prefix: str) -> ConfigError:
    known = sorted(set(BUILT_IN) | {ep.name for ep in _entry_points()})
    return ConfigError(f"unknown model provider {prefix!r}; known: {', '.join(known)}")


def _entry_points() -> importlib.metadata.EntryPoints:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _plugin(prefix: str) -> Factory | None:
    for entry_point in _entry_points():
        if entry_point.name == prefix:
            factory: Factory = entry_point.load()
            return factory
    return None
