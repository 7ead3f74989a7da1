"""Who is asking, and may they: bearer tokens, session cookies, CSRF, refusals.

API requests authenticate with ``Authorization: Bearer <token>``; dashboard
pages with a signed, HttpOnly session cookie. Every refusal is recorded as a
security event before the 401/403 is returned.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import NoReturn

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from placet.domain.models import Task
from placet.domain.policy import Permission, Principal, may
from placet.engine.accounts import Accounts
from placet.errors import NotFoundError

SESSION_COOKIE = "placet_session"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Session:
    """A signed-in dashboard session."""

    user: str
    csrf: str


class Sessions:
    """Signed session cookies (the server keeps no session state)."""

    def __init__(self, secret_key: str, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="placet-session")
        self._secure = secure

    def start(self, response: Response, user: str) -> Session:
        """Sign a user in: set the cookie, with a fresh CSRF token."""
        session = Session(user, secrets.token_urlsafe(24))
        value = self._serializer.dumps({"user": user, "csrf": session.csrf})
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=self._secure,
            path="/",
        )
        return session

    def end(self, response: Response) -> None:
        """Sign out: clear the cookie."""
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")

    def read(self, request: Request) -> Session | None:
        """The request's session, if its cookie is present, signed by us and fresh."""
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("user"), str):
            return None
        return Session(data["user"], str(data.get("csrf", "")))


class SignInLimiter:
    """At most ``limit`` failed sign-ins per name and per address in ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self._limit = limit
        self._window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, *keys: str) -> bool:
        """True while any key has too many recent failures."""
        now = time.monotonic()
        for key in keys:
            failures = self._failures[key]
            while failures and failures[0] < now - self._window:
                failures.popleft()
            if len(failures) >= self._limit:
                return True
        return False

    def failed(self, *keys: str) -> None:
        """Count a failed sign-in against each key."""
        now = time.monotonic()
        for key in keys:
            self._failures[key].append(now)

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of a name that signed in."""
        for key in keys:
            self._failures.pop(key, None)


class Gate:
    """Resolves principals and enforces permissions, recording every refusal."""

    def __init__(self, accounts: Accounts, sessions: Sessions) -> None:
        self.accounts = accounts
        self.sessions = sessions

    def bearer(self, request: Request) -> Principal | None:
        """The principal of a bearer token, if the request carries a valid one."""
        header = request.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            return None
        return self.accounts.principal_for_token(secret.strip())

    def from_session(self, request: Request) -> tuple[Principal, Session] | None:
        """The principal of a session cookie, if it names an enabled user."""
        session = self.sessions.read(request)
        if session is None:
            return None
        try:
            user = self.accounts.get_user(session.user)
        except NotFoundError:
            return None
        if user.disabled:
            return None
        return self.accounts.principal(user, "dashboard"), session

    def authenticate(self, request: Request) -> Principal:
        """The API caller: a bearer token, or a session cookie (plus the CSRF header to change).

        No or bad credentials: 401 (recorded). A session without the right
        CSRF header on an unsafe method: 403 (recorded), since a browser sends
        the cookie on its own and only our pages know the token.
        """
        if request.headers.get("authorization"):
            principal = self.bearer(request)
            if principal is None:
                self.refuse(
                    request,
                    "anonymous",
                    "authenticate",
                    401,
                    "the token is invalid or revoked, or its user is disabled",
                )
            return principal
        signed_in = self.from_session(request)
        if signed_in is None:
            self.refuse(
                request,
                "anonymous",
                "authenticate",
                401,
                "sign in, or send Authorization: Bearer <token>",
            )
        principal, session = signed_in
        supplied = request.headers.get(CSRF_HEADER)
        if request.method not in SAFE_METHODS and not csrf_ok(session, supplied):
            self.refuse(
                request, principal.name, "csrf", 403, f"missing or wrong {CSRF_HEADER} header"
            )
        return principal

    def check(
        self,
        request: Request,
        principal: Principal,
        permission: Permission,
        task: Task | None = None,
    ) -> None:
        """Raise 403 (recorded) unless the principal may do this."""
        verdict = may(principal, permission, task)
        if not verdict.allowed:
            self.refuse(
                request,
                principal.name,
                permission.value,
                403,
                verdict.reason,
                task.id if task else None,
            )

    def refuse(
        self,
        request: Request,
        actor: str,
        action: str,
        status: int,
        reason: str,
        target: str | None = None,
    ) -> NoReturn:
        """Record a refusal, then raise the HTTP error."""
        self.accounts.record(
            actor, action, "refused", target or request.url.path, reason, remote_address(request)
        )
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        raise HTTPException(status, reason, headers=headers)


def csrf_ok(session: Session, supplied: str | None) -> bool:
    """True when the supplied token matches the session's (compared in constant time)."""
    return bool(supplied) and hmac.compare_digest(session.csrf, supplied or "")


def remote_address(request: Request) -> str:
    """The client's address, for the security log."""
    return request.client.host if request.client else "unknown"
