"""The Python SDK: ``placet.connect()``, tasks you wait on, approval gates and handlers.

The rooms: ``client`` (``connect``, ``Client``, ``TaskHandle``: submit, wait,
ask, and the decorators for gates and outcome handlers), ``gates``
(``@client.require_approval``: a call that runs once, as approved) and
``runner`` (driving one task to its end: draft here when no worker does, wait
for people; ``placet run`` and ``placet wait`` use it too) and ``announce``
(what a waiting program says on stderr, once, unless quiet). The handlers
themselves run in ``placet.handlers``; how a task ended is
``placet.domain.outcomes.Outcome``.
"""

from placet.domain.outcomes import Outcome
from placet.handlers.base import Delivery, current_delivery, current_idempotency_key
from placet.sdk.client import Client, TaskHandle, connect
from placet.sdk.gates import AlreadyExecuted, Rejected
from placet.sdk.runner import WaitTimeout

__all__ = [
    "AlreadyExecuted",
    "Client",
    "Delivery",
    "Outcome",
    "Rejected",
    "TaskHandle",
    "WaitTimeout",
    "connect",
    "current_delivery",
    "current_idempotency_key",
]
