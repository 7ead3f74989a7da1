"""Every SQL statement on the accounts' tables: users, API tokens, security events.

The rules (password hashing, name checks, who a token belongs to) are the
engine's (``placet.engine.accounts``); this module only reads and writes rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from placet.domain.accounts import ApiToken, SecurityEvent, User
from placet.domain.policy import Role, parse_roles
from placet.errors import ConflictError, NotFoundError
from placet.store.schema import CONTROLS, api_tokens, audit_pending, security_events, users


class SqlAccountStore:
    """Users, tokens and security events in the same database as the tasks."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- users ------------------------------------------------------------------

    def insert_user(self, user: User, password_hash: str, trail: Trail | None = None) -> None:
        """Add a user (and its trail entry, in the same commit); a taken name is a ConflictError."""
        row = {
            "name": user.name,
            "password_hash": password_hash,
            "roles": role_text(user.roles),
            "created_at": user.created_at,
            "disabled": user.disabled,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(users.insert(), row)
                _log(conn, trail)
        except sa.exc.IntegrityError as exc:
            raise ConflictError(f"user {user.name!r} already exists") from exc

    def update_user(
        self,
        name: str,
        password_hash: str | None = None,
        roles: frozenset[Role] | None = None,
        disabled: bool | None = None,
        end_sessions: bool = False,
        trail: Trail | None = None,
    ) -> None:
        """Change what is given of a user; ``end_sessions`` raises their session generation.

        ``trail``, the security event that records the new state, is written in the
        same commit, so the audit trail and the row never disagree.
        """
        values: dict[str, Any] = {"password_hash": password_hash, "disabled": disabled}
        values = {key: value for key, value in values.items() if value is not None}
        if roles is not None:
            values["roles"] = role_text(roles)
        if end_sessions:  # in the same statement as the change that ends them
            values["session_generation"] = users.c.session_generation + 1
        with self._engine.begin() as conn:
            result = conn.execute(users.update().where(users.c.name == name).values(**values))
            if result.rowcount == 1:
                _log(conn, trail)
        if result.rowcount != 1:
            raise NotFoundError(f"no user named {name!r}")

    def users(self) -> list[User]:
        """Every user, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name))
            return [_user(row._mapping) for row in rows]

    def has_users(self) -> bool:
        """True once any account exists (then the single-user mode ends)."""
        with self._engine.connect() as conn:
            return conn.execute(sa.select(users.c.name).limit(1)).first() is not None

    def user_with_hash(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        return None if row is None else (_user(row._mapping), row._mapping["password_hash"])

    def user_for_token_hash(self, token_hash: str) -> User | None:
        """The user owning a live (unrevoked) token with this hash."""
        query = (
            sa.select(users)
            .join(api_tokens, api_tokens.c.user_name == users.c.name)
            .where(api_tokens.c.token_hash == token_hash)
            .where(api_tokens.c.revoked_at.is_(None))
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _user(row._mapping)

    # -- tokens -----------------------------------------------------------------

    def insert_token(self, token: ApiToken, token_hash: str) -> None:
        """Store a new token's record and hash."""
        row = {
            "id": token.id,
            "user_name": token.user_name,
            "label": token.label,
            "token_hash": token_hash,
            "created_at": token.created_at,
        }
        with self._engine.begin() as conn:
            conn.execute(api_tokens.insert(), row)

    def revoke_token(self, token_id: str, user_name: str | None, at: float) -> None:
        """Mark a token revoked (only the owner's, when ``user_name`` is given)."""
        query = api_tokens.update().where(api_tokens.c.id == token_id)
        if user_name is not None:
            query = query.where(api_tokens.c.user_name == user_name)
        with self._engine.begin() as conn:
            result = conn.execute(query.values(revoked_at=at))
        if result.rowcount != 1:
            raise NotFoundError(f"no token {token_id}")

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        """Tokens (of one user, or everyone's), newest first."""
        query = sa.select(api_tokens).order_by(api_tokens.c.id.desc())
        if user_name is not None:
            query = query.where(api_tokens.c.user_name == user_name)
        with self._engine.connect() as conn:
            return [_token(row._mapping) for row in conn.execute(query)]

    # -- security events ----------------------------------------------------------

    def insert_security_event(self, event: SecurityEvent, entry_hash: str) -> None:
        """Append to the security log, and queue its entry in the global audit log, at once."""
        with self._engine.begin() as conn:
            _log(conn, (event, entry_hash))

    def security_events(self, actor: str | None, limit: int) -> list[SecurityEvent]:
        """The newest security events, optionally for one person."""
        query = sa.select(security_events).order_by(security_events.c.id.desc()).limit(limit)
        if actor:
            query = query.where(security_events.c.actor == actor)
        with self._engine.connect() as conn:
            return [SecurityEvent(**dict(row._mapping)) for row in conn.execute(query)]

    def control_events(self) -> list[SecurityEvent]:
        """Every pause and resume, oldest first (through their own small index)."""
        query = sa.select(security_events).where(CONTROLS).order_by(security_events.c.id)
        with self._engine.connect() as conn:
            return [SecurityEvent(**dict(row._mapping)) for row in conn.execute(query)]


def role_text(roles: frozenset[Role]) -> str:
    """Roles as the comma-separated text the users table keeps."""
    return ",".join(sorted(role.value for role in roles))


def _user(row: Any) -> User:
    return User(
        row["name"],
        parse_roles(row["roles"]),
        row["created_at"],
        bool(row["disabled"]),
        int(row["session_generation"]),
    )


def _token(row: Any) -> ApiToken:
    return ApiToken(row["id"], row["user_name"], row["label"], row["created_at"], row["revoked_at"])


Trail = tuple[SecurityEvent, str]  # a security event and its hash for the global log


def _log(conn: Any, trail: Trail | None) -> None:
    """Write a security event and queue it for the global audit log, in ``conn``'s commit."""
    if trail is None:
        return
    event, entry_hash = trail
    conn.execute(security_events.insert(), event.__dict__)
    queued = {"kind": "security", "ref": event.id, "entry_hash": entry_hash}
    conn.execute(audit_pending.insert(), queued)
