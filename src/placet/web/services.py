"""What the web layer needs, built once per app and found through the request."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from placet.accounts import Accounts
from placet.engine import Engine
from placet.web.auth import Gate, Sessions, SignInLimiter
from placet.web.broker import Broker
from placet.web.metrics import Metrics


@dataclass
class Services:
    """The engine, accounts, live updates, metrics and the auth gate for one app."""

    engine: Engine
    accounts: Accounts
    broker: Broker
    gate: Gate
    sessions: Sessions
    limiter: SignInLimiter
    max_body_bytes: int = 1024 * 1024
    metrics: Metrics = field(default_factory=Metrics)


def services(request: Request) -> Services:
    """The app's services (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found
