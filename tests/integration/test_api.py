"""The REST API in-process over a real SQLite store: every endpoint, races and live streams."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sse_starlette.sse import AppStatus

from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest
from placet.errors import ProviderUnavailableError, StoreError
from placet.providers.base import Chunk, CompletionRequest
from placet.testing import FakeProvider, person
from placet.web.metrics import MeteredWorker, Metrics
from placet.web.ops import JsonLines, configure_request_logs
from tests.integration.web_helpers import (
    INPUT,
    KIND,
    SseEvent,
    WebWorld,
    serving,
    sse_events,
    web_world,
)

API = "/api/v1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path) as world:
        world.add_user("alice", "requester")
        world.add_user("bob", "requester")
        world.add_user("rita", "reviewer")
        world.add_user("vera", "viewer")
        world.add_user("root", "admin")
        yield world


def decision(task: Task, kind: str = "approve", **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "draft_id": task.current_draft_id, "version": task.version, **fields}


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


# -- submit ---------------------------------------------------------------------------


def test_submit_queues_a_task_for_the_caller(world: WebWorld) -> None:
    response = world.client_as("alice").post(f"{API}/tasks", json={"kind": KIND, "input": INPUT})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert body["requester"] == "alice"
    assert body["input"] == INPUT
    assert world.engine.get(body["id"]).requester == "alice"


def test_a_kind_whose_model_cannot_be_used_is_503_and_nothing_is_stored(tmp_path: Path) -> None:
    toml = '[kinds.note]\ntemplate = "About {topic}."\nmodel = "bogus:x"\n'
    with web_world(tmp_path, toml=toml, real_providers=True) as world:
        world.add_user("alice", "requester")
        body = {"kind": "note", "input": {"topic": "tea"}}
        response = world.client_as("alice").post(f"{API}/tasks", json=body)
        assert response.status_code == 503  # the server's configuration, not the request
        assert response.json()["error"] == "UnusableModelError"
        detail = response.json()["detail"]
        assert "kind 'note' cannot be drafted with model bogus:x" in detail
        assert "unknown model provider 'bogus'" in detail
        assert world.engine.list_tasks(TaskFilter()) == []


def test_the_same_idempotency_key_gives_the_same_task(world: WebWorld) -> None:
    alice = world.client_as("alice")
    request = {"json": {"kind": KIND, "input": INPUT}, "headers": {"Idempotency-Key": "k-1"}}
    first = alice.post(f"{API}/tasks", **request)
    again = alice.post(f"{API}/tasks", **request)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert len(world.engine.list_tasks(TaskFilter())) == 1


def test_an_idempotency_key_reused_for_other_work_or_by_someone_else_is_409(
    world: WebWorld,
) -> None:
    headers = {"Idempotency-Key": "k-2"}
    body = {"kind": KIND, "input": INPUT}
    assert world.client_as("alice").post(f"{API}/tasks", json=body, headers=headers).is_success
    other = {"kind": KIND, "input": {"name": "Grace"}}
    changed = world.client_as("alice").post(f"{API}/tasks", json=other, headers=headers)
    stolen = world.client_as("bob").post(f"{API}/tasks", json=body, headers=headers)
    assert (changed.status_code, stolen.status_code) == (409, 409)
    assert "Ada" not in stolen.text  # bob learns nothing of alice's task


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": KIND, "input": INPUT, "extra": 1}, "extra"),
        ({"kind": KIND, "input": "not an object"}, "input"),
        ({"kind": KIND}, "input"),
        ({"kind": 7, "input": INPUT}, "kind"),
        ({"kind": "", "input": INPUT}, "kind"),
        ({"kind": "k" * 201, "input": INPUT}, "kind"),
        ({"kind": KIND, "input": {"name": "Ada", "deep": nested(40)}}, "input"),
    ],
)
def test_invalid_submissions_are_422_naming_the_field(
    world: WebWorld, body: dict[str, Any], field: str
) -> None:
    response = world.client_as("alice").post(f"{API}/tasks", json=body)
    assert response.status_code == 422, response.text
    assert any(field in issue["loc"] for issue in response.json()["detail"])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": KIND, "input": {}}, "needs input name"),
        ({"kind": KIND, "input": {"name": "  "}}, "input name is empty"),
        ({"kind": KIND, "input": {"name": "x" * 70_000}}, "the limit is"),
        ({"kind": "no_such_kind", "input": INPUT}, "unknown task kind"),
    ],
)
def test_input_the_engine_refuses_is_422_with_its_reason(
    world: WebWorld, payload: dict[str, Any], message: str
) -> None:
    response = world.client_as("alice").post(f"{API}/tasks", json=payload)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert world.engine.list_tasks(TaskFilter()) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"kind": "onboarding_email", "input": {"name": NaN}}',
        b'{"kind": "onboarding_email", "input": {"name": "\\ud800"}}',
        b'{"kind": "onboarding_email", "input": {"name": "Ada"}',
        b"[" * 5000 + b"]" * 5000,
        b"\xff\xfe not json",
    ],
)
def test_hostile_json_is_a_4xx_never_a_5xx(world: WebWorld, raw: bytes) -> None:
    headers = {"content-type": "application/json"}
    response = world.client_as("alice").post(f"{API}/tasks", content=raw, headers=headers)
    assert 400 <= response.status_code < 500, response.text


def test_an_oversized_body_is_413_with_or_without_content_length(tmp_path: Path) -> None:
    with web_world(tmp_path, max_body_bytes=10_000) as world:
        world.add_user("alice", "requester")
        alice = world.client_as("alice")
        declared = alice.post(f"{API}/tasks", content=b"x" * 20_000)

        def chunks() -> Iterator[bytes]:  # sent chunked: no Content-Length
            for _ in range(20):
                yield b"x" * 1_000

        streamed = alice.post(f"{API}/tasks", content=chunks())
    assert "content-length" not in streamed.request.headers
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json() == {"detail": "the request body is too large"}
        assert response.headers["x-content-type-options"] == "nosniff"


# -- reading ----------------------------------------------------------------------------


def test_a_task_comes_with_its_drafts_decisions_and_events(world: WebWorld) -> None:
    task = world.awaiting_review()
    world.client_as("rita").post(f"{API}/tasks/{task.id}/decisions", json=decision(task))
    body = world.client_as("alice").get(f"{API}/tasks/{task.id}").json()
    assert body["status"] == "approved"
    assert [d["id"] for d in body["drafts"]] == [task.current_draft_id]
    assert body["drafts"][0]["output"].startswith("Draft 1")
    assert [(d["kind"], d["actor"], d["role"]) for d in body["decisions"]] == [
        ("approve", "rita", "reviewer")
    ]
    assert [e["type"] for e in body["events"]] == ["submitted", "claim", "save_draft", "approve"]
    assert body["events"][-1]["prev_hash"] == body["events"][-2]["hash"]


def test_an_unknown_task_is_404(world: WebWorld) -> None:
    response = world.client_as("rita").get(f"{API}/tasks/01NOSUCHTASK0000000000000")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFoundError"


def make_tasks(world: WebWorld, count: int, requester: str = "alice") -> list[str]:
    return [world.submit(requester, values={"name": f"n{i}"}).id for i in range(count)]


def walk(world: WebWorld, user: str, query: str = "", limit: int = 7) -> list[list[str]]:
    client, pages, cursor = world.client_as(user), [], None
    while True:
        params = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "") + query
        page = client.get(f"{API}/tasks?{params}").json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def test_pages_walk_every_task_once_newest_first(world: WebWorld) -> None:
    ids = make_tasks(world, 23)
    pages = walk(world, "rita")
    assert [len(page) for page in pages] == [7, 7, 7, 2]
    assert [task_id for page in pages for task_id in page] == sorted(ids, reverse=True)


def test_paging_is_stable_while_tasks_arrive(world: WebWorld) -> None:
    ids = make_tasks(world, 12)
    client = world.client_as("rita")
    first = client.get(f"{API}/tasks?limit=5").json()
    time.sleep(0.002)  # ids are time-ordered to the millisecond
    make_tasks(world, 4, requester="bob")  # newer than every page still to come
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"{API}/tasks?limit=5&cursor={cursor}").json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(ids, reverse=True)


def test_filters_by_status_kind_requester_and_creation_time(world: WebWorld) -> None:
    old = make_tasks(world, 3)
    time.sleep(0.05)
    middle = time.time()
    waiting = world.awaiting_review(requester="bob")
    reply = world.submit("bob", "customer_reply", {"customer": "C", "message": "hi"})
    client = world.client_as("rita")

    def ids(query: str) -> set[str]:
        page = client.get(f"{API}/tasks?{query}")
        assert page.status_code == 200, page.text
        return {item["id"] for item in page.json()["items"]}

    assert ids("status=awaiting_review") == {waiting.id}
    assert ids("status=awaiting_review&status=queued") == {waiting.id, reply.id, *old}
    assert ids("kind=customer_reply") == {reply.id}
    assert ids("requester=bob") == {waiting.id, reply.id}
    assert ids(f"created_after={middle}") == {waiting.id, reply.id}
    assert ids(f"created_before={middle}") == set(old)
    assert ids("requester=bob&kind=onboarding_email") == {waiting.id}


def test_requester_filtered_pages_still_walk_every_task_once(world: WebWorld) -> None:
    mine = make_tasks(world, 9, "alice")
    make_tasks(world, 9, "bob")
    mine += make_tasks(world, 4, "alice")
    pages = walk(world, "rita", "&requester=alice", limit=4)
    assert [task_id for page in pages for task_id in page] == sorted(mine, reverse=True)


def test_a_requester_lists_only_their_own_tasks(world: WebWorld) -> None:
    mine = make_tasks(world, 3, "alice")
    make_tasks(world, 2, "bob")
    pages = walk(world, "alice")
    assert sorted(task_id for page in pages for task_id in page) == sorted(mine)
    refused = world.client_as("alice").get(f"{API}/tasks?requester=bob")
    assert refused.status_code == 403


def test_a_cursor_the_api_did_not_give_out_is_422(world: WebWorld) -> None:
    response = world.client_as("rita").get(f"{API}/tasks?cursor=%%%")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


# -- decisions --------------------------------------------------------------------------


def test_approve_finishes_the_task_with_the_draft(world: WebWorld) -> None:
    task = world.awaiting_review()
    response = world.client_as("rita").post(f"{API}/tasks/{task.id}/decisions", json=decision(task))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved"
    assert body["version"] == task.version + 1
    assert body["final_output"] == world.store.get_draft(task.current_draft_id or "").output


def test_edit_revise_and_reject(world: WebWorld) -> None:
    rita = world.client_as("rita")
    edited, revised, rejected = (world.awaiting_review() for _ in range(3))
    url = f"{API}/tasks/{{}}/decisions"
    edit = rita.post(url.format(edited.id), json=decision(edited, "edit", text="Welcome, Ada!"))
    assert (edit.json()["status"], edit.json()["final_output"]) == ("approved", "Welcome, Ada!")
    assert world.engine.detail(edited.id).decisions[0].diff
    revise = rita.post(url.format(revised.id), json=decision(revised, "revise", feedback="Shorter"))
    assert (revise.json()["status"], revise.json()["pending_feedback"]) == ("queued", "Shorter")
    reject = rita.post(url.format(rejected.id), json=decision(rejected, "reject", reason="Off"))
    assert reject.json()["status"] == "rejected"
    assert world.engine.detail(rejected.id).decisions[0].reason == "Off"


def test_a_revision_without_feedback_is_422_saying_what_is_missing(world: WebWorld) -> None:
    task = world.awaiting_review()
    response = world.client_as("rita").post(
        f"{API}/tasks/{task.id}/decisions", json=decision(task, "revise")
    )
    assert response.status_code == 422
    assert "feedback" in response.json()["detail"]
    assert world.engine.get(task.id).status is TaskStatus.AWAITING_REVIEW


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "maybe"}, "kind"),
        ({"version": "seven"}, "version"),
        ({"version": 0}, "version"),
        ({"draft_id": None}, "draft_id"),
        ({"feedback": "f" * 20_001}, "feedback"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_invalid_decisions_are_422_naming_the_field(
    world: WebWorld, change: dict[str, Any], field: str
) -> None:
    task = world.awaiting_review()
    body = {**decision(task), **change}
    response = world.client_as("rita").post(f"{API}/tasks/{task.id}/decisions", json=body)
    assert response.status_code == 422
    assert any(field in issue["loc"] for issue in response.json()["detail"])


def test_a_stale_or_second_decision_is_409_with_the_current_task(world: WebWorld) -> None:
    task = world.awaiting_review()
    rita, root = world.client_as("rita"), world.client_as("root")
    url = f"{API}/tasks/{task.id}/decisions"
    assert rita.post(url, json=decision(task)).status_code == 200
    second = root.post(url, json=decision(task, "reject", reason="too late"))
    assert second.status_code == 409
    body = second.json()
    assert "rita already decided" in body["detail"]
    assert (body["task"]["status"], body["task"]["version"]) == ("approved", task.version + 1)
    assert len(world.engine.detail(task.id).decisions) == 1


def test_a_decision_on_an_old_version_or_draft_is_409(world: WebWorld) -> None:
    task = world.awaiting_review()
    url = f"{API}/tasks/{task.id}/decisions"
    rita = world.client_as("rita")
    stale = rita.post(url, json={**decision(task), "version": task.version - 1})
    other_draft = rita.post(url, json={**decision(task), "draft_id": "01OTHERDRAFT00000000000000"})
    assert (stale.status_code, other_draft.status_code) == (409, 409)
    assert stale.json()["task"]["status"] == "awaiting_review"
    assert world.engine.get(task.id).version == task.version


def test_fifty_concurrent_decisions_on_one_draft_exactly_one_wins(world: WebWorld) -> None:
    reviewers = [f"rev{i}" for i in range(5)]
    for name in reviewers:
        world.add_user(name, "reviewer")
    tokens = [world.token(name) for name in reviewers]
    task = world.awaiting_review()

    async def race() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=world.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            calls = [
                client.post(
                    f"{API}/tasks/{task.id}/decisions",
                    json=decision(task, "approve" if i % 2 else "reject", reason="no"),
                    headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
                )
                for i in range(50)
            ]
            return list(await asyncio.gather(*calls))

    statuses = sorted(response.status_code for response in asyncio.run(race()))
    assert statuses == [200] + [409] * 49
    detail = world.engine.detail(task.id)
    assert len(detail.decisions) == 1
    verdicts = [e for e in detail.events if e.type in ("approve", "reject")]
    assert len(verdicts) == 1
    assert detail.task.status in (TaskStatus.APPROVED, TaskStatus.REJECTED)


# -- cancel -----------------------------------------------------------------------------


def test_the_requester_or_an_admin_cancels(world: WebWorld) -> None:
    own, other = world.submit("alice"), world.submit("alice")
    cancelled = world.client_as("alice").post(f"{API}/tasks/{own.id}/cancel", json={"reason": "x"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert world.engine.events([own.id])[own.id][-1].payload["reason"] == "x"
    assert world.client_as("root").post(f"{API}/tasks/{other.id}/cancel").status_code == 200
    again = world.client_as("alice").post(f"{API}/tasks/{own.id}/cancel")
    assert again.status_code == 409
    assert again.json()["task"]["status"] == "cancelled"


def test_nobody_else_cancels(world: WebWorld) -> None:
    task = world.submit("alice")
    # Bob, a requester, may not see Alice's task: to him it is missing.
    assert world.client_as("bob").post(f"{API}/tasks/{task.id}/cancel").status_code == 404
    assert world.client_as("rita").post(f"{API}/tasks/{task.id}/cancel").status_code == 403
    assert world.engine.get(task.id).status is TaskStatus.QUEUED


# -- tokens and users -------------------------------------------------------------------


def test_tokens_are_created_listed_and_revoked(world: WebWorld) -> None:
    rita = world.client_as("rita")
    created = rita.post(f"{API}/tokens", json={"label": "laptop"})
    assert created.status_code == 201
    token = created.json()
    assert token["token"].startswith("plc_")
    listed = rita.get(f"{API}/tokens").json()
    assert {t["label"] for t in listed} == {"test", "laptop"}
    assert all("token" not in t for t in listed)
    fresh = world.client()
    fresh.headers["Authorization"] = f"Bearer {token['token']}"
    assert fresh.get(f"{API}/tasks").status_code == 200
    assert rita.delete(f"{API}/tokens/{token['id']}").status_code == 204
    assert fresh.get(f"{API}/tasks").status_code == 401
    actions = {e.action for e in world.accounts.security_events("rita")}
    assert {"create_token", "revoke_token"} <= actions


def test_only_admins_manage_other_peoples_tokens(world: WebWorld) -> None:
    made = world.client_as("root").post(f"{API}/tokens", json={"user": "vera", "label": "ci"})
    assert made.status_code == 201
    assert made.json()["user"] == "vera"
    assert world.client_as("root").get(f"{API}/tokens?user=vera").json()[0]["label"] == "ci"
    assert world.client_as("rita").post(f"{API}/tokens", json={"user": "vera"}).status_code == 403
    assert world.client_as("rita").get(f"{API}/tokens?user=vera").status_code == 403
    theirs = world.client_as("rita").delete(f"{API}/tokens/{made.json()['id']}")
    assert theirs.status_code == 404  # someone else's token is not yours to see
    assert world.client_as("root").post(f"{API}/tokens", json={"user": "nobody"}).status_code == 404


def test_admins_list_users(world: WebWorld) -> None:
    users = world.client_as("root").get(f"{API}/users").json()
    assert {u["name"]: u["roles"] for u in users}["rita"] == ["reviewer"]
    assert world.client_as("rita").get(f"{API}/users").status_code == 403


# -- operations -------------------------------------------------------------------------


def test_the_api_is_documented_at_docs(world: WebWorld) -> None:
    client = world.client()
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert "https:" not in docs.text  # nothing from outside: it works offline
    assert "https:" not in docs.headers["content-security-policy"]
    assert "'unsafe-inline'" not in docs.headers["content-security-policy"].split("style-src")[0]
    for asset in ("/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css"):
        assert client.get(asset).status_code == 200
    assert client.get("/static/apidocs.js").status_code == 200
    assert client.get("/redoc").status_code == 404
    document = client.get("/openapi.json").json()
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert document["paths"]["/api/v1/tasks"]["post"]["responses"]["409"]


def test_health_and_readiness(world: WebWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    client = world.client()
    assert client.get("/healthz").json() == {"status": "ok", "detail": None}
    assert client.get("/readyz").status_code == 200

    def broken(_filter: TaskFilter) -> list[Task]:
        raise StoreError("database is locked")

    monkeypatch.setattr(world.engine, "list_tasks", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert client.get("/healthz").status_code == 200


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from the Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    line = f"{name}{{{wanted}}} " if labels else f"{name} "
    for row in text.splitlines():
        if row.startswith(line):
            return float(row.split()[-1])
    return 0.0


def test_metrics_count_queue_depth_and_decisions(world: WebWorld) -> None:
    waiting = world.awaiting_review()
    decided = world.awaiting_review()
    world.submit()
    world.client_as("rita").post(f"{API}/tasks/{decided.id}/decisions", json=decision(decided))
    response = world.client().get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "placet_queue_depth", kind=KIND, status="awaiting_review") == 1
    assert sample(text, "placet_queue_depth", kind=KIND, status="queued") == 1
    assert sample(text, "placet_queue_depth", kind=KIND, status="approved") == 1
    assert sample(text, "placet_queue_depth", kind="customer_reply", status="queued") == 0
    assert sample(text, "placet_decisions_total", kind=KIND, verdict="approve") == 1
    assert sample(text, "placet_time_to_decision_seconds_count", kind=KIND) == 1
    assert waiting.status is TaskStatus.AWAITING_REVIEW


def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with web_world(tmp_path / "a") as first, web_world(tmp_path / "b") as second:
        first.submit()
        one, two = (w.client().get("/metrics").text for w in (first, second))
    assert sample(one, "placet_queue_depth", kind=KIND, status="queued") == 1
    assert sample(two, "placet_queue_depth", kind=KIND, status="queued") == 0


def run_worker_until(worker: MeteredWorker, done: Any, seconds: float = 10) -> None:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    try:
        while not done() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
        thread.join(timeout=5)
    assert done()


def test_the_worker_reports_drafting_time_tokens_and_provider_errors(world: WebWorld) -> None:
    metrics = Metrics()
    worker = MeteredWorker(world.engine, metrics, report=lambda _line: None)
    world.submit()
    run_worker_until(
        worker,
        lambda: (
            metrics.registry.get_sample_value("placet_drafting_seconds_count", {"kind": KIND}) == 1
        ),
    )
    completion = metrics.registry.get_sample_value(
        "placet_draft_tokens_total", {"kind": KIND, "type": "completion"}
    )
    assert completion and completion > 0

    assert isinstance(world.provider, FakeProvider)
    world.provider.fail_with = ProviderUnavailableError("the model server is down")
    world.submit()
    worker = MeteredWorker(world.engine, metrics, report=lambda _line: None)
    run_worker_until(
        worker,
        lambda: (
            metrics.registry.get_sample_value("placet_provider_errors_total", {"kind": KIND}) == 1
        ),
    )


def test_requests_are_logged_as_json_lines_with_the_user(world: WebWorld) -> None:
    stream = io.StringIO()
    logger = logging.getLogger("placet.web")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    configure_request_logs(stream)
    try:
        world.client_as("rita").get(f"{API}/tasks?limit=3")
        world.client().get(f"{API}/tasks")
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [line for line in lines if line["message"] == "request"]
    assert requests[0]["method"] == "GET"
    assert requests[0]["path"] == f"{API}/tasks"
    assert (requests[0]["status"], requests[0]["user"]) == (200, "rita")
    assert requests[0]["ms"] >= 0
    assert requests[1]["status"] == 401
    assert "user" not in requests[1]
    assert JsonLines().format(logging.makeLogRecord({"msg": "\x1b[31mred"})).isascii()


def test_the_log_never_prints_a_secret_or_a_card_number() -> None:
    key, card = "AKIAIOSFODNN7EXAMPLE", "4111 1111 1111 1111"
    record = logging.makeLogRecord({"msg": "provider said %s for %s", "args": (key, card)})
    line = json.loads(JsonLines().format(record))["message"]
    assert key not in line and card not in line
    assert "[api_key]" in line and "[card]" in line
    served = logging.makeLogRecord({"msg": "serving on http://127.0.0.1:8000/"})
    assert "http://127.0.0.1:8000/" in JsonLines().format(served)  # its own address stays


# -- live streams -----------------------------------------------------------------------


class GatedProvider(FakeProvider):
    """The fake provider, waiting for a go-ahead and then writing slowly, a word at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """Signal the start, wait to be released, then stream with small pauses."""
        self.started.set()
        assert self.release.wait(10), "the test never released the draft"
        for chunk in super().stream(request):
            time.sleep(0.005)
            yield chunk


def bearer(world: WebWorld, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token(name)}"}


def next_event(events: Iterator[SseEvent], kind: str) -> SseEvent:
    for event in events:
        if event.event == kind:
            return event
    raise AssertionError(f"the stream ended before a {kind} event")


@pytest.mark.timeout(60)
def test_the_task_stream_carries_the_draft_as_it_is_written_and_the_decision(
    tmp_path: Path,
) -> None:
    provider = GatedProvider()
    with web_world(tmp_path, provider=provider, run_worker=True) as world:
        world.add_user("rita", "reviewer")
        try:
            with serving(world.app) as live, httpx.Client(base_url=live.url, timeout=10) as client:
                task = world.submit()
                assert provider.started.wait(10), "the worker did not start drafting"
                url = f"{API}/tasks/{task.id}/events"
                with client.stream("GET", url, headers=bearer(world, "rita")) as response:
                    assert response.headers["content-type"].startswith("text/event-stream")
                    events = sse_events(response)
                    assert json.loads(next(events).data)["status"] == "drafting"
                    provider.release.set()
                    chunks, event = [], next(events)
                    while event.event == "chunk":
                        chunks.append(json.loads(event.data)["text"])
                        event = next(events)
                    status = json.loads(event.data)
                    assert (event.event, status["status"]) == ("status", "awaiting_review")
                    draft = world.store.get_draft(status["current_draft_id"])
                    assert len(chunks) > 3
                    assert "".join(chunks) == draft.output

                    request = DecisionRequest(task.id, DecisionKind.APPROVE, person("rita"))
                    threading.Thread(target=world.engine.decide, args=(request,)).start()
                    decided = next_event(events, "status")
                    assert json.loads(decided.data)["status"] == "approved"
                    assert list(events) == []  # a final status ends the stream
        finally:
            provider.release.set()


class CrowdProvider(FakeProvider):
    """Drafts that wait for a go-ahead before streaming slowly, a word at a time; it
    counts how many are in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.streaming = self.most_at_once = 0

    def stream(self, request: CompletionRequest) -> Iterator[Chunk]:
        """Count this draft in, wait to be released, then stream with small pauses."""
        with self._lock:
            self.streaming += 1
            self.most_at_once = max(self.most_at_once, self.streaming)
        try:
            assert self.release.wait(20), "the test never released the drafts"
            for chunk in super().stream(request):
                time.sleep(0.01)
                yield chunk
        finally:
            with self._lock:
                self.streaming -= 1


def watch_task(
    client: httpx.Client, url: str, headers: dict[str, str], ready: threading.Event
) -> tuple[str, str]:
    """The text a task's stream carried as chunks, and the status that ended them;
    ``ready`` is set once the stream has said the task is being drafted."""
    with client.stream("GET", url, headers=headers) as response:
        events, chunks = sse_events(response), []
        for event in events:
            if event.event == "chunk":
                chunks.append(json.loads(event.data)["text"])
            elif event.event == "status":
                status = json.loads(event.data)["status"]
                if status == "drafting":
                    ready.set()
                elif chunks:
                    return "".join(chunks), status
    raise AssertionError("the stream ended before its draft did")


@pytest.mark.timeout(90)
def test_many_drafts_stream_live_at_once_each_to_its_own_watchers(tmp_path: Path) -> None:
    together = 4
    provider = CrowdProvider()
    toml = (
        '[placet]\nmodel = "openai:hosted"\n'
        '[kinds.note]\ntemplate = "Write a note about {topic}."\n'
    )
    with web_world(
        tmp_path, toml, provider=provider, run_worker=True, drafting_concurrency=together
    ) as world:
        world.add_user("rita", "reviewer")
        world.add_user("alice", "requester")
        headers = bearer(world, "rita")
        try:
            with serving(world.app) as live, httpx.Client(base_url=live.url, timeout=20) as client:
                tasks = [world.submit("alice", "note", {"topic": f"topic {n}"}) for n in range(4)]
                watched: dict[str, tuple[str, str]] = {}
                ready = [threading.Event() for _ in tasks]

                def watch(index: int) -> None:
                    url = f"{API}/tasks/{tasks[index].id}/events"
                    watched[tasks[index].id] = watch_task(client, url, headers, ready[index])

                watchers = [threading.Thread(target=watch, args=(n,)) for n in range(4)]
                for watcher in watchers:
                    watcher.start()
                assert all(event.wait(20) for event in ready), "a watcher saw no drafting"
                deadline = time.monotonic() + 20
                while provider.streaming < together and time.monotonic() < deadline:
                    time.sleep(0.05)
                provider.release.set()
                for watcher in watchers:
                    watcher.join(60)
        finally:
            provider.release.set()
        assert provider.most_at_once == together  # all four drafts were in flight at once
        for index, task in enumerate(tasks):
            text, status = watched[task.id]
            drafted = world.engine.get(task.id)
            assert status == "awaiting_review"
            assert text == world.store.get_draft(drafted.current_draft_id).output
            assert f"topic {index}" in text  # each stream carried its own task's draft


@pytest.mark.timeout(60)
def test_the_queue_stream_tells_of_work_submitted_elsewhere(world: WebWorld) -> None:
    with serving(world.app) as live, httpx.Client(base_url=live.url, timeout=10) as client:
        url = f"{API}/queue/events"
        with client.stream("GET", url, headers=bearer(world, "rita")) as response:
            events = sse_events(response)
            first = json.loads(next_event(events, "queue").data)
            assert first["by_status"]["queued"] == 0
            threading.Thread(target=world.submit, args=("bob",)).start()
            update = json.loads(next_event(events, "queue").data)
            assert update["by_status"]["queued"] == 1
            assert update["by_kind"][KIND]["queued"] == 1


@pytest.mark.timeout(60)
def test_streams_end_when_the_client_leaves_and_when_the_server_stops(world: WebWorld) -> None:
    broker = world.services.broker
    task = world.submit()
    with serving(world.app) as live:
        url, headers = f"{API}/tasks/{task.id}/events", bearer(world, "rita")
        client = httpx.Client(base_url=live.url, timeout=10)
        with client, client.stream("GET", url, headers=headers) as response:
            events = sse_events(response)  # kept: dropping it would close the response
            next_event(events, "status")
            assert broker.subscriber_count() == 1
        deadline = time.monotonic() + 5
        while broker.subscriber_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert broker.subscriber_count() == 0

        client = httpx.Client(base_url=live.url, timeout=10)
        with client, client.stream("GET", f"{API}/queue/events", headers=headers) as response:
            events = sse_events(response)
            next_event(events, "queue")
            # What uvicorn's signal handler does on Ctrl-C or SIGTERM (patched by sse-starlette).
            AppStatus.should_exit = True
            try:
                started = time.monotonic()
                live.stop()
                assert time.monotonic() - started < 5
                assert list(events) == []
            finally:
                AppStatus.should_exit = False


def test_streams_refuse_people_who_may_not_watch(world: WebWorld) -> None:
    task = world.submit("alice")
    assert world.client_as("bob").get(f"{API}/tasks/{task.id}/events").status_code == 404
    assert world.client_as("alice").get(f"{API}/queue/events").status_code == 403
    assert world.client().get(f"{API}/queue/events").status_code == 401
    assert world.client_as("rita").get(f"{API}/tasks/NOSUCHTASK/events").status_code == 404
