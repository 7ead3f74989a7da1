"""The REST API's accounts: API tokens (anyone's own; admins' for all) and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from placet.domain.limits import MAX_NAME
from placet.domain.policy import Permission, Principal
from placet.web.api.common import READ_ERRORS, WRITE_ERRORS, Caller, Svc, errors
from placet.web.api.schemas import TokenCreatedOut, TokenIn, TokenOut, UserOut
from placet.web.auth import remote_address
from placet.web.services import Services

router = APIRouter()


@router.get(
    "/tokens",
    response_model=list[TokenOut],
    tags=["accounts"],
    summary="List API tokens",
    responses=READ_ERRORS,
)
def list_tokens(
    request: Request,
    svc: Svc,
    who: Caller,
    user: Annotated[str | None, Query(max_length=200, description="Whose (admins only).")] = None,
) -> list[TokenOut]:
    """Your tokens (never their secrets); an admin may name another user."""
    owner = _token_owner(request, svc, who, user)
    return [TokenOut.of(token) for token in svc.accounts.tokens(owner)]


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreatedOut,
    tags=["accounts"],
    summary="Create an API token",
    responses=WRITE_ERRORS,
)
def create_token(body: TokenIn, request: Request, svc: Svc, who: Caller) -> TokenCreatedOut:
    """A new token; its secret is in this response only."""
    owner = _token_owner(request, svc, who, body.user)
    secret, token = svc.accounts.create_token(owner, body.label)
    svc.accounts.record(who.name, "create_token", "allowed", owner, token.id)
    return TokenCreatedOut(**TokenOut.of(token).model_dump(), token=secret)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    tags=["accounts"],
    summary="Revoke an API token",
    responses=errors(401, 403, 404, 422, 503),
)
def revoke_token(
    token_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    svc: Svc,
    who: Caller,
) -> Response:
    """Revoke one of your tokens at once (an admin may revoke anyone's)."""
    if who.has(Permission.MANAGE_USERS):
        svc.accounts.revoke_token(token_id)
    else:
        svc.gate.check(request, who, Permission.MANAGE_OWN_TOKENS)
        svc.accounts.revoke_token(token_id, user_name=who.name)  # someone else's: 404
    svc.accounts.record(who.name, "revoke_token", "allowed", token_id)
    return Response(status_code=204)


def _token_owner(request: Request, svc: Services, who: Principal, user: str | None) -> str:
    """Whose tokens a request is about, after checking it may be."""
    if user is None or user == who.name:
        svc.gate.check(request, who, Permission.MANAGE_OWN_TOKENS)
        return who.name
    svc.gate.check(request, who, Permission.MANAGE_USERS)
    return user


@router.get(
    "/users",
    response_model=list[UserOut],
    tags=["accounts"],
    summary="List users",
    responses=errors(401, 403, 503),
)
def list_users(request: Request, svc: Svc, who: Caller) -> list[UserOut]:
    """Every account (admins only)."""
    svc.gate.check(request, who, Permission.MANAGE_USERS)
    return [UserOut.of(user) for user in svc.accounts.users()]


@router.delete(
    "/users/{name}/sessions",
    status_code=204,
    tags=["accounts"],
    summary="Sign a user out everywhere",
    responses=errors(401, 403, 404, 422, 503),
)
def end_sessions(
    name: Annotated[str, Path(min_length=1, max_length=MAX_NAME)],
    request: Request,
    svc: Svc,
    who: Caller,
) -> Response:
    """End every dashboard session of the user at once (admins only; tokens are untouched)."""
    svc.gate.check(request, who, Permission.MANAGE_USERS)
    svc.accounts.end_sessions(name)  # no such user: 404
    svc.accounts.record(
        who.name, "end_sessions", "allowed", name, "every session ended", remote_address(request)
    )
    return Response(status_code=204)
