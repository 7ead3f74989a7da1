"""The confirmation page an e-mail's link opens, in Debian's Chromium: the served app sends
the message itself (its notifications' sender, to a real SMTP server on loopback); the
browser opens the link, reads the draft (model output, shown inert), confirms, and sees the
outcome; opening the link again shows the decision that stands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from placet.domain.models import TaskStatus
from placet.engine.links import set_email
from tests.e2e.browser import LAUNCH_ARGS, VIEWPORT, Watch, chromium_path
from tests.integration.smtp_receiver import SmtpReceiver
from tests.integration.web_helpers import serving, web_world
from tests.xss_corpus import corpus_markdown

if TYPE_CHECKING:
    from playwright.sync_api import Browser

LINK = re.compile(r"https://placet\.example\.com(/links/\S+)")


def toml(port: int) -> str:
    return (
        '[placet]\nnotify = ["email:ana"]\nbase_url = "https://placet.example.com"\n'
        '[kinds.memo]\ntemplate = "Write a memo about {topic}."\n'
        f'[channels.email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        'from = "placet@example.com"\ntimeout = 5\n'
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield launched
        launched.close()


def test_a_person_confirms_an_emailed_approval_in_a_browser(
    browser: Browser, tmp_path: Path
) -> None:
    with SmtpReceiver() as smtp, web_world(tmp_path, toml(smtp.port)) as world:
        world.add_user("ana", "reviewer")
        world.add_user("alice", "requester")
        set_email(world.engine, "ana", "ana@example.com", "admin")
        with serving(world.app) as live:  # its own sender sends the message
            task = world.engine.propose("memo", {"topic": "x"}, "alice", corpus_markdown())
            (got,) = smtp.wait_for(1)
            approve = next(
                match.group(1)
                for line in got.part("plain").splitlines()
                if line.startswith("Approve:") and (match := LINK.search(line))
            )
            context = browser.new_context(base_url=live.url, viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            page.set_default_timeout(10_000)
            watch = Watch()
            watch.attach(page)
            page.goto(urlsplit(approve).path)
            assert "<script>alert(1)</script>" in page.locator("pre.draft-text").inner_text()
            assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW
            page.get_by_role("button", name="Yes, approve this draft").click()
            page.wait_for_load_state()
            page.wait_for_selector("text=Approved as ana")
            assert world.engine.get(task.id).status is TaskStatus.APPROVED
            page.goto(urlsplit(approve).path)
            assert "already used" in page.content()
            watch.assert_quiet(refused_pages=(urlsplit(approve).path,))
            context.close()
