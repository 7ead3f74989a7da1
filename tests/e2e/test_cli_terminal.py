"""The review commands at a terminal, as a person uses them: keys, a pager, an editor."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.models import Task
from tests.e2e.conftest import Cli
from tests.e2e.desk import Desk
from tests.e2e.terminal import Terminal

LONG_DRAFT = "\n".join(f"Line {n} of a long welcome." for n in range(1, 61))


@pytest.fixture
def desk(cli: Cli) -> Desk:
    return Desk(cli)


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A folder for the PATH that holds only the programs a test puts there."""
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def program(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def proposed(desk: Desk, text: str) -> Task:
    """A task awaiting review with ``text`` as its draft, made in-process."""
    with desk.engine() as engine:
        return engine.propose("onboarding_email", {"name": "Ada"}, "ana", text)


def terminal_env(cli: Cli, tools: Path) -> dict[str, str]:
    """The CLI's environment with no editor chosen and only ``tools`` on the PATH."""
    env = {k: v for k, v in cli.env.items() if k not in ("VISUAL", "EDITOR", "PAGER", "LESS")}
    return {**env, "PATH": str(tools)}


@pytest.fixture
def running() -> Iterator[list[Terminal]]:
    started: list[Terminal] = []
    yield started
    for terminal in started:
        terminal.close()


def test_a_draft_taller_than_the_terminal_is_paged_and_its_header_shown_again(
    cli: Cli, desk: Desk, tools: Path, running: list[Terminal]
) -> None:
    task = proposed(desk, LONG_DRAFT)
    paged = tools.parent / "paged.txt"
    program(tools, "pager", f'{shutil.which("cat")} > "{paged}"')
    env = {**terminal_env(cli, tools), "PAGER": str(tools / "pager")}
    review = Terminal(cli, "review", env=env, rows=20)
    running.append(review)
    review.expect("[a]pprove")
    review.press("q")
    assert review.finish() == 0
    shown = paged.read_text()
    assert shown.index(task.id) < shown.index("Line 1 of") < shown.index("Line 60 of")
    after = review.screen
    assert "Line 1 of" not in after  # the draft went to the pager, not past the header
    assert after.index(f"{task.id}  onboarding_email  draft 1/3") < after.index("[a]pprove")
    assert "input: name=Ada" in after


def test_a_draft_that_fits_is_shown_in_place(
    cli: Cli, desk: Desk, tools: Path, running: list[Terminal]
) -> None:
    proposed(desk, "Welcome, Ada.")
    program(tools, "pager", "exit 1")  # never run
    env = {**terminal_env(cli, tools), "PAGER": str(tools / "pager")}
    review = Terminal(cli, "review", env=env, rows=20)
    running.append(review)
    review.expect("[a]pprove")
    assert "Welcome, Ada." in review.screen
    review.press("a")
    review.expect("the queue is empty")
    assert review.finish() == 0


def test_without_an_editor_chosen_nano_opens_not_the_systems_chooser(
    cli: Cli, desk: Desk, tools: Path, running: list[Terminal]
) -> None:
    task = proposed(desk, "Welcome, Ada.")
    opened = tools.parent / "opened.txt"
    program(tools, "sensible-editor", f'echo chooser > "{opened}"; exit 1')
    program(tools, "vi", f'echo vi > "{opened}"; exit 1')
    program(tools, "nano", f'echo nano > "{opened}"; printf "Welcome aboard, Ada." > "$1"')
    edit = Terminal(cli, "edit", task.id[:12], env=terminal_env(cli, tools))
    running.append(edit)
    assert edit.finish() == 0, edit.screen
    assert opened.read_text().strip() == "nano"
    assert "approved with your edit (1 line changed)" in edit.screen
    assert desk.task(task.id).final_output == "Welcome aboard, Ada."


def test_vi_opens_when_there_is_no_nano(
    cli: Cli, desk: Desk, tools: Path, running: list[Terminal]
) -> None:
    task = proposed(desk, "Welcome, Ada.")
    program(tools, "vi", 'printf "Hello, Ada." > "$1"')
    review = Terminal(cli, "review", env=terminal_env(cli, tools))
    running.append(review)
    review.expect("[a]pprove")
    review.press("e")
    review.expect("the queue is empty")
    assert review.finish() == 0
    assert desk.task(task.id).final_output == "Hello, Ada."


def test_with_no_editor_at_all_the_text_is_typed_in_place(
    cli: Cli, desk: Desk, tools: Path, running: list[Terminal]
) -> None:
    task = proposed(desk, "Welcome, Ada.")
    review = Terminal(cli, "review", env=terminal_env(cli, tools))
    running.append(review)
    review.expect("[a]pprove")
    review.press("e")
    review.expect("a line with only '.'")
    review.type("Welcome aboard,\nAda.\n.\n")
    review.expect("the queue is empty")
    assert review.finish() == 0
    assert desk.task(task.id).final_output == "Welcome aboard,\nAda."


def test_an_empty_queue_says_what_waits_to_be_drafted_and_what_drafts_it(cli: Cli) -> None:
    for name in ("A", "B"):
        assert cli("submit", "onboarding_email", "--input", f"name={name}").returncode == 0
    reviewed = cli("review", stdin="")
    assert reviewed.returncode == 0, reviewed.stderr
    assert reviewed.stderr.splitlines() == [
        "the queue is empty (of tasks you may decide)",
        "2 tasks are waiting to be drafted, and none is being drafted: is a worker running? "
        "Start one in another terminal with: placet worker",
    ]
    other_kind = cli("review", "--kind", "customer_reply", stdin="")
    assert other_kind.stderr.splitlines() == ["the queue is empty (of tasks you may decide)"]
