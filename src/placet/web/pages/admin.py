"""Users and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from placet.domain.limits import MAX_NAME, too_long
from placet.domain.policy import Permission, Role
from placet.errors import ConflictError, NotFoundError, UsageError
from placet.web.auth import remote_address
from placet.web.pages.common import (
    FormText,
    PageError,
    Viewer,
    ViewerDep,
    check,
    check_csrf,
    notice_for,
    page,
)

router = APIRouter()


def _users_page(viewer: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    accounts = viewer.services.accounts
    return page(
        "users.html",
        viewer,
        status,
        title="Users",
        page="users",
        users=accounts.users(),
        tokens=accounts.tokens(),
        roles=[r.value for r in Role],
        **context,
    )


@router.get("/admin/users")
def users_page(request: Request, viewer: ViewerDep, done: str = "") -> HTMLResponse:
    """Every account and every token."""
    check(request, viewer, Permission.MANAGE_USERS)
    return _users_page(viewer, notice=notice_for(done))


@router.post("/admin/users")
def add_user(
    request: Request,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    name: FormText = "",
    password: FormText = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create an account."""
    check_csrf(request, viewer, csrf_token)
    check(request, viewer, Permission.MANAGE_USERS)
    try:
        viewer.services.accounts.add_user(name.strip(), password, roles or [], by=viewer.name)
    except UsageError as exc:
        status = 409 if isinstance(exc, ConflictError) else 422
        return _users_page(viewer, status, error=exc.message, new_name=name)
    _record(request, viewer, "add_user", name, ",".join(sorted(roles or [])))
    return RedirectResponse("/admin/users?done=user-added", 303)


@router.post("/admin/users/{name}/disable")
def disable_user(
    request: Request,
    name: str,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    disabled: FormText = "1",
) -> Response:
    """Disable (or, with disabled=0, enable) an account."""
    check_csrf(request, viewer, csrf_token)
    check(request, viewer, Permission.MANAGE_USERS)
    off = disabled != "0"
    if off and name == viewer.name:
        return _users_page(viewer, 422, error="You cannot disable your own account.")
    try:
        viewer.services.accounts.set_disabled(name, off, by=viewer.name)
    except NotFoundError as exc:
        raise PageError(404, "No such user", exc.message) from exc
    if off:
        _record(request, viewer, "disable_user", name, "every session ended")
    else:
        _record(request, viewer, "enable_user", name)
    return RedirectResponse(f"/admin/users?done=user-{'disabled' if off else 'enabled'}", 303)


@router.post("/admin/users/{name}/signout")
def sign_out_everywhere(
    request: Request, name: str, viewer: ViewerDep, csrf_token: FormText = ""
) -> Response:
    """End every session of an account at once (yours too, if you name yourself)."""
    check_csrf(request, viewer, csrf_token)
    check(request, viewer, Permission.MANAGE_USERS)
    try:
        viewer.services.accounts.end_sessions(name)
    except NotFoundError as exc:
        raise PageError(404, "No such user", exc.message) from exc
    _record(request, viewer, "end_sessions", name, "every session ended")
    return RedirectResponse("/admin/users?done=sessions-ended", 303)


def _record(request: Request, viewer: Viewer, action: str, target: str, detail: str = "") -> None:
    viewer.services.accounts.record(
        viewer.name, action, "allowed", target, detail or None, remote_address(request)
    )


def _tokens_page(viewer: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    tokens = viewer.services.accounts.tokens(viewer.name)
    return page(
        "tokens.html", viewer, status, title="API tokens", page="tokens", tokens=tokens, **context
    )


@router.get("/tokens")
def tokens_page(request: Request, viewer: ViewerDep, done: str = "") -> HTMLResponse:
    """My API tokens."""
    check(request, viewer, Permission.MANAGE_OWN_TOKENS)
    return _tokens_page(viewer, notice=notice_for(done))


@router.post("/tokens")
def create_token(
    request: Request,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    label: FormText = "",
    user: FormText = "",
) -> Response:
    """Create a token (an admin may create one for anyone); the secret is shown once."""
    check_csrf(request, viewer, csrf_token)
    owner = user.strip() or viewer.name
    permission = Permission.MANAGE_OWN_TOKENS if owner == viewer.name else Permission.MANAGE_USERS
    check(request, viewer, permission)
    if problem := too_long("label", label, MAX_NAME):
        if owner != viewer.name:
            return _users_page(viewer, 422, error=problem)
        return _tokens_page(viewer, 422, error=problem)
    try:
        secret, token = viewer.services.accounts.create_token(owner, label)
    except NotFoundError as exc:
        raise PageError(404, "No such user", exc.message) from exc
    _record(request, viewer, "create_token", owner, token.id)
    if owner != viewer.name:
        return _users_page(viewer, secret=secret, secret_token=token)
    return _tokens_page(viewer, secret=secret, secret_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    token_id: str,
    viewer: ViewerDep,
    csrf_token: FormText = "",
    back: FormText = "",
) -> Response:
    """Revoke a token: your own, or anyone's if you manage users."""
    check_csrf(request, viewer, csrf_token)
    check(request, viewer, Permission.MANAGE_OWN_TOKENS)
    admin = viewer.can("manage_users")
    try:
        viewer.services.accounts.revoke_token(token_id, None if admin else viewer.name)
    except NotFoundError as exc:
        raise PageError(404, "No such token", "You have no token with that id.") from exc
    _record(request, viewer, "revoke_token", token_id)
    target = "/admin/users" if back == "users" and admin else "/tokens"
    return RedirectResponse(f"{target}?done=token-revoked", 303)
