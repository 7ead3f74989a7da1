"""Accounts: users with hashed passwords and roles, API tokens, security events.

Passwords are hashed with argon2. API tokens are random 256-bit secrets shown
once; only their sha256 is stored (a fast hash is right for a secret this
long, and lets a token be found by its hash). Refusals and sign-ins are
recorded, so an admin can see who tried what.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from placet.config import Settings
from placet.domain.ids import new_id
from placet.domain.policy import Principal, Role, parse_roles
from placet.errors import ConfigError, ConflictError, InvalidInputError, NotFoundError
from placet.store.base import Store
from placet.store.schema import api_tokens, security_events, users

TOKEN_PREFIX = "plc_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()
# Verifying against a throwaway hash when the user does not exist keeps the
# time of a failed sign-in the same either way, so names cannot be probed.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    """A person who can sign in."""

    name: str
    roles: frozenset[Role]
    created_at: float
    disabled: bool = False


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


class Accounts:
    """Users, tokens and security events in the same database as the tasks."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    # -- users ------------------------------------------------------------------

    def add_user(self, name: str, password: str, roles: str | list[str]) -> User:
        """Create a user; the name must be new and the password at least 8 characters."""
        if not _NAME.match(name):
            raise InvalidInputError("a user name is 1-100 letters, digits, '.', '_', '@' or '-'")
        if len(password) < 8:
            raise InvalidInputError("the password must be at least 8 characters")
        role_set = role_set_of(roles)
        user = User(name, role_set, time.time())
        row = {
            "name": name,
            "password_hash": _hasher.hash(password),
            "roles": _role_text(role_set),
            "created_at": user.created_at,
            "disabled": False,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(users.insert(), row)
        except sa.exc.IntegrityError as exc:
            raise ConflictError(f"user {name!r} already exists") from exc
        return user

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password."""
        if len(password) < 8:
            raise InvalidInputError("the password must be at least 8 characters")
        self._update_user(name, password_hash=_hasher.hash(password))

    def set_roles(self, name: str, roles: str | list[str]) -> None:
        """Replace a user's roles."""
        self._update_user(name, roles=_role_text(role_set_of(roles)))

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable (or enable) a user; a disabled user cannot sign in or use tokens."""
        self._update_user(name, disabled=disabled)

    def _update_user(self, name: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            result = conn.execute(users.update().where(users.c.name == name).values(**values))
        if result.rowcount != 1:
            raise NotFoundError(f"no user named {name!r}")

    def users(self) -> list[User]:
        """Every user, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name))
            return [_user(row._mapping) for row in rows]

    def get_user(self, name: str) -> User:
        """The user, or raise NotFoundError."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no user named {name!r}")
        return _user(row._mapping)

    def authenticate(self, name: str, password: str) -> Principal | None:
        """The principal for a correct name and password, else None."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        stored = row._mapping["password_hash"] if row is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row._mapping["disabled"]:
            return None
        return self.principal(_user(row._mapping))

    def principal(self, user: User) -> Principal:
        """What a user may do, with the kind limits from placet.toml's `reviewers` lists."""
        listed = [kind for kind in self._settings.kinds.values() if kind.reviewers]
        mine = frozenset(kind.name for kind in listed if user.name in kind.reviewers)
        barred = frozenset(kind.name for kind in listed if user.name not in kind.reviewers)
        return Principal(user.name, user.roles, mine, barred)

    # -- tokens -----------------------------------------------------------------

    def create_token(self, user_name: str, label: str) -> tuple[str, ApiToken]:
        """A new API token for the user: the secret (shown once) and its record."""
        self.get_user(user_name)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(new_id(), user_name, label.strip() or "api token", time.time(), None)
        row = {
            "id": token.id,
            "user_name": user_name,
            "label": token.label,
            "token_hash": _token_hash(secret),
            "created_at": token.created_at,
        }
        with self._engine.begin() as conn:
            conn.execute(api_tokens.insert(), row)
        return secret, token

    def revoke_token(self, token_id: str, user_name: str | None = None) -> None:
        """Revoke a token (only the owner's, when ``user_name`` is given)."""
        query = api_tokens.update().where(api_tokens.c.id == token_id)
        if user_name is not None:
            query = query.where(api_tokens.c.user_name == user_name)
        with self._engine.begin() as conn:
            result = conn.execute(query.values(revoked_at=time.time()))
        if result.rowcount != 1:
            raise NotFoundError(f"no token {token_id}")

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        """Tokens (of one user, or everyone's), newest first."""
        query = sa.select(api_tokens).order_by(api_tokens.c.id.desc())
        if user_name is not None:
            query = query.where(api_tokens.c.user_name == user_name)
        with self._engine.connect() as conn:
            return [_token(row._mapping) for row in conn.execute(query)]

    def principal_for_token(self, secret: str) -> Principal | None:
        """Who a bearer token belongs to, if it is live and its user is enabled."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        query = (
            sa.select(users)
            .join(api_tokens, api_tokens.c.user_name == users.c.name)
            .where(api_tokens.c.token_hash == _token_hash(secret))
            .where(api_tokens.c.revoked_at.is_(None))
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row._mapping["disabled"]:
            return None
        return self.principal(_user(row._mapping))

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
        row = {
            "id": new_id(),
            "at": time.time(),
            "actor": actor[:200],
            "action": action[:100],
            "outcome": outcome,
            "target": target,
            "detail": detail,
            "remote": remote,
        }
        with self._engine.begin() as conn:
            conn.execute(security_events.insert(), row)

    def security_events(self, actor: str | None = None, limit: int = 200) -> list[SecurityEvent]:
        """The newest security events, optionally for one person."""
        query = sa.select(security_events).order_by(security_events.c.id.desc()).limit(limit)
        if actor:
            query = query.where(security_events.c.actor == actor)
        with self._engine.connect() as conn:
            return [SecurityEvent(**dict(row._mapping)) for row in conn.execute(query)]


def accounts_for(store: Store, settings: Settings) -> Accounts:
    """The accounts kept in the same database as a store's tasks."""
    from placet.store.sql import SqlStore

    if not isinstance(store, SqlStore):
        raise ConfigError("accounts need a SQL store (SQLite or PostgreSQL)")
    return Accounts(store.sql_engine, settings)


def role_set_of(roles: str | list[str]) -> frozenset[Role]:
    """The roles named, or InvalidInputError naming the unknown one (or asking for one)."""
    try:
        role_set = parse_roles(roles)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    if not role_set:
        raise InvalidInputError("give at least one role: admin, reviewer, requester or viewer")
    return role_set


def _role_text(roles: frozenset[Role]) -> str:
    return ",".join(sorted(role.value for role in roles))


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _user(row: Any) -> User:
    return User(row["name"], parse_roles(row["roles"]), row["created_at"], bool(row["disabled"]))


def _token(row: Any) -> ApiToken:
    return ApiToken(row["id"], row["user_name"], row["label"], row["created_at"], row["revoked_at"])
