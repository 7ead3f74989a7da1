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


def _groq(model: str, settings: Settings) -> Provider:
    from placet.providers.openai_compat import OpenAICompatibleProvider

    if not settings.groq_api_key:
        raise ConfigError("groq: models need GROQ_API_KEY (in the environment or .env)")
    return OpenAICompatibleProvider(
        "groq",
        model,
        base_url=settings.groq_base_url or GROQ_BASE_URL,
        api_key=settings.groq_api_key,
        timeout=settings.provider_timeout,
    )


def _openai(model: str, settings: Settings) -> Provider:
    from placet.providers.openai_compat import OpenAICompatibleProvider

    base_url = settings.openai_base_url or OPENAI_BASE_URL
    if not settings.openai_api_key and base_url == OPENAI_BASE_URL:
        raise ConfigError(
            "openai: models need OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
        )
    return OpenAICompatibleProvider(
        "openai",
        model,
        base_url=base_url,
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


def _local(model: str, settings: Settings) -> Provider:
    from placet.providers.local import LocalProvider

    return LocalProvider(model)


BUILT_IN: dict[str, Factory] = {
    "groq": _groq,
    "openai": _openai,
    "ollama": _ollama,
    "local": _local,
}


def resolve(name: str, settings: Settings) -> Provider:
    """The provider for a ``prefix:model`` name; third parties add prefixes by entry point."""
    prefix, sep, model = name.partition(":")
    if not sep or not model:
        raise ConfigError(f"model {name!r} must look like provider:model, e.g. local:smollm2")
    factory = BUILT_IN.get(prefix) or _plugin(prefix)
    if factory is None:
        known = sorted(set(BUILT_IN) | {ep.name for ep in _entry_points()})
        raise ConfigError(f"unknown model provider {prefix!r}; known: {', '.join(known)}")
    return factory(model, settings)


def _entry_points() -> importlib.metadata.EntryPoints:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _plugin(prefix: str) -> Factory | None:
    for entry_point in _entry_points():
        if entry_point.name == prefix:
            factory: Factory = entry_point.load()
            return factory
    return None
