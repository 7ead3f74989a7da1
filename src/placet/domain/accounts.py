"""Accounts as records: people who sign in, their API tokens, the security log. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from placet.domain.policy import Role


@dataclass(frozen=True)
class User:
    """A person who can sign in."""

    name: str
    roles: frozenset[Role]
    created_at: float
    disabled: bool = False
    # Raised to end every session of the user at once (sign-out, a new password,
    # disabling, "sign out everywhere"): a session cookie names the one it began in.
    session_generation: int = 0


@dataclass(frozen=True)
class ApiToken:
    """An API token's record (never the secret)."""

    id: str
    user_name: str
    label: str
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True)
class SecurityEvent:
    """A sign-in, a refusal, or an account change."""

    id: str
    at: float
    actor: str
    action: str
    outcome: str
    target: str | None
    detail: str | None
    remote: str | None
