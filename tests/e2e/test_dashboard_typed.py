"""Typed kinds in a real headless Chromium: a key per choice, a structured draft's form
checked as it is typed, and the XSS corpus through a structured draft, never run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher

from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.engine import accounts
from placet.testing import FakeTypedProvider
from tests.e2e.browser import VIEWPORT, Watch, running
from tests.e2e.test_dashboard import browser, sign_in
from tests.integration.web_helpers import WebWorld, web_world
from tests.xss_corpus import CORPUS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser"]  # the module's browser fixture, shared

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "maxLength": 40},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
    },
    "required": ["vendor", "total", "currency"],
    "additionalProperties": False,
}
SHORT = [payload for payload in CORPUS if len(payload.text) <= 100]
XSS_SCHEMA = {
    "type": "object",
    "properties": {
        f"f{n}": {"type": "string", "title": p.text, "description": p.text, "maxLength": 100}
        for n, p in enumerate(SHORT)
    },
}
CONFIG = f"""
[kinds.moderate]
template = "Moderate this post: {{post}}"
choices = ["allow", "remove", "escalate"]

[kinds.invoice]
template = "Extract the invoice: {{text}}"
output_schema = '{json.dumps(SCHEMA)}'

[kinds.hostile]
template = "Fill in: {{text}}"
output_schema = "hostile.json"
"""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebWorld]:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    (tmp_path / "hostile.json").write_text(json.dumps(XSS_SCHEMA), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the schema's file is named from the working folder
    with web_world(tmp_path, toml=CONFIG, provider=FakeTypedProvider()) as found:
        found.add_user("rita", "reviewer")
        yield found


@pytest.fixture
def page(browser: Browser, world: WebWorld) -> Iterator[tuple[Page, Watch]]:
    watch = Watch()
    with running(world.app) as url:
        context = browser.new_context(base_url=url, viewport=VIEWPORT)  # type: ignore[arg-type]
        opened = context.new_page()
        opened.set_default_timeout(10_000)
        watch.attach(opened)
        sign_in(opened, "rita")
        yield opened, watch
        context.close()


def drafted(world: WebWorld, kind: str, values: dict[str, str]) -> Task:
    return world.awaiting_review(kind=kind, values=values)


def test_a_key_picks_a_choice(world: WebWorld, page: tuple[Page, Watch]) -> None:
    browser_page, watch = page
    task = drafted(world, "moderate", {"post": "buy pills"})
    browser_page.goto(f"/tasks/{task.id}")
    browser_page.wait_for_selector("#choice-form")
    browser_page.keyboard.press("2")  # remove
    browser_page.wait_for_url(lambda url: task.id not in url.split("?")[0] or "done=" in url)
    done = world.engine.get(task.id)
    assert done.status is TaskStatus.APPROVED
    assert json.loads(done.final_output or "")["choice"] == "remove"
    assert world.engine.detail(task.id).decisions[-1].kind is DecisionKind.EDIT
    watch.assert_quiet()


def test_the_form_checks_a_field_as_it_is_typed_and_approves_the_object(
    world: WebWorld, page: tuple[Page, Watch]
) -> None:
    browser_page, watch = page
    task = drafted(world, "invoice", {"text": "ACME 12 EUR"})
    browser_page.goto(f"/tasks/{task.id}")
    browser_page.keyboard.press("e")
    assert browser_page.evaluate("document.activeElement.id") == "field-1"
    browser_page.fill("#field-1", "ACME")
    browser_page.fill("#field-2", "-5")
    assert browser_page.evaluate("document.getElementById('field-2').validity.valid") is False
    browser_page.fill("#field-2", "12.5")
    assert browser_page.evaluate("document.getElementById('field-2').validity.valid") is True
    browser_page.select_option("#field-3", "USD")
    browser_page.click("#edit-panel button[type=submit]")
    browser_page.wait_for_url(lambda url: "done=" in url or task.id not in url)
    done = world.engine.get(task.id)
    assert json.loads(done.final_output or "") == {
        "vendor": "ACME",
        "total": 12.5,
        "currency": "USD",
    }
    watch.assert_quiet()


def test_the_xss_corpus_through_a_structured_draft_never_runs(
    world: WebWorld, page: tuple[Page, Watch]
) -> None:
    browser_page, watch = page
    provider = world.provider
    assert isinstance(provider, FakeTypedProvider)
    provider.answers = [json.dumps({f"f{n}": p.text for n, p in enumerate(SHORT)})]
    task = drafted(world, "hostile", {"text": "x"})
    browser_page.goto(f"/tasks/{task.id}")
    browser_page.wait_for_load_state("load")
    assert browser_page.evaluate("document.scripts.length") == 1  # ours, nothing else
    browser_page.keyboard.press("e")
    form = browser_page.inner_text("#object-form")
    for n, payload in enumerate(SHORT, 1):
        assert payload.text.strip() in form, payload.name  # labels and descriptions, as text
        assert browser_page.input_value(f"#field-{n}") == payload.text, payload.name
    watch.assert_quiet()
