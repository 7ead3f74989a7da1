"""Many drafts in flight from one worker (issue 22), against real loopback servers and
the real OpenAI-compatible adapter, on a real SQLite file.

* a worker drafts up to ``concurrency`` at once, never more (nor more of a model than
  its own slots), each task once, each with its whole text;
* provider faults under concurrency (429s, 500s, cut streams, timeouts, a refusal): every
  task ends drafted or failed with its reason, and no partial draft is saved;
* stopped at once (Ctrl-C twice), every task in flight is handed back;
* SIGKILLed with 32 drafts in flight, the next worker drafts each of them once more and
  each ends with one current draft.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from placet.domain.models import TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine import Engine
from placet.engine.worker import Worker
from tests.integration import fault_server as faults
from tests.integration.hosted_api import WORD, HostedApi, Plan
from tests.integration.many_drafts_actor import KIND, engine_for

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60.0


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'placet.db'}"


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.close(store_too=True)


def submit(engine: Engine, count: int) -> list[str]:
    return [engine.submit(KIND.name, {"name": f"person {i}"}, "tester").id for i in range(count)]


def tasks_in(engine: Engine, *statuses: TaskStatus) -> list[str]:
    found = engine.list_tasks(TaskFilter(statuses=statuses, limit=1000))
    return [task.id for task in found]


def wait_until(check: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


def quiet(_message: str) -> None:
    """Worker reports are not needed here."""


def test_a_worker_drafts_many_at_once_each_task_once_and_whole(
    url: str, engines: list[Engine]
) -> None:
    with HostedApi(Plan(first_token_seconds=0.3, draft_tokens=20)) as api:
        engine = engine_for(url, api.base_url)
        engines.append(engine)
        ids = submit(engine, 40)
        Worker(engine, report=quiet, concurrency=8).run(max_tasks=len(ids))
        assert api.counts.most_at_once == 8  # as many as asked, never more
        assert api.counts.requests == len(ids)
    assert sorted(tasks_in(engine, TaskStatus.AWAITING_REVIEW)) == sorted(ids)
    for task_id in ids:
        detail = engine.detail(task_id)
        assert [draft.output for draft in detail.drafts] == [WORD * 20]


def test_a_model_never_has_more_drafts_at_once_than_its_own_slots(
    url: str, engines: list[Engine]
) -> None:
    with HostedApi(Plan(first_token_seconds=0.2, draft_tokens=5)) as api:
        engine = engine_for(url, api.base_url)
        engine.settings.model_concurrency["hosted"] = 3  # as [concurrency] hosted = 3 says
        engines.append(engine)
        ids = submit(engine, 15)
        Worker(engine, report=quiet, concurrency=16).run(max_tasks=len(ids))
        assert api.counts.most_at_once == 3
    assert len(tasks_in(engine, TaskStatus.AWAITING_REVIEW)) == len(ids)


def test_rate_limits_announced_in_headers_are_kept_by_all_drafts_in_flight(
    url: str, engines: list[Engine], tmp_path: Path
) -> None:
    plan = Plan(first_token_seconds=0.1, draft_tokens=5, requests_per_second=10)
    with HostedApi(plan) as api:
        engine = engine_for(url, api.base_url)
        engines.append(engine)
        ids = submit(engine, 30)
        Worker(engine, report=quiet, concurrency=16).run(max_tasks=len(ids))
        counts, base_url = api.counts, api.base_url
    assert len(tasks_in(engine, TaskStatus.AWAITING_REVIEW)) == len(ids)
    # Unpaced, 16 at once against 10 a second would be refused from the 11th request on.
    assert counts.rate_limited <= 1
    assert counts.requests == len(ids) + counts.rate_limited
    # What the worker knew of the limit is written for placet status.
    [row] = [row for row in engine.provider_paces(60) if row.endpoint == base_url]
    assert row.pace["limits"]["requests"] == 10
    assert row.pace["sent"] == counts.requests
    status = subprocess.run(
        [sys.executable, "-m", "placet", "status"],
        env={**os.environ, "PLACET_DATABASE_URL": url, "PYTHONPATH": str(ROOT / "src")},
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"pace {row.endpoint} ({row.worker}" in status.stdout
    assert "requests: " in status.stdout and " of 10 left, refilling " in status.stdout


FAULTS = [
    faults.rate_limited("0"),
    faults.server_error(500),
    faults.stream_then_drop(after=3),
    faults.hang(3.0),  # longer than the client's timeout
    faults.unauthorized(),  # not worth another try: that task fails, with the reason
    faults.stream_then_hang(after=2, seconds=3.0),
    faults.server_error(503),
]


def test_provider_faults_under_concurrency_end_every_task_drafted_or_failed(
    url: str, engines: list[Engine]
) -> None:
    with faults.FaultServer() as server:
        server.push(*FAULTS, times=3)
        engine = engine_for(url, server.base_url, timeout=1.0, attempts=4)
        engines.append(engine)
        ids = submit(engine, 24)
        worker = Worker(engine, report=quiet, concurrency=8)
        runner = threading.Thread(target=worker.run)
        runner.start()
        finished = (TaskStatus.AWAITING_REVIEW, TaskStatus.FAILED)
        try:
            wait_until(lambda: len(tasks_in(engine, *finished)) == len(ids), "every task ends")
        finally:
            worker.stop()
            runner.join(WAIT_SECONDS)
    failed = tasks_in(engine, TaskStatus.FAILED)
    assert len(failed) >= 3  # the three refusals, at least
    for task_id in ids:
        detail = engine.detail(task_id)
        if task_id in failed:
            assert not detail.drafts
            [failure] = [event for event in detail.events if event.type == "fail"]
            assert failure.payload["error"]  # the reason, for placet retry
        else:  # one draft, whole: a cut stream's words were never saved
            assert [draft.output for draft in detail.drafts] == [faults.DEFAULT_TEXT]


def test_stopped_at_once_every_task_in_flight_is_handed_back(
    url: str, engines: list[Engine]
) -> None:
    with HostedApi(Plan(first_token_seconds=30.0)) as api:
        engine = engine_for(url, api.base_url, timeout=2.0, attempts=1)
        engines.append(engine)
        ids = submit(engine, 6)
        worker = Worker(engine, report=quiet, concurrency=4)
        runner = threading.Thread(target=worker.run, daemon=True)
        runner.start()
        wait_until(lambda: len(tasks_in(engine, TaskStatus.DRAFTING)) == 4, "4 drafts in flight")
        worker.stop_at_once()
        assert sorted(tasks_in(engine, TaskStatus.QUEUED)) == sorted(ids)
        runner.join(WAIT_SECONDS)
        assert not runner.is_alive()
    for task_id in ids:
        detail = engine.detail(task_id)
        assert not detail.drafts
        assert detail.task.lease_owner is None


def test_a_killed_worker_with_32_drafts_in_flight_loses_none_and_doubles_none(
    url: str, engines: list[Engine], tmp_path: Path
) -> None:
    tasks = 40
    with (
        HostedApi(Plan(first_token_seconds=60.0)) as stuck,
        HostedApi(Plan(first_token_seconds=0.2, draft_tokens=10)) as working,
    ):
        engine = engine_for(url, working.base_url)
        engines.append(engine)
        ids = submit(engine, tasks)
        with (tmp_path / "doomed.log").open("wb") as log:
            doomed = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.many_drafts_actor", url,
                 stuck.base_url, "32"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_until(
                lambda: stuck.counts.streams_at_once == 32, "32 drafts in flight at the server"
            )
            in_flight = set(tasks_in(engine, TaskStatus.DRAFTING))
            assert len(in_flight) == 32
        finally:
            doomed.kill()
            doomed.wait()
        Worker(engine, name="next-worker", report=quiet, concurrency=32).run(max_tasks=tasks)
    assert sorted(tasks_in(engine, TaskStatus.AWAITING_REVIEW)) == sorted(ids)
    for task_id in ids:
        detail = engine.detail(task_id)
        assert len(detail.drafts) == 1  # drafted once more, by the next worker, and once only
        assert detail.task.current_draft_id == detail.drafts[0].id
        claims = [event for event in detail.events if event.type in ("claim", "reclaim")]
        if task_id in in_flight:  # taken back from the killed worker once its lease ran out
            assert [event.payload["worker"] for event in claims] == ["doomed-worker", "next-worker"]
        else:
            assert [event.payload["worker"] for event in claims] == ["next-worker"]


def test_ctrl_c_lets_drafts_finish_and_twice_hands_them_back(
    url: str, engines: list[Engine], tmp_path: Path
) -> None:
    (tmp_path / "placet.toml").write_text(
        '[placet]\nmodel = "openai:hosted-model"\n\n'
        '[kinds.reply]\ntemplate = "Write a short reply to {name}."\nmax_tokens = 50\n'
    )
    with HostedApi(Plan(first_token_seconds=30.0)) as api:
        engine = engine_for(url, api.base_url)
        engines.append(engine)
        ids = submit(engine, 6)
        env = {**os.environ, "PLACET_DATABASE_URL": url, "OPENAI_BASE_URL": api.base_url,
               "OPENAI_API_KEY": "test-key-01234", "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
        env.pop("PLACET_CONFIG", None)
        worker = subprocess.Popen(
            [sys.executable, "-m", "placet", "worker", "--concurrency", "4", "--no-folder"],
            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_until(lambda: api.counts.streams_at_once == 4, "4 drafts in flight")
            worker.send_signal(signal.SIGINT)
            assert worker.stderr is not None
            said = ""
            while "Ctrl-C again" not in said:  # the first lets the drafts in flight finish
                said = worker.stderr.readline()
                assert said, "the worker ended without saying how to stop at once"
            assert len(tasks_in(engine, TaskStatus.DRAFTING)) == 4
            worker.send_signal(signal.SIGINT)
            worker.wait(WAIT_SECONDS)
        finally:
            worker.kill()
            worker.wait()
            if worker.stderr is not None:
                worker.stderr.close()
    assert sorted(tasks_in(engine, TaskStatus.QUEUED)) == sorted(ids)  # all handed back
    for task_id in ids:
        assert not engine.detail(task_id).drafts
