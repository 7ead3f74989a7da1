"""Answering Slack's interactivity requests: a button clicked, a modal submitted.

Each request is checked before anything is read from it: its timestamp must be
within five minutes (a replay is refused) and its ``X-Slack-Signature`` must be
the HMAC Slack makes with the app's signing secret, checked by
``slack_sdk.signature.SignatureVerifier``. Then the Slack user who clicked (as
Slack, not the payload's text, says) is mapped to a Placet account: the explicit
``[channels.slack] users`` first, else an account named by the e-mail Slack holds
for them (``users.info``). An unmapped person is refused and told why, in a
message only they see (``chat.postEphemeral``).

Approve decides at once; Reject and Request changes need words (a reason, the
changes wanted), so they open a modal (``views.open``) and decide when it is
submitted. Every decision is the engine's one decision call, with the draft the
message showed, so a stale button is refused; the engine applies the kind's
policy (a requester never approves their own task). The message itself is
rewritten with the outcome by the "decided" notification, as it is when the
task is decided anywhere else.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import Clock, SignatureVerifier

from placet.domain.channels import Slack
from placet.domain.models import DecisionKind
from placet.domain.policy import Principal
from placet.domain.slack_messages import (
    ACTIONS,
    APPROVE,
    FEEDBACK_BLOCK,
    FEEDBACK_INPUT,
    REJECT,
    WORDS_VIEW,
    read_button_value,
    words_view,
)
from placet.engine import DecisionRequest, Engine
from placet.errors import NotFoundError, PermissionDeniedError, PlacetError

log = logging.getLogger(__name__)
MAX_SKEW_SECONDS = 300  # Slack's advice: refuse a request older (or newer) than five minutes
CHANNEL = "slack"


class _Clock(Clock):
    """The verifier's clock: ours, so tests can set it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers Slack: a status and, for a modal, a JSON body."""

    status: int = 200
    body: dict[str, Any] | None = None
    error: str | None = None  # why a request was refused, for the log and the sender
    said: list[str] = field(default_factory=list)  # what the person was told, for tests


class SlackInteractions:
    """Checks, reads and answers Slack's interactivity requests, deciding through the engine."""

    def __init__(
        self,
        engine: Engine,
        slack: Slack,
        client: WebClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.slack = slack
        self.client = client or WebClient(
            token=slack.bot_token, base_url=slack.base_url, timeout=10, retry_handlers=[]
        )
        self._clock = clock
        self._verifier = SignatureVerifier(slack.signing_secret, _Clock(clock))

    # -- the request ---------------------------------------------------------------------

    def handle(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Answer one request as Slack sent it (the raw body and its headers)."""
        refused = self.refusal(body, {k.lower(): v for k, v in headers.items()})
        if refused is not None:
            return refused
        try:
            payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
            kind = payload["type"]
        except (KeyError, IndexError, ValueError, TypeError, UnicodeDecodeError):
            return Answer(400, error="the body must be a form with a JSON payload, as Slack sends")
        try:
            if kind == "block_actions":
                return self._clicked(payload)
            if kind == "view_submission" and payload["view"].get("callback_id") == WORDS_VIEW:
                return self._submitted(payload)
        except (AttributeError, KeyError, TypeError):  # signed, yet not the shape Slack sends
            return Answer(400, error="the payload is not an interaction Placet knows")
        return Answer()  # another interaction (a link button's click): nothing to do

    def refusal(self, body: bytes, headers: Mapping[str, str]) -> Answer | None:
        """Why a request is not Slack's, now, or None when it is."""
        stamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature")
        if not stamp.strip().isdigit() or not signature:
            return Answer(401, error="missing X-Slack-Request-Timestamp or X-Slack-Signature")
        if abs(self._clock() - int(stamp)) > MAX_SKEW_SECONDS:
            return Answer(401, error="stale X-Slack-Request-Timestamp (over five minutes off)")
        if not self._verifier.is_valid(body, stamp, signature):
            return Answer(401, error="X-Slack-Signature does not match the signing secret")
        return None

    # -- a button --------------------------------------------------------------------------

    def _clicked(self, payload: dict[str, Any]) -> Answer:
        action = next(
            (a for a in payload.get("actions", []) if a.get("action_id") in ACTIONS), None
        )
        if action is None:
            return Answer()
        user, channel = _user_id(payload), payload.get("channel", {}).get("id", "")
        try:
            task_id, draft_id = read_button_value(str(action.get("value", "")))
        except ValueError:
            return Answer(400, error="the button carries no Placet task")
        principal = self.principal_for(user)
        if isinstance(principal, str):
            return self._tell(channel, user, principal)
        if action["action_id"] == APPROVE:
            request = DecisionRequest(task_id, DecisionKind.APPROVE, principal, draft_id)
            return self._decide(request, channel, user)
        view = words_view(action["action_id"], task_id, draft_id, channel)
        try:
            self.client.views_open(trigger_id=str(payload.get("trigger_id", "")), view=view)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not open the Slack modal: %s", exc)
            return self._tell(channel, user, "Slack could not open the form; try again.")
        return Answer()

    # -- a modal ---------------------------------------------------------------------------

    def _submitted(self, payload: dict[str, Any]) -> Answer:
        view = payload["view"]
        try:
            meta = json.loads(view.get("private_metadata", ""))
            words = view["state"]["values"][FEEDBACK_BLOCK][FEEDBACK_INPUT]["value"] or ""
        except (KeyError, TypeError, ValueError):
            return Answer(400, error="the form is none of Placet's")
        principal = self.principal_for(_user_id(payload))
        if isinstance(principal, str):
            return _form_error(principal)
        kind = DecisionKind.REJECT if meta.get("action") == REJECT else DecisionKind.REVISE
        request = DecisionRequest(
            str(meta.get("task")), kind, principal, meta.get("draft"),
            feedback=words if kind is DecisionKind.REVISE else None,
            reason=words if kind is DecisionKind.REJECT else None,
        )  # fmt: skip
        try:
            self.engine.decide(request)
        except PlacetError as exc:
            return _form_error(exc.message)
        return Answer()  # an empty 200 closes the modal

    # -- who, and deciding -----------------------------------------------------------------

    def principal_for(self, user_id: str) -> Principal | str:
        """The Placet person a Slack user is, or why they cannot decide here (in words)."""
        name = self.slack.users.get(user_id) or self._by_email(user_id)
        if name is None:
            self.engine.accounts.record(
                f"slack:{user_id}", "identify", "refused", None, "no Placet account mapped"
            )
            return (
                f"Your Slack account ({user_id}) is not linked to a Placet account, so "
                "Placet cannot take your decision. Ask an admin to add it to "
                f'[channels.slack] users in placet.toml ({user_id} = "your-account").'
            )
        try:
            if self.engine.accounts.exist():
                self.engine.accounts.get_user(name)
            return self.engine.local_principal(CHANNEL, name)
        except NotFoundError:
            self.engine.accounts.record(
                name, "identify", "refused", None, f"no such account (Slack user {user_id})"
            )
            return (
                f"Your Slack account ({user_id}) is linked to {name}, which has no Placet "
                f"account here: ask an admin to add it (placet users add {name} --role "
                "reviewer) or to correct [channels.slack] users in placet.toml."
            )
        except PermissionDeniedError as exc:
            return f"Placet refused: {exc.message}"

    def _by_email(self, user_id: str) -> str | None:
        """The account named by the e-mail Slack holds for the user, if there is one."""
        if not user_id or not self.engine.accounts.exist():
            return None
        try:
            email = self.client.users_info(user=user_id)["user"]["profile"].get("email")
        except (SlackApiError, SlackClientError, OSError, KeyError, TypeError) as exc:
            log.info("could not read Slack user %s: %s", user_id, exc)
            return None
        if not isinstance(email, str) or not email:
            return None
        # The address an admin gave the account (placet users email), else an account
        # named by the address itself.
        known = self.engine.links().account_with_email(email)
        if known is not None:
            return known
        try:
            return self.engine.accounts.get_user(email.strip().lower()).name
        except NotFoundError:
            return None

    def _decide(self, request: DecisionRequest, channel: str, user: str) -> Answer:
        try:
            task = self.engine.decide(request)
        except PlacetError as exc:
            return self._tell(channel, user, f"Placet refused: {exc.message}")
        if not task.status.is_final:  # a quorum still waits on others
            return self._tell(channel, user, f"Recorded; task {task.id} still awaits others.")
        return Answer()

    def _tell(self, channel: str, user: str, text: str) -> Answer:
        """Say something only the person who clicked sees."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not tell Slack user %s: %s", user, exc)
        return Answer(said=[text])


def _user_id(payload: dict[str, Any]) -> str:
    return str(payload.get("user", {}).get("id", ""))


def _form_error(text: str) -> Answer:
    """A modal's answer that keeps it open with the problem under the text box."""
    body = {"response_action": "errors", "errors": {FEEDBACK_BLOCK: text[:2000]}}
    return Answer(200, body, said=[text])
