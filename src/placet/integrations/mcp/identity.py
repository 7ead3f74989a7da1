"""Who calls through the MCP door: the local user over stdio, a token's account over HTTP.

Over stdio the server runs as the person who started it, as the CLI does:
``PLACET_USER`` or the OS user, an account once any exists, and with no
accounts the one local person (single-user mode, which the audit records).
Over HTTP every request carries ``Authorization: Bearer <token>``, one of
Placet's API tokens (``placet tokens create NAME``); the caller is that
token's account, looked up again on every call, so a token revoked or an
account disabled stops working at once. A name is never taken from what the
client sends. Every principal's channel is ``mcp``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import anyio.to_thread
from mcp.server.auth.provider import AccessToken

from placet.config import default_actor
from placet.domain.policy import Principal
from placet.engine import Engine
from placet.errors import PermissionDeniedError

CHANNEL = "mcp"
BAD_TOKEN = "the token is invalid or revoked, or its user is disabled"


class Identity(Protocol):
    """How the server learns who is calling."""

    def principal(self, token: str | None) -> Principal:
        """The caller, from the bearer token the request was verified with (None on stdio)."""
        ...


class LocalIdentity:
    """stdio: the user who started the server (PLACET_USER or the OS user)."""

    def __init__(self, engine: Engine, name: str | None = None) -> None:
        self.engine = engine
        self.name = default_actor(name)

    def principal(self, token: str | None) -> Principal:
        """The local principal, checked against the accounts as they are now."""
        return self.engine.local_principal(CHANNEL, self.name)


class TokenIdentity:
    """HTTP: the account of the bearer token each request carries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def principal(self, token: str | None) -> Principal:
        """The token's account now; refused when there is none, or it no longer works."""
        found = None if token is None else self.engine.accounts.principal_for_token(token)
        if found is None:
            self.engine.accounts.record("anonymous", "authenticate", "refused", CHANNEL, BAD_TOKEN)
            raise PermissionDeniedError(f"{BAD_TOKEN}; nothing was done")
        return replace(found, channel=CHANNEL)


class PlacetTokens:
    """The MCP SDK's token verifier over Placet's API tokens; a refusal is logged."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's account as an access token, or None (the request is refused with 401)."""
        return await anyio.to_thread.run_sync(self._verify, token)

    def _verify(self, token: str) -> AccessToken | None:
        found = self.engine.accounts.principal_for_token(token)
        if found is None:
            self.engine.accounts.record("anonymous", "authenticate", "refused", CHANNEL, BAD_TOKEN)
            return None
        roles = sorted(role.value for role in found.roles)
        return AccessToken(token=token, client_id=found.name, subject=found.name, scopes=roles)
