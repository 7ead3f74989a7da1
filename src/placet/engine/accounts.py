"""Accounts: users with hashed passwords and roles, API tokens, security events.

Passwords are hashed with argon2. API tokens are random 256-bit secrets shown
once; only their sha256 is stored (a fast hash is right for a secret this
long, and lets a token be found by its hash). Refusals and sign-ins are
recorded, so an admin can see who tried what. The rows live behind the
store's ``AccountStore`` port; the rules live here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from placet.domain.accounts import ApiToken, SecurityEvent, User
from placet.domain.ids import new_id
from placet.domain.policy import Principal, Role, parse_roles
from placet.errors import InvalidInputError, NotFoundError
from placet.store.base import AccountStore

__all__ = ["Accounts", "ApiToken", "SecurityEvent", "User", "role_set_of"]

TOKEN_PREFIX = "plc_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()
# Verifying against a throwaway hash when the user does not exist keeps the
# time of a failed sign-in the same either way, so names cannot be probed.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class Accounts:
    """Users, tokens and security events, kept in the same database as the tasks."""

    def __init__(self, records: AccountStore) -> None:
        self._records = records

    # -- users ------------------------------------------------------------------

    def add_user(self, name: str, password: str, roles: str | list[str]) -> User:
        """Create a user; the name must be new and the password at least 8 characters."""
        if not _NAME.match(name):
            raise InvalidInputError("a user name is 1-100 letters, digits, '.', '_', '@' or '-'")
        _check_password(password)
        user = User(name, role_set_of(roles), time.time())
        self._records.insert_user(user, _hasher.hash(password))
        return user

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password."""
        _check_password(password)
        self._records.update_user(name, password_hash=_hasher.hash(password))

    def set_roles(self, name: str, roles: str | list[str]) -> None:
        """Replace a user's roles."""
        self._records.update_user(name, roles=role_set_of(roles))

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable (or enable) a user; a disabled user cannot sign in or use tokens."""
        self._records.update_user(name, disabled=disabled)

    def users(self) -> list[User]:
        """Every user, by name."""
        return self._records.users()

    def exist(self) -> bool:
        """True once any account exists: from then on, every decision needs one."""
        return self._records.has_users()

    def get_user(self, name: str) -> User:
        """The user, or raise NotFoundError."""
        found = self._records.user_with_hash(name)
        if found is None:
            raise NotFoundError(f"no user named {name!r}")
        return found[0]

    def authenticate(self, name: str, password: str) -> Principal | None:
        """The principal for a correct name and password, else None."""
        found = self._records.user_with_hash(name)
        stored = found[1] if found is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if found is None or found[0].disabled:
            return None
        return self.principal(found[0])

    def principal(self, user: User, channel: str = "api") -> Principal:
        """Who a user is when acting through a channel."""
        return Principal(user.name, user.roles, channel)

    # -- tokens -----------------------------------------------------------------

    def create_token(self, user_name: str, label: str) -> tuple[str, ApiToken]:
        """A new API token for the user: the secret (shown once) and its record."""
        self.get_user(user_name)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(new_id(), user_name, label.strip() or "api token", time.time(), None)
        self._records.insert_token(token, _token_hash(secret))
        return secret, token

    def revoke_token(self, token_id: str, user_name: str | None = None) -> None:
        """Revoke a token (only the owner's, when ``user_name`` is given)."""
        self._records.revoke_token(token_id, user_name, time.time())

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        """Tokens (of one user, or everyone's), newest first."""
        return self._records.tokens(user_name)

    def principal_for_token(self, secret: str) -> Principal | None:
        """Who a bearer token belongs to, if it is live and its user is enabled."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        user = self._records.user_for_token_hash(_token_hash(secret))
        if user is None or user.disabled:
            return None
        return self.principal(user)

    # -- security events ----------------------------------------------------------

    def record(
        self,
        actor: str,
        action: str,
        outcome: str,
        target: str | None = None,
        detail: str | None = None,
        remote: str | None = None,
    ) -> None:
        """Record a sign-in, a refusal or an account change."""
        event = SecurityEvent(
            new_id(), time.time(), actor[:200], action[:100], outcome, target, detail, remote
        )
        self._records.insert_security_event(event)

    def security_events(self, actor: str | None = None, limit: int = 200) -> list[SecurityEvent]:
        """The newest security events, optionally for one person."""
        return self._records.security_events(actor, limit)


def role_set_of(roles: str | list[str]) -> frozenset[Role]:
    """The roles named, or InvalidInputError naming the unknown one (or asking for one)."""
    try:
        role_set = parse_roles(roles)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    if not role_set:
        raise InvalidInputError("give at least one role: admin, reviewer, requester or viewer")
    return role_set


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise InvalidInputError("the password must be at least 8 characters")


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
