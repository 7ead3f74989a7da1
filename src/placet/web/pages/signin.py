"""Signing in and out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from placet.web.auth import remote_address
from placet.web.pages.common import (
    CSRF_HELP,
    FormText,
    PageError,
    ViewerDep,
    check_csrf,
    notice_for,
    page,
)
from placet.web.services import Services, services

LOGIN_COOKIE = "placet_login"

router = APIRouter()


def _safe_next(target: str) -> str:
    # Only a path on this site: "//evil.example" or "/\\evil" would leave it, and
    # browsers drop tabs and newlines, so "/\t/evil.example" would too.
    plain = target.isprintable() and not any(char.isspace() for char in target)
    if plain and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(
    next_url: str,
    status: int = 200,
    error: str | None = None,
    name: str = "",
    notice: str | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        "login.html",
        None,
        status,
        title="Sign in",
        next_url=_safe_next(next_url),
        login_token=token,
        name=name,
        error=error,
        notice=notice,
    )
    # Signing in has no session yet, so its form is guarded by a double-submit cookie.
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/login"
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Form realm="Placet"'
    return response


@router.get("/login")
def login_form(next: str = "/", done: str = "") -> HTMLResponse:
    """The sign-in form."""
    return _login_page(next, notice=notice_for(done))


@router.post("/login")
def login(
    request: Request,
    found: Annotated[Services, Depends(services)],
    name: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next: FormText = "/",
) -> Response:
    """Check the name and password (rate-limited) and start a session."""
    address = remote_address(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not (expected and csrf_token and hmac.compare_digest(expected, csrf_token)):
        found.accounts.record(
            name or "?",
            "sign_in",
            "refused",
            "/login",
            "the sign-in form's token is missing or wrong",
            address,
        )
        raise PageError(403, "Form expired", CSRF_HELP)
    keys = (f"name:{name}", f"address:{address}")
    if found.limiter.blocked(*keys):
        found.accounts.record(
            name, "sign_in", "refused", "/login", "too many failed sign-ins", address
        )
        message = "Too many failed sign-ins. Wait a few minutes, then try again."
        return _login_page(next, 429, message, name)
    principal = found.accounts.authenticate(name, password)
    if principal is None:
        found.limiter.failed(*keys)
        found.accounts.record(
            name, "sign_in", "failed", "/login", "wrong name or password", address
        )
        return _login_page(next, 401, "Wrong name or password.", name)
    found.limiter.succeeded(keys[0])  # the address keeps its count: one account is not a pass
    found.accounts.record(name, "sign_in", "allowed", "/login", None, address)
    response = RedirectResponse(_safe_next(next), 303)
    found.sessions.start(response, principal.name)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, viewer: ViewerDep, csrf_token: FormText = "") -> Response:
    """End the session."""
    check_csrf(request, viewer, csrf_token)
    response = RedirectResponse("/login?done=signed-out", 303)
    viewer.services.sessions.end(response)
    return response
