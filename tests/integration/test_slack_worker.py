"""``placet worker`` as a real subprocess posts to Slack (the loopback Web API), and a
worker killed (SIGKILL) while Slack has not yet answered loses nothing: the next worker
posts that notification again, with the id it always had (in the message's metadata),
and every other one once. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.testing_slack import Call, LoopbackSlack
from tests.integration.sending_worker import DATABASES, SendingFolder, database_url, kill, stop

TOKEN, SIGNING = "xoxb-worker", "signing-secret"
TASKS = 4


class Folder(SendingFolder):
    """A working folder whose placet.toml posts to the loopback Slack, and its database."""

    def __init__(self, folder: Path, url: str, slack: LoopbackSlack) -> None:
        toml = (
            '[placet]\nlease_seconds = 1\nnotify = ["slack:#reviews"]\n'
            '[kinds.welcome]\ntemplate = "Welcome {name}."\n'
            f'[channels.slack]\nbase_url = "{slack.base_url}"\ntimeout = 2\n'
        )
        secrets = {"PLACET_SLACK_BOT_TOKEN": TOKEN, "PLACET_SLACK_SIGNING_SECRET": SIGNING}
        super().__init__(folder, url, toml, secrets, "slack:#reviews")


@pytest.fixture(params=DATABASES)
def folder(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Folder, LoopbackSlack]]:
    with LoopbackSlack(TOKEN) as slack, database_url(request.param, tmp_path) as url:
        opened = Folder(tmp_path, url, slack)
        yield opened, slack
        opened.close()


def message_id(call: Call) -> str:
    return str(call.args["metadata"]["event_payload"]["id"])


@pytest.mark.slow
def test_a_worker_killed_while_posting_to_slack_loses_nothing(
    folder: tuple[Folder, LoopbackSlack],
) -> None:
    place, slack = folder
    for n in range(TASKS):
        place.engine.propose("welcome", {"name": f"N{n}"}, "ana", f"Welcome N{n}.")
    ids_before = {n.webhook_id for n in place.notifications()}
    assert len(ids_before) == TASKS
    slack.slow(30.0)  # the first post: Slack takes its time, and the worker dies waiting
    worker = place.worker()
    try:
        (first,) = slack.wait_for("chat.postMessage", 1)
    finally:
        kill(worker)
    worker = place.worker()
    try:
        delivered = place.wait_until_delivered(TASKS)
    finally:
        stop(worker)
    assert {n.webhook_id for n in delivered} == ids_before  # nothing lost, nothing new
    posted = Counter(message_id(call) for call in slack.calls_to("chat.postMessage"))
    assert set(posted) == ids_before  # every one posted...
    assert posted[message_id(first)] == 2  # ...the one cut off twice, under the same id
    again = next(n for n in delivered if n.webhook_id == message_id(first))
    assert again.attempts == 2
    # Each task's message is kept once Slack accepted it, to be updated when decided.
    assert all(place.engine.slack_posts().for_task(n.task_id) for n in delivered)
