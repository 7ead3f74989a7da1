"""Placet: AI proposes, humans decide."""

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

__version__ = "0.1.0"

__all__ = [
    "ConflictError",
    "Decision",
    "DecisionKind",
    "Draft",
    "Event",
    "PlacetError",
    "Task",
    "TaskDetail",
    "TaskKind",
    "TaskStatus",
    "UsageError",
    "WorldError",
    "__version__",
]
