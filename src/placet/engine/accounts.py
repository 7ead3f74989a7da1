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
from dataclasses import asdict, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from placet.domain.accounts import ApiToken, SecurityEvent, User
from placet.domain.audit import UNKEYED, ChainHash, canonical_json
from placet.domain.ids import new_id
from placet.domain.policy import Principal, Role, parse_roles
from placet.errors import InvalidInputError, NotFoundError
from placet.store.base import AccountStore

__all__ = ["Accounts", "ApiToken", "SecurityEvent", "User", "role_set_of"]

TOKEN_PREFIX = "plc_"
SYSTEM = "placet"  # who changed an account when no person is named
ACCOUNT_STATE = "account_state"  # the security event recording an account's roles and state
RESET_PASSWORD = "reset_password"  # the security event of a password reset
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()
# Verifying against a throwaway hash when the user does not exist keeps the
# time of a failed sign-in the same either way, so names cannot be probed.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class Accounts:
    """Users, tokens and security events, kept in the same database as the tasks."""

    def __init__(self, records: AccountStore, chain: ChainHash = UNKEYED) -> None:
        self._records = records
        self._chain = chain  # security events enter the global audit log under this key

    # -- users ------------------------------------------------------------------

    def add_user(self, name: str, password: str, roles: str | list[str], by: str = SYSTEM) -> User:
        """Create a user; the name must be new and the password at least 8 characters."""
        if not _NAME.match(name):
            raise InvalidInputError("a user name is 1-100 letters, digits, '.', '_', '@' or '-'")
        _check_password(password)
        user = User(name, role_set_of(roles), time.time())
        self._records.insert_user(user, _hasher.hash(password), self._state_trail(user, by))
        return user

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password, ending every session they have."""
        _check_password(password)
        self._records.update_user(name, password_hash=_hasher.hash(password), end_sessions=True)

    def reset_password(self, name: str, by: str = SYSTEM) -> str:
        """Give a user a new random password, ending every session they have; return it.

        The reset is recorded in the security log in the same commit as the change.
        """
        password = secrets.token_urlsafe(12)
        event = SecurityEvent(
            new_id(), time.time(), by[:200], RESET_PASSWORD, "allowed", name,
            "a new random password; every session ended", None,
        )  # fmt: skip
        self._records.update_user(
            name,
            password_hash=_hasher.hash(password),
            end_sessions=True,
            trail=(event, self.entry_hash(event)),
        )
        return password

    def set_roles(self, name: str, roles: str | list[str], by: str = SYSTEM) -> None:
        """Replace a user's roles."""
        changed = replace(self.get_user(name), roles=role_set_of(roles))
        trail = self._state_trail(changed, by)
        self._records.update_user(name, roles=changed.roles, trail=trail)

    def set_disabled(self, name: str, disabled: bool, by: str = SYSTEM) -> None:
        """Disable (or enable) a user; a disabled user cannot sign in or use tokens.

        Disabling ends every session, so enabling the user again revives none.
        """
        trail = self._state_trail(replace(self.get_user(name), disabled=disabled), by)
        self._records.update_user(name, disabled=disabled, end_sessions=disabled, trail=trail)

    def _state_trail(self, user: User, by: str) -> tuple[SecurityEvent, str]:
        """The security event that records what an account now is (proved by the audit)."""
        event = SecurityEvent(
            new_id(), time.time(), by[:200], ACCOUNT_STATE, "allowed", user.name,
            account_state(user.roles, user.disabled), None,
        )  # fmt: skip
        return event, self.entry_hash(event)

    def end_sessions(self, name: str) -> None:
        """Sign a user out everywhere: every session cookie they hold stops working at once."""
        self._records.update_user(name, end_sessions=True)

    def session_user(self, name: str, generation: int) -> User | None:
        """The user a session names, if enabled and the session is of their current generation."""
        found = self._records.user_with_hash(name)
        if found is None or found[0].disabled:
            return None
        return found[0] if found[0].session_generation == generation else None

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
        self._records.insert_security_event(event, self.entry_hash(event))

    def entry_hash(self, event: SecurityEvent) -> str:
        """The hash the global audit log keeps of a security event (keyed when there is a key)."""
        return self._chain.of(canonical_json(asdict(event)))

    def security_events(self, actor: str | None = None, limit: int = 200) -> list[SecurityEvent]:
        """The newest security events, optionally for one person."""
        return self._records.security_events(actor, limit)

    def control_events(self) -> list[SecurityEvent]:
        """Every pause and resume, oldest first."""
        return self._records.control_events()


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


def account_state(roles: frozenset[Role], disabled: bool) -> str:
    """An account's state as its trail event records it (canonical JSON)."""
    return canonical_json({"roles": sorted(role.value for role in roles), "disabled": disabled})
