"""The confirmation page a signed link opens (``/links/TOKEN``), and its one deciding POST.

A GET only shows: what the link would do, the draft, and a button; or why
the link no longer works (forged, expired, used, stale, or the recipient may
no longer decide). Mail scanners fetch every link in a message, so a GET
must never decide. Only the page's own POST decides, as the account signed in
the link (``placet.engine.links``), never a name from the form.

The form is CSRF-protected as the sign-in form is (the person may have no
session): the page sets a random cookie and puts in the form a token that
binds that cookie to this link, signed with the server's key; a POST from
another site is refused besides.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from placet.domain.links import LINK_PATH, LinkRefused
from placet.engine.links import LinkDesk
from placet.errors import PermissionDeniedError, PlacetError
from placet.web.auth import foreign_origin, is_https
from placet.web.pages.common import CSRF_HELP, FormText, PageError, page
from placet.web.services import Services, services

FORM_COOKIE = "placet_link"
FORM_SECONDS = 3600
DONE = {"approve": "Approved", "reject": "Rejected"}

router = APIRouter()


def link_key(request: Request, found: Services) -> str:
    """The key links are signed with: the channels' (the server's key, as the workers that
    send e-mail and webhooks read it), else this server's own."""
    signing = found.engine.settings.channels.link_key
    return signing if signing is not None else str(request.app.state.link_key)


def desk(request: Request, found: Services) -> LinkDesk:
    """The links on this app's engine."""
    return LinkDesk(found.engine, link_key(request, found))


def _forms(request: Request, found: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(link_key(request, found), salt="placet-link-form")


def _refused(message: str, status: int = 410) -> PageError:
    return PageError(status, "This link cannot be used", message)


@router.get(LINK_PATH + "{token}")
def confirm(
    token: str, request: Request, found: Annotated[Services, Depends(services)]
) -> HTMLResponse:
    """Show what the link would do, and ask to confirm; decides nothing."""
    try:
        looked = desk(request, found).look(token)
    except LinkRefused as exc:
        raise _refused(exc.message, 404) from None
    if looked.refusal is not None:
        raise _refused(looked.refusal)
    link, task = looked.link, looked.task
    draft = found.engine.get_draft(link.draft_id).output
    nonce = secrets.token_urlsafe(24)
    response = page(
        "link.html",
        None,
        title=f"Confirm: {link.action}",
        link=link,
        task=task,
        draft=draft,
        action=LINK_PATH + token,
        button=f"Yes, {link.action} this draft",
        form_token=_forms(request, found).dumps({"nonce": nonce, "link": link.id}),
    )
    response.set_cookie(
        FORM_COOKIE,
        nonce,
        max_age=FORM_SECONDS,
        httponly=True,
        samesite="strict",
        secure=found.sessions.secure(is_https(request)),
        path=LINK_PATH,
    )
    # The token is in the address: it goes to no other site (and "no-referrer" would make
    # the browser send "Origin: null" with the form, which the origin check refuses).
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@router.post(LINK_PATH + "{token}")
def decide(
    token: str,
    request: Request,
    found: Annotated[Services, Depends(services)],
    csrf_token: FormText = "",
    reason: FormText = "",
) -> HTMLResponse:
    """Decide as the link says, once, after the page's own form was posted."""
    links = desk(request, found)
    try:
        link = links.read(token)
    except LinkRefused as exc:
        raise _refused(exc.message, 404) from None
    _check_form(request, found, link.id, csrf_token)
    try:
        task = links.use(token, link.action, reason.strip() or None, "email")
    except LinkRefused as exc:
        raise _refused(exc.message) from None
    except PermissionDeniedError as exc:
        raise PageError(403, "Not allowed", exc.message) from None
    except PlacetError as exc:
        raise PageError(409, "Nothing was decided", exc.message) from None
    said = f"{DONE[link.action]} as {link.account}: the {task.kind} task {task.id} is now "
    response = page(
        "link_done.html",
        None,
        title=DONE[link.action],
        message=said + task.status.value.replace("_", " ") + ".",
    )
    response.delete_cookie(FORM_COOKIE, path=LINK_PATH)
    return response


def _check_form(request: Request, found: Services, link_id: str, token: str) -> None:
    """Refuse (403, recorded) a POST from another site, or without this page's form token."""
    source = foreign_origin(request)
    cookie = request.cookies.get(FORM_COOKIE, "")
    reason = None
    if source is not None:
        reason = f"a link's form was posted from another site ({source[:100]})"
    else:
        try:
            data = _forms(request, found).loads(token, max_age=FORM_SECONDS)
        except BadSignature:
            data = None
        good = isinstance(data, dict) and data.get("link") == link_id
        if not (good and cookie and secrets.compare_digest(str(data["nonce"]), cookie)):
            reason = "a link's form token is missing or wrong"
    if reason is not None:
        found.accounts.record("?", "use_link", "refused", link_id, reason)
        raise PageError(403, "Form expired", CSRF_HELP)
