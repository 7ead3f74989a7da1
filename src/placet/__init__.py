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
    from placet.client import (
        AlreadyExecuted,
        Client,
        Outcome,
        Rejected,
        TaskHandle,
        connect,
        current_idempotency_key,
    )

__version__ = "0.1.0"

_SDK = (
    "AlreadyExecuted",
    "Client",
    "Outcome",
    "Rejected",
    "TaskHandle",
    "connect",
    "current_idempotency_key",
)


def __getattr__(name: str) -> object:
    # The SDK pulls in the engine and the database layer; load it on first use so
    # that `import placet` stays cheap for code that only needs the records.
    if name in _SDK:
        from placet import client

        return getattr(client, name)
    raise AttributeError(f"module 'placet' has no attribute {name!r}")


__all__ = [
    "AlreadyExecuted",
    "Client",
    "ConflictError",
    "Decision",
    "DecisionKind",
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
    "current_idempotency_key",
]
