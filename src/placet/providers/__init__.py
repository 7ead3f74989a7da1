"""Language model providers: the port, the registry and the adapters."""

from placet.providers.base import Chunk, Completion, CompletionRequest, Provider, collect

__all__ = ["Chunk", "Completion", "CompletionRequest", "Provider", "collect"]
