"""A pipeline seen from the web: the API's task view names parent and steps, and the task
page's Pipeline card links them and says why a chain stopped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.models import DecisionKind
from placet.engine import DecisionRequest
from placet.handlers.pipelines import pipeline_handlers
from placet.handlers.runner import HandlerRunner
from placet.testing import person
from tests.integration.web_helpers import WebWorld, serving, web_world

WAIT_SECONDS = 60.0  # the most the serving process may take; never asserted on

TOML = """\
[kinds.summarize]
template = "Summarize: {text}"
then = "translate_fr"

[kinds.translate_fr]
template = "Translate to French: {text}"
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, TOML) as made:
        made.add_user("alice", "requester")
        made.add_user("rita", "reviewer")
        yield made


def test_the_api_and_the_task_page_show_the_chain_and_where_it_stopped(world: WebWorld) -> None:
    first = world.awaiting_review("alice", "summarize", {"text": "<b>hi</b>"})
    world.engine.decide(DecisionRequest(first.id, DecisionKind.APPROVE, person("rita")))
    HandlerRunner(
        world.engine, pipeline_handlers(world.engine), report=lambda _: None
    ).run_pending()
    (step,) = [t for t in world.engine.iter_tasks() if t.kind == "translate_fr"]
    world.engine.cancel(step.id, "rita", "enough")

    api = world.client_as("rita")
    parent_view = api.get(f"/api/v1/tasks/{first.id}").json()["pipeline"]
    assert parent_view["parent"] is None
    assert parent_view["steps"] == [{"id": step.id, "kind": "translate_fr", "status": "cancelled"}]
    step_view = api.get(f"/api/v1/tasks/{step.id}").json()["pipeline"]
    assert step_view["parent"] == {"id": first.id, "kind": "summarize", "status": "approved"}
    assert step_view["stands"] == "the pipeline stops here: this step was cancelled"
    alone = world.awaiting_review("alice", "translate_fr", {"text": "x"})
    assert api.get(f"/api/v1/tasks/{alone.id}").json()["pipeline"] is None

    browser, _csrf = world.session_client("rita")
    page = browser.get(f"/tasks/{step.id}").text
    assert 'id="pipeline"' in page and f'href="/tasks/{first.id}"' in page
    assert "the pipeline stops here: this step was cancelled" in page
    assert f'href="/tasks/{step.id}"' in browser.get(f"/tasks/{first.id}").text
    assert 'id="pipeline"' not in browser.get(f"/tasks/{alone.id}").text


def test_placet_serve_with_its_worker_submits_the_next_step(tmp_path: Path) -> None:
    with web_world(tmp_path, TOML, run_worker=True) as world, serving(world.app):
        first = world.engine.propose("summarize", {"text": "Long."}, "alice", "Short.")
        world.engine.decide(DecisionRequest(first.id, DecisionKind.APPROVE, person("rita")))
        deadline = time.monotonic() + WAIT_SECONDS
        while not [t for t in world.engine.iter_tasks() if t.kind == "translate_fr"]:
            assert time.monotonic() < deadline, "the serving process never advanced the chain"
            time.sleep(0.05)
        (step,) = [t for t in world.engine.iter_tasks() if t.kind == "translate_fr"]
        assert step.input == {"text": "Short."}
