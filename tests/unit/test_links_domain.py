"""Signed links, e-mail recipients and the e-mail's words: the pure parts of the e-mail
channel."""

from __future__ import annotations

import pytest

from placet.channels.email_render import render_message, safe_html
from placet.domain.channels import ChannelSettings, Email, email_people
from placet.domain.links import APPROVE, CALLBACK, REJECT, Link, LinkRefused, read, sign, url
from placet.engine.emailing import email_recipients
from tests.xss_corpus import CORPUS, assert_inert

KEY = "a-key-for-the-unit-tests"
LINK = Link("01N", "01T", "01D", 4, "ana", APPROVE, 1_900_000_000.5)


def test_a_link_reads_back_as_it_was_signed_and_signs_the_same_every_time() -> None:
    token = sign(LINK, KEY)
    assert read(token, KEY) == LINK
    assert sign(LINK, KEY) == token  # a notification sent again carries the same links
    assert url("https://p.example.com/", LINK, KEY) == f"https://p.example.com/links/{token}"
    callback = Link("01C", "01T", "01D", 4, "ana", CALLBACK, 2e9)
    assert "/api/v1/callbacks/" in url("https://p.example.com", callback, KEY)


@pytest.mark.parametrize("field", ["account", "action", "version", "draft_id", "expires_at"])
def test_changing_anything_a_link_says_breaks_its_signature(field: str) -> None:
    token = sign(LINK, KEY)
    changed = {
        "account": "mallory",
        "action": REJECT,
        "version": 5,
        "draft_id": "01X",
        "expires_at": 2e9,
    }
    other = sign(Link(**{**LINK.__dict__, field: changed[field]}), KEY)
    payload, _, signature = token.rpartition(".")
    spliced = other.rpartition(".")[0] + "." + signature
    assert spliced != token
    with pytest.raises(LinkRefused, match="not valid"):
        read(spliced, KEY)
    assert payload != other.rpartition(".")[0]


def test_a_link_signed_with_another_key_or_cut_short_is_refused() -> None:
    for bad in (sign(LINK, "another key"), sign(LINK, KEY)[:-1], "", "a.b"):
        with pytest.raises(LinkRefused):
            read(bad, KEY)


def test_expiry_is_the_links_own() -> None:
    assert not LINK.expired(LINK.expires_at - 0.001) and LINK.expired(LINK.expires_at)


def test_email_addresses_name_people_and_groups_once_each() -> None:
    assert email_people("email:ana") == ("ana", None)
    assert email_people("email:group:legal") == (None, "legal")
    groups = {"legal": ("lea", "ana"), "boss": ("bo",)}
    items = ["email:ana", "email:group:legal", "email:group:nobody"]
    assert email_recipients(items, groups, ["group:boss", "ana", "cy"]) == [
        "ana",
        "lea",
        "bo",
        "cy",
    ]


def test_the_email_channel_answers_to_every_email_address() -> None:
    email = Email("smtp.example.com", 587, "starttls", "placet@example.com")
    channels = ChannelSettings(email=email)
    assert channels.get("email:ana") is email and channels.get("email:group:x") is email
    assert channels.find("email") is email and channels.addresses == ("email",)
    assert channels.configured and not ChannelSettings().configured
    assert "password" not in repr(Email("h", 1, "none", "a@b", "u", "pw", "key"))


def test_the_html_part_keeps_no_executable_markup_from_the_corpus() -> None:
    for payload in CORPUS:
        assert_inert(safe_html(payload.text))


def test_a_message_has_no_model_output_in_its_subject_and_links_only_when_given() -> None:
    body = {
        "to": {"account": "ana", "address": "ana@example.com"},
        "task": {"id": "01TASKID0000000000000000AB", "version": 2, "draft_id": "01D"},
        "draft": "<script>alert(1)</script> Subject: evil\r\nBcc: x@example.com",
        "links_expire_at": 2e9,
        "notice": {
            "type": "task.awaiting_review",
            "data": {"kind": "memo", "task_id": "01TASKID0000000000000000AB", "links": {}},
        },
    }
    links = {APPROVE: "https://p/links/a", REJECT: "https://p/links/r"}
    words = render_message(body, links, "https://p")
    assert words.subject == "[Placet] Review requested: memo 000000AB"
    assert "evil" not in words.subject and "\n" not in words.subject
    assert "Approve: https://p/links/a" in words.text and "Bcc: x@example.com" in words.text
    assert_inert(words.html)
    bare = render_message(body, {}, None)
    assert "Approve" not in bare.text and "base_url is not configured" in bare.text
