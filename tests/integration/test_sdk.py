"""The Python SDK over a real SQLite store: tasks, approval gates, questions."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

import placet
from placet.cli.render import show_detail
from placet.domain.models import DecisionKind, Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import DecisionRequest
from placet.errors import ConfigError, ConflictError, InvalidInputError
from placet.sdk.client import Client
from placet.testing import FakeProvider, person


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    fake = FakeProvider()
    with placet.connect(
        f"sqlite:///{tmp_path / 'sdk.db'}",
        directory=str(tmp_path),
        requester="agent",
        provider_for=lambda _model: fake,
    ) as opened:
        yield opened


def awaiting(client: Client, timeout: float = 10) -> Task:
    """The first task awaiting review, once there is one."""
    token = client.engine.store.change_token()
    for _ in range(int(timeout / 0.05)):
        tasks = client.engine.list_tasks(TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,)))
        if tasks:
            return tasks[0]
        token = client.engine.store.wait_for_change(token, 0.05)
    raise AssertionError("nothing came up for review")


def reviewer(client: Client, kind: DecisionKind, **fields: Any) -> threading.Thread:
    """A reviewer in another thread who decides the next item as told."""

    def review() -> None:
        task = awaiting(client)
        client.engine.decide(DecisionRequest(task.id, kind, person("rosa"), **fields))

    thread = threading.Thread(target=review)
    thread.start()
    return thread


def test_submit_and_wait_for_the_approved_text(client: Client) -> None:
    thread = reviewer(client, DecisionKind.EDIT, text="Welcome aboard, Rahul!")
    outcome = client.submit("onboarding_email", name="Rahul").wait(timeout=30)
    thread.join()
    assert outcome.approved and outcome.text == "Welcome aboard, Rahul!"
    assert outcome.decided_by == "rosa"


def test_a_rejection_comes_back_with_its_reason(client: Client) -> None:
    thread = reviewer(client, DecisionKind.REJECT, reason="Off brand.")
    outcome = client.submit("onboarding_email", {"name": "Ada"}).wait(timeout=30)
    thread.join()
    assert not outcome.approved and outcome.reason == "Off brand."


def test_a_key_gives_its_task_again_only_for_the_same_request(client: Client) -> None:
    first = client.submit("onboarding_email", name="Rahul", idempotency_key="welcome-rahul")
    again = client.submit("onboarding_email", {"name": "Rahul"}, idempotency_key="welcome-rahul")
    assert again.id == first.id
    with pytest.raises(ConflictError, match="already used for a different request"):
        client.submit("onboarding_email", name="Grace", idempotency_key="welcome-rahul")
    someone_else = Client(client.engine, requester="another-agent")
    with pytest.raises(ConflictError, match="nothing was submitted"):
        someone_else.submit("onboarding_email", name="Rahul", idempotency_key="welcome-rahul")
    assert len(client.engine.list_tasks(TaskFilter())) == 1


def test_wait_times_out_and_keeps_the_task(client: Client) -> None:
    handle = client.submit("onboarding_email", name="Ada")
    with pytest.raises(TimeoutError):
        handle.wait(timeout=0.3)
    assert handle.refresh().status is TaskStatus.AWAITING_REVIEW


def guarded(client: Client, calls: list[dict[str, Any]], **options: Any) -> Callable[..., str]:
    @client.require_approval(kind="send_email", **options)
    def send_email(to: str, subject: str, retries: int = 1, password: str = "") -> str:
        calls.append(
            {
                "to": to,
                "subject": subject,
                "retries": retries,
                "password": password,
                "key": placet.current_idempotency_key(),
            }
        )
        return f"sent to {to}"

    return send_email


def test_a_guarded_call_runs_once_after_approval(client: Client) -> None:
    calls: list[dict[str, Any]] = []
    send_email = guarded(client, calls)
    thread = reviewer(client, DecisionKind.APPROVE)
    assert send_email("ceo@corp.example", subject="Proposal") == "sent to ceo@corp.example"
    thread.join()
    assert len(calls) == 1 and calls[0]["key"].startswith("placet:")
    events = client.engine.detail(awaiting_done(client).id).events
    assert [e.type for e in events][-2:] == ["execution_started", "executed"]
    assert events[-1].payload["result"] == "sent to ceo@corp.example"


def awaiting_done(client: Client) -> Task:
    return client.engine.list_tasks(TaskFilter(kinds=("send_email",)))[0]


def test_an_edit_changes_the_arguments_the_call_runs_with(client: Client) -> None:
    calls: list[dict[str, Any]] = []
    send_email = guarded(client, calls)
    edited = json.dumps(
        {"to": "team@corp.example", "subject": "Shorter", "retries": 3, "password": ""}
    )
    thread = reviewer(client, DecisionKind.EDIT, text=edited)
    send_email("ceo@corp.example", "Proposal")
    thread.join()
    assert calls == [
        {
            "to": "team@corp.example",
            "subject": "Shorter",
            "retries": 3,
            "password": "",
            "key": calls[0]["key"],
        }
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"to": "x", "subject": "y", "cc": "z"}, "'cc' is not a parameter"),
        ({"to": "x", "subject": "y", "retries": "three"}, "'retries' .* must be int, not str"),
        ({"subject": "y"}, "'to' .* is required"),
    ],
)
def test_an_edit_that_does_not_fit_the_signature_is_refused(
    client: Client, edit: dict[str, Any], message: str
) -> None:
    calls: list[dict[str, Any]] = []
    pending = guarded(client, calls, blocking=False)("a@b.example", "Hi")
    with pytest.raises(InvalidInputError, match=message):
        client.engine.decide(
            DecisionRequest(
                pending.task_id, DecisionKind.EDIT, person("rosa"), text=json.dumps(edit)
            )
        )
    assert client.engine.get(pending.task_id).status is TaskStatus.AWAITING_REVIEW
    assert calls == []


class Order(BaseModel):
    """A guarded function's typed argument."""

    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1, le=10)
    currency: Literal["EUR", "USD"] = "EUR"


def typed_gate(
    client: Client, received: list[tuple[Order, list[int]]], **options: Any
) -> Callable[..., Any]:
    @client.require_approval(kind="place_order", **options)
    def place_order(order: Order, lines: list[int]) -> str:
        received.append((order, lines))
        return f"{order.quantity} x {order.sku}"

    return place_order


def test_a_typed_argument_is_stored_as_json_and_arrives_as_its_model_with_the_edit(
    client: Client,
) -> None:
    received: list[tuple[Order, list[int]]] = []
    place_order = typed_gate(client, received)
    edited = {"order": {"sku": "A-1", "quantity": 3, "currency": "USD"}, "lines": [1, 2]}
    thread = reviewer(client, DecisionKind.EDIT, text=json.dumps(edited))
    assert place_order(Order(sku="A-1", quantity=1), [1]) == "3 x A-1"
    thread.join()
    ((order, lines),) = received
    assert isinstance(order, Order) and order == Order(sku="A-1", quantity=3, currency="USD")
    assert lines == [1, 2]
    call = awaiting_call(client, "place_order").input["call"]
    assert call["arguments"]["order"] == {"sku": "A-1", "quantity": 1, "currency": "EUR"}
    schema = {p["name"]: p.get("schema") for p in call["parameters"]}["order"]
    assert schema["properties"]["quantity"]["maximum"] == 10  # Pydantic's schema, kept


def awaiting_call(client: Client, kind: str) -> Task:
    return client.engine.list_tasks(TaskFilter(kinds=(kind,)))[0]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"order": {"sku": "A-1", "quantity": 11}, "lines": [1]}, "quantity: 11 is greater"),
        ({"order": {"sku": "", "quantity": 1}, "lines": [1]}, "sku: '' should be non-empty"),
        ({"order": {"sku": "A", "quantity": 1, "currency": "GBP"}, "lines": [1]}, "currency"),
        ({"order": {"sku": "A", "quantity": 1}, "lines": ["one"]}, "'lines' .*0: 'one' is not"),
    ],
)
def test_an_edit_is_checked_field_by_field_against_the_type_hints(
    client: Client, edit: dict[str, Any], message: str
) -> None:
    received: list[tuple[Order, list[int]]] = []
    pending = typed_gate(client, received, blocking=False)(Order(sku="A-1", quantity=1), [1])
    with pytest.raises(InvalidInputError, match=message):
        client.engine.decide(
            DecisionRequest(
                pending.task_id, DecisionKind.EDIT, person("rosa"), text=json.dumps(edit)
            )
        )
    assert client.engine.get(pending.task_id).status is TaskStatus.AWAITING_REVIEW
    assert received == []


def test_a_rejected_call_never_runs_and_raises_with_the_reason(client: Client) -> None:
    calls: list[dict[str, Any]] = []
    send_email = guarded(client, calls)
    thread = reviewer(client, DecisionKind.REJECT, reason="Not to the CEO.")
    with pytest.raises(placet.Rejected, match="Not to the CEO.") as caught:
        send_email("ceo@corp.example", "Proposal")
    thread.join()
    assert caught.value.reason == "Not to the CEO." and calls == []


def test_non_blocking_calls_run_once_however_often_they_are_collected(client: Client) -> None:
    calls: list[dict[str, Any]] = []
    pending = guarded(client, calls, blocking=False)("a@b.example", "Hi")
    assert calls == []
    client.engine.decide(DecisionRequest(pending.task_id, DecisionKind.APPROVE, person("rosa")))
    results: list[object] = []

    def collect() -> None:
        try:
            results.append(pending.result(timeout=10))
        except placet.AlreadyExecuted as exc:
            results.append(exc)

    threads = [threading.Thread(target=collect) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results.count("sent to a@b.example") == 1
    assert sum(isinstance(r, placet.AlreadyExecuted) for r in results) == 5


def test_a_second_approval_of_the_same_call_is_refused(client: Client) -> None:
    pending = guarded(client, [], blocking=False)("a@b.example", "Hi")
    client.engine.decide(DecisionRequest(pending.task_id, DecisionKind.APPROVE, person("rosa")))
    with pytest.raises(placet.ConflictError):
        client.engine.decide(DecisionRequest(pending.task_id, DecisionKind.APPROVE, person("rosa")))


def test_secrets_are_redacted_for_review_but_reach_the_function(
    client: Client, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    pending = guarded(client, calls, blocking=False, redact=("password",))(
        "a@b.example", "Hi", password="hunter2-secret"
    )
    task = client.engine.get(pending.task_id)
    assert task.input["call"]["arguments"]["password"] == "***"
    assert b"hunter2-secret" not in (tmp_path / "sdk.db").read_bytes()
    client.engine.decide(DecisionRequest(pending.task_id, DecisionKind.APPROVE, person("rosa")))
    pending.result(timeout=10)
    assert calls[0]["password"] == "hunter2-secret"


def test_arguments_that_cannot_be_stored_fail_at_call_time(client: Client) -> None:
    send_email = guarded(client, [])
    with pytest.raises(InvalidInputError, match="argument 'subject' .* cannot be stored"):
        send_email("a@b.example", subject=object())  # type: ignore[arg-type]
    assert client.engine.list_tasks(TaskFilter()) == []


def test_async_functions_are_guarded_too(client: Client) -> None:
    calls: list[str] = []

    @client.require_approval(kind="post_message")
    async def post(text: str) -> str:
        await asyncio.sleep(0)
        calls.append(text)
        return "posted"

    thread = reviewer(client, DecisionKind.APPROVE)
    assert asyncio.run(post("hello")) == "posted"
    thread.join()
    assert calls == ["hello"]


def test_ask_returns_the_persons_answer(client: Client) -> None:
    thread = reviewer(client, DecisionKind.EDIT, text="Ship it on Tuesday.")
    assert client.ask("When should we ship?", timeout=10) == "Ship it on Tuesday."
    thread.join()
    task = client.engine.list_tasks(TaskFilter(kinds=("question",)))[0]
    assert task.input == {"question": "When should we ship?"}


def test_the_async_twins_submit_with_a_key_wait_and_run_handlers(client: Client) -> None:
    delivered: list[str] = []

    @client.on_approved("onboarding_email", name="welcome.log", backfill=True)
    def log(outcome: placet.Outcome, key: str) -> None:
        delivered.append(outcome.task_id)

    async def agent() -> tuple[str, str, placet.Outcome, int]:
        first = await client.asubmit("onboarding_email", name="Ada", idempotency_key="ada-1")
        again = await client.asubmit("onboarding_email", {"name": "Ada"}, idempotency_key="ada-1")
        thread = reviewer(client, DecisionKind.APPROVE)
        outcome = await first.wait_async(timeout=30)
        thread.join()
        return first.id, again.id, outcome, await client.arun_pending_handlers()

    first, again, outcome, ran = asyncio.run(agent())
    assert first == again  # the same key names the same task
    assert outcome.approved and outcome.task_id == first
    assert ran == 1 and delivered == [first]


def test_placet_show_says_when_an_approved_call_never_recorded_its_outcome(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    """A process that dies between the start mark and the outcome leaves the call unfinished."""
    calls: list[dict[str, Any]] = []
    send_email = guarded(client, calls, blocking=False)
    thread = reviewer(client, DecisionKind.APPROVE)
    pending = send_email("ceo@corp.example", subject="Proposal")
    thread.join()
    # What a run does first; its process then dies before the call returns.
    client.engine.start_execution(pending.task_id, "agent", f"placet:{pending.task_id}:execute")
    show_detail(client.engine.detail(pending.task_id))
    shown = " ".join(capsys.readouterr().out.split())
    assert "execution started" in shown and "by agent: no outcome recorded" in shown
    assert "check what it did" in shown
    with pytest.raises(placet.AlreadyExecuted):
        pending.result(timeout=10)
    assert calls == []


def test_placet_show_gives_how_an_approved_call_ran(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    send_email = guarded(client, [])
    thread = reviewer(client, DecisionKind.APPROVE)
    assert send_email("ceo@corp.example", subject="Proposal") == "sent to ceo@corp.example"
    thread.join()
    show_detail(client.engine.detail(awaiting_done(client).id))
    shown = " ".join(capsys.readouterr().out.split())
    assert "execution started" in shown and "by agent: ran, done" in shown
    assert "no outcome recorded" not in shown


def test_a_waiting_client_keeps_the_review_folder_and_says_once_what_it_waits_for(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handle = client.submit("onboarding_email", name="Ada")
    with pytest.raises(TimeoutError):
        handle.wait(timeout=0.3)
    pending = tmp_path / "human_feedback" / "pending" / f"{handle.id}.json"
    assert pending.exists()  # in the client's folder: connect(directory=...)
    with pytest.raises(TimeoutError):
        handle.wait(timeout=0.3)  # the same draft again: nothing more is said
    reviewer(client, DecisionKind.REVISE, feedback="Shorter.").join()
    with pytest.raises(TimeoutError):
        handle.wait(timeout=0.3)  # drafts again here, then waits on draft 2
    said = capsys.readouterr().err.splitlines()
    assert said == [
        f"placet: drafting task {handle.id} (onboarding_email), draft 1 of 3 …",
        f"placet: task {handle.id} (onboarding_email) is waiting for a person's decision on "
        "draft 1; this program waits for it.",
        f"  decide with: placet review | placet approve {handle.id} | placet reject {handle.id} "
        '--reason "…" | the dashboard (placet serve)',
        f"  or move {pending} to approved/ or rejected/",
        f"placet: task {handle.id}: a revision was asked for",
        f"placet: drafting task {handle.id} (onboarding_email), draft 2 of 3 …",
        f"placet: task {handle.id} (onboarding_email) is waiting for a person's decision on "
        "draft 2; this program waits for it.",
        f"  decide with: placet review | placet approve {handle.id} | placet reject {handle.id} "
        '--reason "…" | the dashboard (placet serve)',
        f"  or move {pending} to approved/ or rejected/",
    ]


def test_without_the_review_folder_the_client_says_how_else_to_decide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sdk_client(tmp_path, review_folder=False) as client:
        handle = client.submit("onboarding_email", name="Ada")
        with pytest.raises(TimeoutError):
            handle.wait(timeout=0.3)
    said = capsys.readouterr().err
    assert f"placet approve {handle.id}" in said and "or move" not in said
    assert not (tmp_path / "human_feedback").exists()


@pytest.mark.parametrize("asked", [{"quiet": True}, {"env": "1"}, {"env": "yes"}])
def test_a_quiet_client_prints_nothing_while_it_waits(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    asked: dict[str, Any],
) -> None:
    if "env" in asked:
        monkeypatch.setenv("PLACET_QUIET", asked["env"])
    with sdk_client(tmp_path, quiet=asked.get("quiet")) as client:
        handle = client.submit("onboarding_email", name="Ada")
        with pytest.raises(TimeoutError):
            handle.wait(timeout=0.3)
    assert capsys.readouterr().err == ""
    assert (tmp_path / "human_feedback" / "pending" / f"{handle.id}.json").exists()


def sdk_client(tmp_path: Path, **options: Any) -> Client:
    fake = FakeProvider()
    return placet.connect(
        f"sqlite:///{tmp_path / 'sdk.db'}",
        directory=str(tmp_path),
        requester="agent",
        provider_for=lambda _model: fake,
        **options,
    )


def test_a_kind_whose_model_cannot_be_used_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    (tmp_path / "placet.toml").write_text(
        '[kinds.note]\ntemplate = "About {topic}."\nmodel = "local:smolm2"\n'
    )
    # The real provider registry: no provider_for.
    database = f"sqlite:///{tmp_path / 'sdk.db'}"
    with placet.connect(database, directory=str(tmp_path), requester="agent") as client:
        with pytest.raises(ConfigError, match="kind 'note' cannot be drafted") as refused:
            client.submit("note", topic="tea")
        said = refused.value.message
        assert f"local:smolm2 (model in {tmp_path / 'placet.toml'} [kinds.note])" in said
        assert client.engine.list_tasks(TaskFilter()) == []
        # A person's answer needs no model: a question is still asked.
        with pytest.raises(TimeoutError):
            client.ask("Which tea?", timeout=0.01)
        assert [task.kind for task in client.engine.list_tasks(TaskFilter())] == ["question"]
