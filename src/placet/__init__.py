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
from placet.errors import (
    ConflictError,
    PausedError,
    PermissionDeniedError,
    PlacetError,
    UsageError,
    WorldError,
)

if TYPE_CHECKING:  # the SDK is loaded lazily below; type checkers see it directly
    from placet.domain.outcomes import Outcome
    from placet.handlers.base import Delivery, current_delivery, current_idempotency_key
    from placet.sdk.client import Client, TaskHandle, connect
    from placet.sdk.gates import AlreadyExecuted, Rejected

__version__ = "0.1.0"
Paused = PausedError  # ``except placet.Paused``: the kill switch held an approved call

# The SDK's names, by the module that defines each.
_SDK = {
    "Client": "placet.sdk.client",
    "TaskHandle": "placet.sdk.client",
    "connect": "placet.sdk.client",
    "AlreadyExecuted": "placet.sdk.gates",
    "Rejected": "placet.sdk.gates",
    "Outcome": "placet.domain.outcomes",
    "Delivery": "placet.handlers.base",
    "current_delivery": "placet.handlers.base",
    "current_idempotency_key": "placet.handlers.base",
}


def __getattr__(name: str) -> object:
    # The SDK pulls in the engine and the database layer; load it on first use so
    # that `import placet` stays cheap for code that only needs the records.
    if name in _SDK:
        import importlib

        return getattr(importlib.import_module(_SDK[name]), name)
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
    "Paused",
    "PausedError",
    "PermissionDeniedError",
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
