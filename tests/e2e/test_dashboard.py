"""The dashboard in a real headless Chromium: keyboard review, live drafts, live queue, XSS.

The app runs with uvicorn on a loopback port over a temporary SQLite store,
with its drafting worker and a model (``StoryProvider``) that can hold and
slow a stream, so a test can watch a draft arrive word by word. The keyboard
test also takes the README's screenshots: into a temporary folder, or into
``docs/`` when ``make screenshots`` asks for them (``PLACET_TEST_SCREENSHOTS``).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher

import placet
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.domain.starter import STARTER_TOML
from placet.domain.supervision import Supervision
from placet.engine import DecisionRequest, accounts
from placet.sdk.client import Client
from placet.testing import person
from placet.web.render import short_id
from tests.e2e.browser import (
    LAUNCH_ARGS,
    ROOT,
    SCREENSHOTS_ENV,
    VIEWPORT,
    StoryProvider,
    Watch,
    chromium_path,
    running,
    screenshot_folder,
)
from tests.integration.web_helpers import PASSWORD, WebWorld, web_world
from tests.xss_corpus import CORPUS, corpus_markdown

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

AWAITING = TaskStatus.AWAITING_REVIEW
STREAMED = (
    "**Subject:** Welcome, Grace! Thanks for joining. Your workspace is ready, and "
    "<img src=x onerror=alert(1)> stays plain text here. Start with the review queue, "
    "then invite your team when you are ready. — The Team"
)

SIGNED = (
    "Hi Ada,\n\nYour workspace is ready: start with the review queue.\n\n"
    "Best regards,\nAmina Yusuf\nHead of Onboarding\nPlacet Ltd.\n+44 20 7946 0000"
)
MESSAGE = "Hi, my data export from last week never arrived. Can you check what happened?"
POLICY = (
    "Remote work: staff may work remotely up to three days a week with their manager's agreement."
)
QUESTION = "Can I work from home every Friday?"


@dataclass
class Site:
    """The running app: its world (engine, accounts), its address and its model."""

    world: WebWorld
    url: str
    provider: StoryProvider

    def awaiting(
        self,
        name: str,
        requester: str = "alice",
        kind: str = "onboarding_email",
        values: dict[str, str] | None = None,
    ) -> Task:
        """Submit a task and wait for the app's worker to draft it."""
        task = self.world.submit(requester, kind, values or {"name": name})
        return self.wait_for(task.id, lambda found: found.status is AWAITING)

    def wait_for(self, task_id: str, until: object) -> Task:
        """The task once ``until(task)`` holds (the worker runs in the app)."""
        assert callable(until)
        # The embedded model (make screenshots) takes seconds a draft on a small machine.
        timeout = 300 if os.environ.get(SCREENSHOTS_ENV) else 15
        found = self.world.engine.wait(task_id, until, timeout=timeout)
        assert until(found), f"task {task_id} is {found.status.value}"
        return found

    def decide(self, task: Task, kind: DecisionKind, actor: str = "rob", **text: str) -> Task:
        """Decide as someone else, straight through the engine."""
        current = self.world.engine.get(task.id)
        request = DecisionRequest(
            task.id, kind, person(actor), current.current_draft_id, current.version, **text
        )
        return self.world.engine.decide(request)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    # Cheap password hashes: the real argon2 cost is for people, not for test setup.
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    provider = StoryProvider()
    # The README's pictures show what a new user gets: the kinds `placet init` writes,
    # drafted by the embedded model. A plain test run drafts with the scripted provider.
    for_docs = bool(os.environ.get(SCREENSHOTS_ENV))
    with web_world(
        tmp_path,
        toml=STARTER_TOML if for_docs else None,
        provider=provider,
        run_worker=True,
        real_providers=for_docs,
    ) as world:
        for name, role in [
            ("rita", "reviewer"),
            ("rob", "reviewer"),
            ("alice", "requester"),
            ("sam", "requester"),
        ]:
            world.add_user(name, role)
        with running(world.app) as url:
            try:
                yield Site(world, url, provider)
            finally:
                provider.release()  # a held draft must not keep the worker from stopping


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def screenshots(tmp_path: Path) -> Iterator[Path]:
    """The folder to save screenshots in; unless one is named, the tracked ones stay as they are."""
    tracked = {path: path.read_bytes() for path in sorted((ROOT / "docs").glob("*.png"))}
    folder = screenshot_folder(tmp_path / "screenshots")
    yield folder
    if not os.environ.get(SCREENSHOTS_ENV):
        changed = [path.name for path, data in tracked.items() if path.read_bytes() != data]
        assert not changed, f"a test run rewrote tracked screenshots: {changed}"


@pytest.fixture
def page(browser: Browser, site: Site, watch: Watch) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    watch.attach(opened)
    yield opened
    context.close()


def sign_in(page: Page, name: str) -> None:
    """Sign in through the form, with the keyboard."""
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-table")


def live(page: Page) -> None:
    """Wait until the page's event stream is connected."""
    page.wait_for_selector('#live[data-state="on"]')


def selected_row(page: Page) -> str | None:
    ids: list[str] = page.eval_on_selector_all(
        "#queue-table tr.row.selected", "rows => rows.map(row => row.dataset.id)"
    )
    return ids[0] if ids else None


# -- the tests ----------------------------------------------------------------------------------


def test_review_a_queue_with_the_keyboard_only(
    page: Page, site: Site, watch: Watch, screenshots: Path
) -> None:
    grace, linus, ada = (site.awaiting(name) for name in ("Grace Hopper", "Linus", "Ada"))
    site.decide(grace, DecisionKind.REVISE, feedback="Link the getting-started guide.")
    grace = site.wait_for(grace.id, lambda task: task.status is AWAITING and task.attempt == 2)
    site.awaiting("", "sam", "customer_reply", {"customer": "Maya Chen", "message": MESSAGE})
    site.awaiting("", "sam", "policy_answer", {"policy": POLICY, "question": QUESTION})

    sign_in(page, "rita")
    live(page)
    page.keyboard.press("j")
    assert selected_row(page) == grace.id
    page.keyboard.press("j")
    assert selected_row(page) == linus.id
    page.screenshot(path=str(screenshots / "queue.png"))
    page.keyboard.press("k")
    assert selected_row(page) == grace.id
    page.keyboard.press("o")
    page.wait_for_url(f"**/tasks/{grace.id}")
    page.wait_for_selector("#draft-rendered")
    live(page)
    # Opening it took it: others' queues skip it while rita reviews.
    assert "You are reviewing this until" in page.inner_text("#hold")
    assert site.world.engine.get(grace.id).held_by == "rita"
    page.screenshot(path=str(screenshots / "task.png"), full_page=True)

    page.keyboard.press("a")  # approve; the next task opens
    page.wait_for_url(f"**/tasks/{linus.id}?*")
    assert "Approved" in page.inner_text(".flash-ok")
    assert site.world.engine.get(linus.id).held_by == "rita"  # the next one, taken as opened
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "revise-feedback"
    page.keyboard.type("Shorter, please.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/tasks/{ada.id}?*")
    page.keyboard.press("x")
    page.keyboard.type("Not needed any more.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: ada.id not in url.split("?")[0])

    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    assert page.is_hidden("#help")

    verdicts = {t.id: site.world.engine.detail(t.id).decisions[-1] for t in (grace, linus, ada)}
    assert [(v.kind, v.actor) for v in verdicts.values()] == [
        (DecisionKind.APPROVE, "rita"),
        (DecisionKind.REVISE, "rita"),
        (DecisionKind.REJECT, "rita"),
    ]
    page.goto("/audit?person=rita")
    row = page.locator("#task-events tr", has_text=short_id(grace.id)).filter(has_text="approve")
    assert row.count() == 1 and "rita" in row.inner_text()
    assert "Chains verified" in page.inner_text("#verify")
    assert {"queue.png", "task.png"} <= {path.name for path in screenshots.glob("*.png")}
    watch.assert_quiet()


def test_screenshots_go_to_a_scratch_folder_unless_make_screenshots_names_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SCREENSHOTS_ENV, raising=False)
    assert screenshot_folder(tmp_path / "shots") == tmp_path / "shots"
    assert (tmp_path / "shots").is_dir()
    monkeypatch.setenv(SCREENSHOTS_ENV, "docs")  # what `make screenshots` sets
    assert screenshot_folder(tmp_path / "shots") == ROOT / "docs"
    assert "PLACET_TEST_SCREENSHOTS=docs" in (ROOT / "Makefile").read_text()


def test_a_draft_streams_in_word_by_word(page: Page, site: Site, watch: Watch) -> None:
    sign_in(page, "rita")
    site.provider.hold()
    site.provider.script(STREAMED, delay=0.06)
    task = site.world.submit("alice", values={"name": "Grace"})
    page.goto(f"/tasks/{task.id}")
    page.wait_for_selector("#live-draft")
    live(page)
    site.provider.release()

    seen = watch_live_draft(page)
    assert len(seen) >= 5, f"the draft did not arrive in pieces: {seen}"
    assert all(after.startswith(before) for before, after in itertools.pairwise(seen))
    assert "<img src=x onerror=alert(1)> stays plain text" in seen[-1]
    rendered = page.wait_for_selector("#draft-rendered")
    assert rendered is not None
    assert "<strong>Subject:</strong>" in rendered.inner_html()
    assert "<img src=x onerror=alert(1)>" in rendered.inner_text()
    live(page)  # the swapped-in part of the page still shows the stream as connected

    page.keyboard.press("a")
    page.wait_for_url("**/?done=approve*")
    assert site.world.engine.get(task.id).status is TaskStatus.APPROVED
    watch.assert_quiet()


def test_every_line_of_a_draft_is_shown_on_its_own_line(
    page: Page, site: Site, watch: Watch
) -> None:
    site.provider.script(SIGNED)
    task = site.awaiting("Ada")
    sign_in(page, "rita")
    page.goto(f"/tasks/{task.id}")
    assert lines(page.inner_text("#draft-rendered")) == lines(SIGNED)  # not "regards, Amina"
    assert page.is_visible("#draft-as-written .format-note")  # the page says it is Markdown
    page.click("#draft-as-written summary")
    assert page.inner_text("#draft-text") == SIGNED  # and shows the exact text on request

    page.keyboard.press("e")
    assert page.input_value("#edit-text") == SIGNED
    edited = SIGNED.replace("Amina Yusuf", "Amina Yusuf (she/her)")
    page.fill("#edit-text", edited)
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: "done=" in url)
    assert site.world.engine.get(task.id).final_output == edited

    page.goto(f"/tasks/{task.id}")
    assert lines(page.inner_text("#draft-rendered")) == lines(SIGNED)
    assert lines(page.inner_text("#final-rendered")) == lines(edited)
    sides = page.eval_on_selector_all(
        "#history table.diff tbody tr",
        "rows => rows.map(row => [row.cells[1].innerText, row.cells[3].innerText])",
    )
    assert [left for left, _ in sides] == SIGNED.splitlines()
    assert [right for _, right in sides] == edited.splitlines()
    watch.assert_quiet()


def lines(text: str) -> list[str]:
    """A text's lines as a reader sees them: trimmed, blank ones left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def watch_live_draft(page: Page, timeout: float = 15.0) -> list[str]:
    """Each new text of the live draft, until the page swaps in the finished one."""
    read = "() => { const el = document.getElementById('live-draft'); return el && el.textContent }"
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = page.evaluate(read)
        if text is None and seen:
            return seen
        if text and (not seen or text != seen[-1]):
            seen.append(text)
        time.sleep(0.02)
    raise AssertionError(f"the finished draft never replaced the live one; saw {seen}")


def test_the_queue_updates_live(page: Page, site: Site, watch: Watch) -> None:
    first = site.awaiting("Grace")
    sign_in(page, "rita")
    live(page)
    page.keyboard.press("j")
    assert selected_row(page) == first.id

    arriving = site.awaiting("Linus")
    row = page.wait_for_selector(f'#queue-table tr[data-id="{arriving.id}"]')
    assert row is not None and "fresh" in (row.get_attribute("class") or "")
    site.decide(first, DecisionKind.APPROVE, actor="rob")  # taken by someone else
    page.wait_for_selector(f'#queue-table tr[data-id="{first.id}"]', state="detached")
    assert selected_row(page) == arriving.id  # the cursor stays where it was
    watch.assert_quiet()


def test_a_decided_tasks_handlers_card_updates_live(page: Page, site: Site, watch: Watch) -> None:
    client = Client(site.world.engine, requester="dev")

    @client.on_approved("onboarding_email", name="welcome.send")
    def send(outcome: placet.Outcome, key: str) -> None:
        pass

    client.run_pending_handlers()  # registered: decisions from now on are its
    task = site.awaiting("Grace")
    site.decide(task, DecisionKind.APPROVE, actor="rob")
    sign_in(page, "rita")
    page.goto(f"/tasks/{task.id}")
    assert page.query_selector("#handlers") is None  # no worker has found the decision yet
    assert client.run_pending_handlers() == 1  # a worker elsewhere runs the handler
    page.wait_for_selector('#handlers li[data-status="delivered"]')
    assert page.get_attribute("#task-main", "data-handlers-running") is None  # it stops looking
    watch.assert_quiet()


def test_the_xss_corpus_never_runs_in_a_real_browser(page: Page, site: Site, watch: Watch) -> None:
    corpus_text = "\n".join(payload.text for payload in CORPUS)
    site.provider.script(corpus_markdown())
    site.provider.script(corpus_markdown())
    task = site.world.submit("alice", values={"name": corpus_text})
    task = site.wait_for(task.id, lambda found: found.status is AWAITING)
    site.decide(task, DecisionKind.REVISE, feedback=corpus_text)
    task = site.wait_for(task.id, lambda found: found.status is AWAITING and found.attempt == 2)
    rejected = site.awaiting("Ada")
    site.decide(rejected, DecisionKind.REJECT, reason=corpus_text)
    for payload in CORPUS:  # names people typed at the sign-in form
        site.world.accounts.record(payload.text, "sign_in", "failed", "/login", "wrong", "::1")

    sign_in(page, "rita")
    for path in [f"/tasks/{task.id}", f"/tasks/{rejected.id}", "/?status=all", "/audit", "/stats"]:
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate("document.scripts.length") == 1, path  # ours, nothing else

    page.goto(f"/tasks/{task.id}")
    shown = page.inner_text("#draft-rendered")
    for payload in CORPUS:
        assert payload.visible_in_markdown in shown, payload.name
        assert payload.text in page.inner_text("#history"), payload.name
    page.keyboard.press("e")
    assert page.input_value("#edit-text") == corpus_markdown()
    page.keyboard.press("Escape")
    for payload in CORPUS[:8]:  # and typed into the sign-in form itself
        page.goto("/login")
        page.fill("input[name=name]", payload.text)
        page.fill("input[name=password]", "wrong password")
        page.keyboard.press("Enter")
        page.wait_for_selector(".flash-error")
        assert page.input_value("input[name=name]") == payload.text
    watch.assert_quiet(refused_pages=("/login",))  # the 401s and 429s of those sign-ins


def test_the_api_docs_work_offline(page: Page, site: Site, watch: Watch) -> None:
    # The machine has no internet: the viewer must come from the app itself.
    outside: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(site.url) else outside.append(request.url),
    )
    page.goto("/docs")
    page.wait_for_selector(".opblock-tag")  # the operations, grouped, rendered by Swagger UI
    assert "Placet" in page.inner_text(".info .title")
    page.click("#operations-tasks-submit_api_v1_tasks_post .opblock-summary")
    page.wait_for_selector("text=Idempotency-Key")
    assert outside == []
    watch.assert_quiet()


def test_supervisor_findings_are_marked_and_the_xss_corpus_stays_text(
    page: Page, site: Site, watch: Watch
) -> None:
    kind = TaskKind(name="watched", template="Reply: {message}", supervisor=Supervision())
    site.world.engine.register_kind(kind)
    card, mail = "4111 1111 1111 1111", "billing@example.com"
    hostile = "\n".join(payload.text for payload in CORPUS)
    draft = f"{hostile}\nYour card {card} was charged; write to {mail}.\n{hostile}"
    task = site.world.engine.propose("watched", {"message": f"{hostile} {card}"}, "sam", draft)
    sign_in(page, "rita")
    page.goto(f"/tasks/{task.id}")
    page.wait_for_selector("#supervisor")
    assert page.evaluate("document.scripts.length") == 1  # ours, nothing else
    marked = page.locator("#draft-findings mark.finding").all_inner_texts()
    assert card in marked and mail in marked
    shown = page.inner_text("#draft-findings")
    for payload in CORPUS:
        assert payload.text.strip() in shown, payload.name
    assert "card" in page.inner_text("#input-findings")
    page.goto("/?flag=card")
    assert selected_or_listed(page, task.id)
    watch.assert_quiet()


def selected_or_listed(page: Page, task_id: str) -> bool:
    return page.locator(f'#queue-table tr.row[data-id="{task_id}"]').count() == 1


def test_the_supervisors_checks_keep_the_xss_corpus_as_text(
    page: Page, site: Site, watch: Watch
) -> None:
    # The model's evidence and summary are untrusted text, as a draft is.
    payloads = [payload.text for payload in CORPUS if len(payload.text) <= 100]
    groups: list[str] = []
    for text in payloads:
        if groups and len(groups[-1]) + len(text) < 280:
            groups[-1] += " | " + text
        else:
            groups.append(text)
    checks = tuple(f"Rule {number}" for number in range(1, len(groups) + 1))
    supervisor = Supervision(checks=checks, model="fake:story")
    site.world.engine.register_kind(
        TaskKind(name="checked", template="Reply: {message}", supervisor=supervisor)
    )
    answers = {
        str(number): {"check": check, "evidence": group, "pass": False}
        for number, (check, group) in enumerate(zip(checks, groups, strict=True), 1)
    }
    summary = payloads[0]
    site.provider.script(json.dumps({"checks": answers, "risk": 50, "summary": summary}))
    task = site.world.engine.propose("checked", {"message": "hi"}, "sam", "A plain draft.")
    sign_in(page, "rita")
    page.goto(f"/tasks/{task.id}")
    page.wait_for_selector("#supervisor-checks")
    assert page.evaluate("document.scripts.length") == 1  # ours, nothing else
    shown = " ".join(page.inner_text("#supervisor").split())
    for text in payloads:
        assert " ".join(text.split()) in shown, text
    assert page.locator("#supervisor-checks li.check-fail").count() == len(checks)
    watch.assert_quiet()
