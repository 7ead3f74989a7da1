"""Placet: AI proposes, humans decide."""

from typing import TYPE_CHECKING

from placet.domain.models import (
    Decision,
    DecisionKind,
    Draft,
    Event,
    Task,
    TaskDetail,
    TaskKind,
    TaskStatus,
)
from placet.errors import ConflictError, PlacetError, UsageError, WorldError

if TYPE_CHECKING:  # the SDK is loaded lazily below; type checkers see it directly
    from placet.client import Client, Outcome, TaskHandle, connect
    from placet.gates import AlreadyExecuted, Rejected, current_idempotency_key
    from placet.handlers import Delivery, current_delivery

__version__ = "0.1.0"

# The SDK's names, by the module that defines each.
_SDK = {
    "Client": "client",
    "Outcome": "client",
    "TaskHandle": "client",
    "connect": "client",
    "AlreadyExecuted": "gates",
    "Rejected": "gates",
    "current_idempotency_key": "gates",
    "Delivery": "handlers",
    "current_delivery": "handlers",
}


def __getattr__(name: str) -> object:
    # The SDK pulls in the engine and the database layer; load it on first use so
    # that `import placet` stays cheap for code that only needs the records.
    if name in _SDK:
        import importlib

        return getattr(importlib.import_module(f"placet.{_SDK[name]}"), name)
    raise AttributeError(f"module 'placet' has no attribute {name!r}")


__all__ = [
    "AlreadyExecuted",
    "Client",
    "ConflictError",
    "Decision",
    "DecisionKind",
    "Delivery",
    "Draft",
    "Event",
    "Outcome",
    "PlacetError",
    "Rejected",
    "Task",
    "TaskDetail",
    "TaskHandle",
    "TaskKind",
    "TaskStatus",
    "UsageError",
    "WorldError",
    "__version__",
    "connect",
    "current_delivery",
    "current_idempotency_key",
]
