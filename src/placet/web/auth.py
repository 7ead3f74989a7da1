"""Who is asking, and may they: bearer tokens, session cookies, CSRF, sign-in, refusals.

API requests authenticate with ``Authorization: Bearer <token>``; dashboard
pages with a signed, HttpOnly session cookie that names the user's session
generation, so raising it ends every session at once. Every refusal is
recorded as a security event before the 401/403 is returned. The client's
address is the socket's peer, or the client a trusted proxy names
(``--forwarded-allow-ips``); the scheme likewise, which decides ``Secure``.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NoReturn
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from placet.domain.models import Task
from placet.domain.policy import Permission, Principal, may
from placet.engine.accounts import Accounts

SESSION_COOKIE = "placet_session"
SESSION_SECONDS = 12 * 3600
LOGIN_FORM_SECONDS = 3600  # how long a sign-in form may stay open
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Session:
    """A signed-in dashboard session."""

    user: str
    csrf: str
    generation: int = 0  # the user's session generation it began in


class Sessions:
    """Signed session cookies; the server keeps no session rows, only each user's generation."""

    def __init__(self, secret_key: str, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="placet-session")
        self._always_secure = secure  # --secure-cookies

    def secure(self, over_https: bool) -> bool:
        """Whether cookies get ``Secure``: over HTTPS, or always with ``--secure-cookies``."""
        return self._always_secure or over_https

    def start(
        self, response: Response, user: str, generation: int = 0, over_https: bool = False
    ) -> Session:
        """Sign a user in: set the cookie, with a fresh CSRF token and the user's generation."""
        session = Session(user, secrets.token_urlsafe(24), generation)
        value = self._serializer.dumps({"user": user, "csrf": session.csrf, "gen": generation})
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=self.secure(over_https),
            path="/",
        )
        return session

    def end(self, response: Response, over_https: bool = False) -> None:
        """Clear this browser's cookie (the user's generation is what ends the session)."""
        response.delete_cookie(
            SESSION_COOKIE,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.secure(over_https),
        )

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
        generation = data.get("gen")
        if type(generation) is not int:  # a cookie from before sessions could end: sign in again
            return None
        return Session(data["user"], str(data.get("csrf", "")), generation)


class SignInForms:
    """The sign-in form's token: bound to the pre-login cookie and the client's address.

    The pre-login cookie holds a random nonce; the form carries the nonce and the
    address signed with the server's key. A page on another port of this host can
    plant a cookie of its choosing, but not a token to match it; and a pair an
    attacker fetched for himself does not work from the victim's address. A post
    from another origin is refused besides (``foreign_origin``).
    """

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="placet-login")

    def issue(self, address: str) -> tuple[str, str]:
        """A fresh (cookie value, form token) pair for a client at this address."""
        nonce = secrets.token_urlsafe(24)
        return nonce, self._serializer.dumps({"nonce": nonce, "address": address})

    def valid(self, cookie: str, token: str, address: str) -> bool:
        """True when the token was issued by us, lately, for this cookie and this address."""
        if not (cookie and token):
            return False
        try:
            data = self._serializer.loads(token, max_age=LOGIN_FORM_SECONDS)
        except BadSignature:  # a forged, altered or expired token
            return False
        if not isinstance(data, dict) or data.get("address") != address:
            return False
        return same_secret(str(data.get("nonce", "")), cookie)


@dataclass
class _Failures:
    count: int
    last: float
    until: float  # no attempt before this (monotonic seconds)


class SignInLimiter:
    """Failed sign-ins counted per (name, address), with a wait that doubles.

    After ``limit`` failures of one name from one address, that pair waits
    ``first_wait`` seconds, and each further failure doubles the wait, up to
    ``max_wait``. Only the pair waits: the same address may still sign in to an
    account it did not attack, and the real user, from their own address, is
    never locked out by someone else's guesses. (A per-name limit would let any
    stranger lock a person out; argon2's cost slows guessing from many
    addresses, and the security log shows it.) A pair with no failure for
    ``forget_after`` seconds after its wait ended starts afresh; a success clears it.
    """

    def __init__(
        self,
        limit: int = 5,
        first_wait: float = 60.0,
        max_wait: float = 3600.0,
        forget_after: float = 3600.0,
        max_pairs: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit, self._first_wait, self._max_wait = limit, first_wait, max_wait
        self._forget_after, self._max_pairs, self._clock = forget_after, max_pairs, clock
        self._pairs: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()

    def wait(self, name: str, address: str) -> float:
        """Seconds before this name may be tried from this address again (0: now)."""
        with self._lock:
            found = self._pairs.get((name, address))
            return 0.0 if found is None else max(0.0, found.until - self._clock())

    def failed(self, name: str, address: str) -> None:
        """Count a failed sign-in of this name from this address."""
        now = self._clock()
        with self._lock:
            found = self._pairs.pop((name, address), None)
            if found is None or now - max(found.last, found.until) > self._forget_after:
                found = _Failures(0, now, now)
            found.count += 1
            found.last = now
            if found.count >= self._limit:
                doublings = min(found.count - self._limit, 32)
                found.until = now + min(self._max_wait, self._first_wait * 2**doublings)
            self._pairs[(name, address)] = found  # the newest last, so the oldest go first
            while len(self._pairs) > self._max_pairs:
                del self._pairs[next(iter(self._pairs))]

    def succeeded(self, name: str, address: str) -> None:
        """Forget the failures of a name that signed in from this address."""
        with self._lock:
            self._pairs.pop((name, address), None)


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
        principal = self.accounts.principal_for_token(secret.strip())
        return None if principal is None else replace(principal, remote=remote_address(request))

    def from_session(self, request: Request) -> tuple[Principal, Session] | None:
        """The principal of a session cookie, if it names an enabled user."""
        session = self.sessions.read(request)
        if session is None:
            return None
        user = self.accounts.session_user(session.user, session.generation)
        if user is None:  # no such user, disabled, or signed out everywhere since
            return None
        principal = self.accounts.principal(user, "dashboard")
        return replace(principal, remote=remote_address(request)), session

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

    def may_see(self, request: Request, principal: Principal, task: Task) -> bool:
        """True when the principal may see the task; a refusal is recorded.

        The caller answers a refusal exactly as it answers an id that does not
        exist (404), so nobody can find out which ids are someone else's tasks.
        """
        verdict = may(principal, Permission.VIEW_TASK, task)
        if not verdict.allowed:
            action = Permission.VIEW_TASK.value
            self.record_refusal(request, principal.name, action, verdict.reason, task.id)
        return verdict.allowed

    def record_refusal(
        self, request: Request, actor: str, action: str, reason: str, target: str | None = None
    ) -> None:
        """Put a refusal in the security log, with the client's address."""
        self.accounts.record(
            actor, action, "refused", target or request.url.path, reason, remote_address(request)
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
        self.record_refusal(request, actor, action, reason, target)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        raise HTTPException(status, reason, headers=headers)


def csrf_ok(session: Session, supplied: str | None) -> bool:
    """True when the supplied token matches the session's (compared in constant time)."""
    return bool(supplied) and same_secret(session.csrf, supplied or "")


def same_secret(expected: str, supplied: str) -> bool:
    """Compare in constant time; any text (not only ASCII) is merely unequal."""
    return hmac.compare_digest(expected.encode("utf-8"), supplied.encode("utf-8", "replace"))


def remote_address(request: Request) -> str:
    """The client's address: the socket's peer, or the client a trusted proxy named.

    Only a proxy listed in ``--forwarded-allow-ips`` is believed: the app's
    proxy-headers middleware then puts the client of ``X-Forwarded-For`` in
    the request's place. By default no proxy is, and the peer is the client.
    """
    return request.client.host if request.client else "unknown"


def is_https(request: Request) -> bool:
    """True when the client reached us over HTTPS (directly, or as a trusted proxy says)."""
    return request.url.scheme == "https"


def retry_after(seconds: float) -> str:
    """A Retry-After header's value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))


def foreign_origin(request: Request) -> str | None:
    """The request's Origin (or, without one, its Referer) when it names another site, else None.

    Neither header: a client that is not a browser, or one that sends
    neither; the form's token still guards it. ``Origin: null`` (an opaque
    origin, such as a sandboxed frame or a page that hides its referrer) is
    another site. The host and port must be those of the request's ``Host``
    header; the scheme too when the request came over HTTPS.
    """
    source = request.headers.get("origin")
    if source is None:
        source = request.headers.get("referer")
        if source is None:
            return None
    try:
        parts = urlsplit(source.strip())
    except ValueError:
        return source
    here = request.url.scheme
    if parts.scheme not in ("http", "https") or (here == "https" and parts.scheme != "https"):
        return source
    same = _authority(parts.scheme, parts.netloc) == _authority(here, request.headers.get("host"))
    return None if same else source


def _authority(scheme: str, netloc: str | None) -> str:
    """Host and port as compared: lower case, without the scheme's default port."""
    found = (netloc or "").lower()
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    return found[: -len(default)] if default and found.endswith(default) else found
