"""``placet example``: whether an approved task is an example for its kind, and the mark.

Tasks are drafted and approved in-process with the fake provider (tests/e2e/desk.py); the
command runs for real, as a subprocess, in the folder's own SQLite database.
"""

from __future__ import annotations

from tests.e2e.conftest import TEST_CONFIG, Cli
from tests.e2e.desk import Desk

LEARNING = TEST_CONFIG + "learn = { examples = 1 }\n"


def test_an_approved_task_is_marked_not_an_example_and_back(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(LEARNING)
    desk = Desk(cli)
    approved = desk.approved("rita")
    shown = cli("example", approved.id)
    assert shown.returncode == 0, shown.stderr
    assert f"{approved.id} is an example for later drafts of onboarding_email" in shown.stdout

    marked = cli("example", approved.id[-6:], "--not")  # the end of an id, as the queue shows
    assert marked.returncode == 0, marked.stderr
    assert f"{approved.id} is not an example (marked by tester" in marked.stdout
    with desk.engine() as engine:
        last = engine.task_events(approved.id)[-1]
    assert (last.type, last.actor) == ("not_an_example", "tester")  # on the audit trail
    drafted = desk.drafted("rita")
    assert "made with examples" not in cli("show", drafted.id).stdout
    assert "not an example (marked by tester" in cli("show", approved.id).stdout

    twice = cli("example", approved.id, "--not")
    assert twice.returncode == 0 and "nothing to change" in twice.stderr
    back = cli("example", approved.id, "--again")
    assert back.returncode == 0 and "marked so again by tester" in back.stdout
    later = desk.drafted("rita")
    shown_later = cli("show", later.id).stdout
    assert f"made with examples: {approved.id}" in shown_later
    # The fake writes its example again, one word apart: the reviewer is told.
    assert f"repeats the approved task {approved.id} nearly word for word" in shown_later


def test_what_cannot_be_marked_is_said(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(LEARNING)
    desk = Desk(cli)
    waiting = desk.drafted("rita")
    refused = cli("example", waiting.id, "--not")
    assert refused.returncode == 2 and "only approved work is an example" in refused.stderr
    both = cli("example", waiting.id, "--not", "--again")
    assert both.returncode == 2 and "give one" in both.stderr
    helped = cli("example", "--help")
    assert helped.returncode == 0 and "--not" in helped.stdout and "--again" in helped.stdout
