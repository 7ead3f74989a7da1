"""Outcome handlers: functions run after a decision commits, at least once.

The rooms: ``base`` (what a handler and a delivery are, and what a running
handler can ask), ``sweep`` (finding the decisions a handler has not been given
yet), ``runner`` (claiming, running and recording deliveries: ``placet worker
--app``) and ``admin`` (listing and retrying the deliveries that gave up).
Handlers are declared with ``@client.on_approved`` / ``@client.on_rejected``
(``placet.sdk``); nothing here imports the SDK.
"""

from placet.handlers.admin import failed_deliveries, retry_failed, task_deliveries
from placet.handlers.base import (
    Delivery,
    Handler,
    HandlerFunction,
    HandlerSet,
    current_delivery,
    current_idempotency_key,
    make_handler,
)
from placet.handlers.runner import HandlerPool, HandlerRunner, register_handler

__all__ = [
    "Delivery",
    "Handler",
    "HandlerFunction",
    "HandlerPool",
    "HandlerRunner",
    "HandlerSet",
    "current_delivery",
    "current_idempotency_key",
    "failed_deliveries",
    "make_handler",
    "register_handler",
    "retry_failed",
    "task_deliveries",
]
