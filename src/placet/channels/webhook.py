"""Outbound webhooks, signed as the Standard Webhooks specification says.

Each message is a POST of the notification's JSON body with three headers:
``webhook-id`` (``msg_<id>``, the same on every try, for the receiver to
deduplicate on), ``webhook-timestamp`` (Unix seconds of this try) and
``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of
``"{id}.{timestamp}.{body}"``, keyed with the base64-decoded secret after
``whsec_``), made by the specification's own ``standardwebhooks`` library, so a
receiver's verifier (that library, Svix's, any other) accepts it. Nothing of
the model's output is put in a header.

A receiver's 2xx ends a notification; anything else (another status, no
answer in the timeout, no connection) is a failed try, retried later by the
outbox (``placet.channels.outbox``). Redirects are not followed: a signed
message goes where it was configured to, or nowhere.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
from standardwebhooks import Webhook as Signer

from placet import __version__
from placet.domain.channels import Webhook
from placet.domain.links import with_webhook_callback

USER_AGENT = f"Placet-Webhooks/{__version__}"
ANSWER_CHARS = 200  # of a receiver's error answer, kept with the failure
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class Sent:
    """How one try went: the receiver's status and how long it took, or the error."""

    ok: bool
    code: int | None  # the HTTP status, when the receiver answered
    seconds: float
    error: str | None = None  # why it failed, in words
    retry_after: float | None = None  # what the receiver asked for (429, 503), in seconds

    def said(self) -> str:
        """``200 in 35 ms``, ``HTTP 500 in 12 ms: ...`` or the error: for a person."""
        took = f"{self.seconds * 1000:.0f} ms"
        if self.ok:
            return f"{self.code} in {took}"
        return f"{self.error} (after {took})"


def signed_headers(webhook: Webhook, message_id: str, body: bytes, at: float) -> dict[str, str]:
    """The Standard Webhooks headers for one try of a message sent at ``at``."""
    moment = datetime.fromtimestamp(math.floor(at), timezone.utc)
    signature = Signer(webhook.secret).sign(message_id, moment, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(at)),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class WebhookSender:
    """Sends messages to one webhook, over one HTTP connection pool."""

    def __init__(
        self,
        webhook: Webhook,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        base_url: str | None = None,
    ) -> None:
        self.webhook = webhook
        self._clock = clock
        self._base_url = base_url  # the callback URLs' (decide_as) address; none without it
        self._client = httpx.Client(
            timeout=webhook.timeout, follow_redirects=False, transport=transport
        )

    @property
    def address(self) -> str:
        """``webhook:NAME``."""
        return self.webhook.address

    def send(self, message_id: str, body: str) -> Sent:
        """POST one signed message now; how it went (never raises for the network's sake)."""
        hook = self.webhook
        if hook.decide_as is not None and self._base_url:
            # Signed now from the message's fixed values, so never stored: the same URL
            # on every try (its id is the message's), spent by its first use.
            body = with_webhook_callback(
                body, message_id, hook.decide_as, hook.link_key, self._base_url
            )
        data = body.encode("utf-8")
        headers = signed_headers(self.webhook, message_id, data, self._clock())
        started = time.monotonic()
        try:
            response = self._client.post(self.webhook.url, content=data, headers=headers)
        except httpx.TimeoutException:
            return self._failed(started, f"no answer in {self.webhook.timeout:g} s")
        except httpx.HTTPError as exc:
            return self._failed(started, f"could not reach {self.webhook.recipient}: {exc}")
        took = time.monotonic() - started
        if 200 <= response.status_code < 300:
            return Sent(True, response.status_code, took)
        return Sent(
            False,
            response.status_code,
            took,
            _answer_error(response),
            _retry_after(response),
        )

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    @staticmethod
    def _failed(started: float, error: str) -> Sent:
        return Sent(False, None, time.monotonic() - started, _clean(error))


def _answer_error(response: httpx.Response) -> str:
    said = f"HTTP {response.status_code}"
    if response.is_redirect:
        return f"{said}: redirected to {response.headers.get('location', '?')} (not followed)"
    answer = _clean(response.text[:ANSWER_CHARS]) if response.content else ""
    return f"{said}: {answer}" if answer else said


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a ``Retry-After`` header asks for (the number form only)."""
    value = response.headers.get("retry-after", "").strip()
    if response.status_code not in (429, 503) or not value.isdigit():
        return None
    return float(value)


def _clean(text: str) -> str:
    """One line, no control characters: a receiver's words are shown in terminals and pages."""
    return " ".join(_CONTROL.sub(" ", text).split())
