"""Helpers for the dashboard's browser tests: Debian's Chromium, page watching, a model.

Playwright's own browser download cannot work here, so the tests drive
``/usr/bin/chromium``. Without it they skip, except in CI (``CI=true``), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

from placet.domain.models import Usage
from placet.providers.base import Chunk, CompletionRequest
from placet.testing import FakeProvider

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Dialog, Error, Page

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1280, "height": 860}
# `make screenshots` names docs/ here to update the README's pictures; a test run
# writes them to a temporary folder, so `make test` leaves the tracked files alone.
SCREENSHOTS_ENV = "PLACET_TEST_SCREENSHOTS"


def screenshot_folder(scratch: Path) -> Path:
    """Where the tests save screenshots: the folder the environment names, else ``scratch``."""
    named = os.environ.get(SCREENSHOTS_ENV, "").strip()
    folder = (ROOT / named) if named else scratch  # relative to the repository, as make runs it
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium_path() -> str:
    """Debian's Chromium; skip when it is missing, unless this is CI, where that fails."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing (install Debian's chromium package)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn on a free loopback port in a thread; yield its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    # A short graceful shutdown: a page's open event stream never ends on its own.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), what="uvicorn to start")
    assert thread.is_alive(), "uvicorn stopped while starting"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "uvicorn did not stop"


@dataclass
class Watch:
    """Everything a page did that a test must rule out: dialogs, console errors, crashes."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Listen to a page; a dialog (an XSS ``alert``) is recorded and dismissed."""
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, str(message.location.get("url", ""))))

    def _page_error(self, error: Error) -> None:
        self.page_errors.append(str(error))

    def assert_quiet(self, refused_pages: tuple[str, ...] = ()) -> None:
        """No dialog ever opened and nothing logged an error.

        Chromium logs a page that answered 4xx as "Failed to load resource";
        ``refused_pages`` names the pages a test was refused on purpose.
        """
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"
        assert not self.page_errors, f"uncaught errors: {self.page_errors}"
        errors = [
            (text, url)
            for text, url in self.console_errors
            if not (text.startswith("Failed to load resource") and url.endswith(refused_pages))
        ]
        assert not errors, f"console errors: {errors}"


# -- a model that writes like one ------------------------------------------------------------

_EMAIL = """**Subject:** Welcome aboard, {name}!

Hi {name},

Welcome to Placet. We're glad you're here. The quickest way to get going:

1. Open the **review queue** and pick your first draft.
2. Approve, edit, revise or reject it — every decision is recorded.

Questions? Just reply to this email; a person will answer.

The Team"""
_EMAIL_REVISED = _EMAIL.replace(
    "Questions?",
    "Our [getting-started guide](https://example.com/guide) walks through it.\n\nQuestions?",
)
_REPLY = """Hi {name},

Thanks for getting in touch, and sorry for the trouble. I've looked into your account and \
the export finished correctly; you'll find it under **Settings → Data**.

If anything still looks wrong, reply here and we'll sort it out together.

Best regards,
Support"""
_POLICY = """Yes. The policy says staff **may work remotely up to three days a week** \
"with their manager's agreement", so Fridays at home are fine once your manager agrees.

> Remote days are agreed with your manager in advance.

The policy does not say whether unused days carry over to the next week."""
_NAME = re.compile(r"welcoming (.+?) to|Customer (.+?) wrote", re.DOTALL)


class StoryProvider(FakeProvider):
    """Plausible drafts for screenshots, chosen texts on demand, and a slow, held stream.

    ``script(text)`` makes the next draft that exact text. ``hold()`` makes drafts
    wait until ``release()``; ``delay`` spaces out the streamed words, so a test
    can watch them arrive.
    """

    def __init__(self) -> None:
        super().__init__("fake:story")
        self.scripted: list[str] = []
        self.delay = 0.0
        self._gate = threading.Event()
        self._gate.set()
        self._lock = threading.Lock()

    def script(self, text: str, delay: float = 0.0) -> None:
        """The next draft's text (and the pause between its words)."""
        with self._lock:
            self.scripted.append(text)
            self.delay = delay

    def hold(self) -> None:
        """Make the next drafts wait before streaming."""
        self._gate.clear()

    def release(self) -> None:
        """Let held drafts stream."""
        self._gate.set()

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """The draft a word at a time."""
        self.requests.append(request)
        with self._lock:
            text = self.scripted.pop(0) if self.scripted else _canned(request)
            delay = self.delay
        self._gate.wait(timeout=30)
        words = text.split(" ")
        for index, word in enumerate(words):
            if delay:
                time.sleep(delay)
            yield Chunk(word if index == 0 else " " + word)
        yield Chunk(usage=Usage(200, len(words)))


def _canned(request: CompletionRequest) -> str:
    prompt = "\n".join(m["content"] for m in request.messages if m["role"] == "user")
    found = _NAME.search(prompt)
    name = next((group for group in found.groups() if group), "there") if found else "there"
    system = request.messages[0]["content"]
    if "support agent" in system:
        return _REPLY.format(name=name)
    if "policy" in system:
        return _POLICY
    revised = any(message["role"] == "assistant" for message in request.messages)
    return (_EMAIL_REVISED if revised else _EMAIL).format(name=name)


def wait_until(check: Callable[[], object], timeout: float = 10.0, what: str = "it") -> None:
    """Poll until ``check()`` returns something true."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
