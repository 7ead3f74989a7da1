"""Webhooks are signed exactly as the Standard Webhooks specification says.

The test vector is the one the specification's reference libraries publish
(standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py,
``test_sign_function``; the same in its JavaScript, Go, Rust and PHP tests):
reproducing it proves a receiver's library will accept what Placet sends, which
a round trip through our own code alone could not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks import WebhookVerificationError

from placet.channels.webhook import signed_headers
from placet.domain.channels import Webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
HOOK = Webhook("ops", "https://hooks.example.com/placet", SECRET)


def test_the_specifications_test_vector_is_reproduced() -> None:
    headers = signed_headers(HOOK, MESSAGE_ID, BODY, TIMESTAMP + 0.9)  # whole seconds
    assert headers["webhook-id"] == MESSAGE_ID
    assert headers["webhook-timestamp"] == str(TIMESTAMP)
    assert headers["webhook-signature"] == SIGNATURE


def test_the_signature_is_the_hmac_the_specification_describes() -> None:
    """v1, then base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}", keyed with the
    base64-decoded secret after whsec_: computed here by hand, independently."""
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{MESSAGE_ID}.{TIMESTAMP}.".encode() + BODY
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    assert "v1," + base64.b64encode(digest).decode() == SIGNATURE


def test_the_librarys_verifier_accepts_a_message_and_refuses_a_changed_one() -> None:
    body = '{"type":"task.decided","data":{"text":"Grüße"}}'.encode()
    headers = signed_headers(HOOK, "msg_01ABC", body, time.time())
    assert Verifier(SECRET).verify(body, headers)["data"]["text"] == "Grüße"
    with pytest.raises(WebhookVerificationError):
        Verifier(SECRET).verify(body.replace(b"decided", b"approved"), headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(SECRET).verify(body, {**headers, "webhook-id": "msg_other"})
    other = "whsec_" + base64.b64encode(b"another secret of 24 byte").decode()
    with pytest.raises(WebhookVerificationError):
        Verifier(other).verify(body, headers)


def test_no_header_carries_the_body() -> None:
    body = b'{"data":{"draft":{"excerpt":"model output"}}}'
    headers = signed_headers(HOOK, "msg_01ABC", body, time.time())
    assert set(headers) == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "user-agent",
    }
    assert not any("model output" in value for value in headers.values())
