"""Signing in and out."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from placet.web.auth import (
    LOGIN_FORM_SECONDS,
    foreign_origin,
    is_https,
    remote_address,
    retry_after,
)
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
OTHER_SITE_HELP = (
    "This sign-in form was sent from another site. Open this site's own sign-in page "
    "and sign in there."
)

router = APIRouter()


def _safe_next(target: str) -> str:
    # Only a path on this site: "//evil.example" or "/\\evil" would leave it, and
    # browsers drop tabs and newlines, so "/\t/evil.example" would too.
    plain = target.isprintable() and not any(char.isspace() for char in target)
    if plain and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(
    request: Request,
    found: Services,
    next_url: str,
    status: int = 200,
    error: str | None = None,
    name: str = "",
    notice: str | None = None,
) -> HTMLResponse:
    nonce, token = found.sign_in_forms.issue(remote_address(request))
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
    # Signing in has no session yet: the form's token is bound to this cookie
    # (and to the address) by the server's key, so a cookie planted by another
    # site has no token to go with it.
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_FORM_SECONDS,
        httponly=True,
        samesite="strict",
        secure=found.sessions.secure(is_https(request)),
        path="/login",
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Form realm="Placet"'
    return response


@router.get("/login")
def login_form(
    request: Request,
    found: Annotated[Services, Depends(services)],
    next: str = "/",
    done: str = "",
) -> HTMLResponse:
    """The sign-in form."""
    return _login_page(request, found, next, notice=notice_for(done))


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _refuse(request: Request, found: Services, name: str, reason: str) -> None:
    found.accounts.record(
        name or "?", "sign_in", "refused", "/login", reason, remote_address(request)
    )


def _check_form(request: Request, found: Services, name: str, token: str) -> None:
    """Refuse (403, recorded) a sign-in posted from another site, or without this form's token."""
    source = foreign_origin(request)
    if source is not None:
        # Both sides in the log: a proxy that rewrites Host shows up here.
        here = f"{request.url.scheme}://{request.headers.get('host', '')}"
        reason = f"the sign-in form was posted from another site ({source[:100]}, not {here})"
        _refuse(request, found, name, reason)
        raise PageError(403, "Sign-in refused", OTHER_SITE_HELP)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not found.sign_in_forms.valid(cookie, token, remote_address(request)):
        _refuse(request, found, name, "the sign-in form's token is missing or wrong")
        raise PageError(403, "Form expired", CSRF_HELP)


@router.post("/login")
def login(
    request: Request,
    found: Annotated[Services, Depends(services)],
    name: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next: FormText = "/",
) -> Response:
    """Check the name and password (rate-limited per name and address) and start a session."""
    address = remote_address(request)
    _check_form(request, found, name, csrf_token)
    wait = found.limiter.wait(name, address)
    if wait > 0:
        _refuse(request, found, name, "too many failed sign-ins")
        message = f"Too many failed sign-ins. Try again in {_minutes(wait)}."
        blocked = _login_page(request, found, next, 429, message, name)
        blocked.headers["Retry-After"] = retry_after(wait)
        return blocked
    principal = found.accounts.authenticate(name, password)
    if principal is None:
        found.limiter.failed(name, address)
        found.accounts.record(
            name, "sign_in", "failed", "/login", "wrong name or password", address
        )
        return _login_page(request, found, next, 401, "Wrong name or password.", name)
    found.limiter.succeeded(name, address)
    found.accounts.record(name, "sign_in", "allowed", "/login", None, address)
    response = RedirectResponse(_safe_next(next), 303)
    generation = found.accounts.get_user(principal.name).session_generation
    found.sessions.start(response, principal.name, generation, is_https(request))
    response.delete_cookie(
        LOGIN_COOKIE, path="/login", secure=found.sessions.secure(is_https(request))
    )
    return response


@router.post("/logout")
def logout(request: Request, viewer: ViewerDep, csrf_token: FormText = "") -> Response:
    """Sign out: every session of this user ends, on this browser and any other."""
    check_csrf(request, viewer, csrf_token)
    viewer.services.accounts.end_sessions(viewer.name)
    viewer.services.accounts.record(
        viewer.name,
        "sign_out",
        "allowed",
        viewer.name,
        "every session ended",
        remote_address(request),
    )
    response = RedirectResponse("/login?done=signed-out", 303)
    viewer.services.sessions.end(response, is_https(request))
    return response
