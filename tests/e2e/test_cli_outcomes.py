"""What the command line says and how it exits, for every kind of error, as a script sees it.

The rule is the README's ("Exit codes"): 2 when the command itself needs fixing, 1 when a
command typed right could not be done (a refusal, a conflict, a configuration to fix).
Tasks are drafted in-process with the fake provider; each command runs for real.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from placet.domain.models import TaskStatus
from tests.e2e.conftest import Cli
from tests.e2e.desk import add_accounts, desk_for

USAGE, ERROR = 2, 1
UNKNOWN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@dataclass(frozen=True)
class Case:
    """One command and what it must end with. ``{awaiting}``, ``{approved}`` and
    ``{contract}`` in the arguments name tasks made for it (each asked for by rita)."""

    args: tuple[str, ...]
    code: int
    says: str
    user: str = "tester"
    accounts: bool = False  # single-user mode ends: rita, lena, otto and adam have accounts
    config: str | None = None  # placet.toml replaced by this text
    env: dict[str, str] = field(default_factory=dict)
    one_line: bool = True  # Placet's own errors are one line; Typer's usage box is not


CASES = {
    # 2: the command itself needs fixing
    "unknown kind": Case(("submit", "onboarding", "--input", "name=A"), USAGE, "known kinds"),
    "missing --input": Case(("submit", "onboarding_email"), USAGE, "needs input name"),
    "malformed --input": Case(("submit", "onboarding_email", "--input", "name"), USAGE, "NAME="),
    "--json not an object": Case(
        ("submit", "onboarding_email", "--json", "[1]"), USAGE, "must be a JSON object"
    ),
    "approve an unknown task": Case(("approve", UNKNOWN), USAGE, "no task with id"),
    "show an unknown task": Case(("show", UNKNOWN), USAGE, "no task with id"),
    "wait for an unknown task": Case(("wait", UNKNOWN), USAGE, "no task with id"),
    "cancel an unknown task": Case(("cancel", UNKNOWN), USAGE, "no task with id"),
    "edit with no terminal and no --text": Case(("edit", "{awaiting}"), USAGE, "--text"),
    "revise with empty feedback": Case(
        ("revise", "{awaiting}", "--feedback", " "), USAGE, "feedback"
    ),
    "handler threads without an app": Case(
        ("worker", "--handler-threads", "4"), USAGE, "give the app with --app"
    ),
    "an unknown role": Case(("users", "add", "bob", "--role", "boss"), USAGE, "unknown role"),
    "init over a placet.toml": Case(("init",), USAGE, "use --force"),
    "not a checkpoint file": Case(
        ("audit", "verify", "--against", "placet.toml"), USAGE, "not a checkpoint file"
    ),
    "a missing argument (Typer)": Case(("approve",), USAGE, "Missing argument", one_line=False),
    # 1: typed right, but it could not be done
    "a task already decided": Case(("approve", "{approved}"), ERROR, "nothing was changed"),
    "cancel a decided task": Case(("cancel", "{approved}"), ERROR, "approved"),
    "a requester approving their own task": Case(
        ("approve", "{awaiting}"), ERROR, "rita asked for task", user="rita", accounts=True
    ),
    "a reviewer outside the kind's reviewers": Case(
        ("reject", "{contract}", "--reason", "no"),
        ERROR,
        "does not review",
        user="otto",
        accounts=True,
    ),
    "a name without an account": Case(
        ("approve", "{awaiting}"), ERROR, "mallory", user="mallory", accounts=True
    ),
    "a broken placet.toml": Case(("ls",), ERROR, "placet.toml", config="[kinds.a\n"),
    "a template with an unclosed brace": Case(
        ("submit", "onboarding_email", "--input", "name=A"),
        ERROR,
        "[kinds.onboarding_email]: template: the '{' at character 4 is never closed",
        config='[kinds.onboarding_email]\ntemplate = "Hi {name"\n',
    ),
    "config check with a problem": Case(
        ("config", "check"),
        ERROR,
        "template: the '{' at character 4 is never closed",
        config='[kinds.onboarding_email]\ntemplate = "Hi {name"\n',
        one_line=False,  # each problem, then how many
    ),
    "a model name mistyped": Case(
        ("submit", "onboarding_email", "--input", "name=A"),
        ERROR,
        "no local model named 'smolm2'",
        env={"PLACET_MODEL": "local:smolm2"},
    ),
    "a model of no known provider": Case(
        ("run", "onboarding_email", "--input", "name=A"),
        ERROR,
        "unknown model provider 'bogus'",
        env={"PLACET_MODEL": "bogus:x"},
    ),
    "an audit key too short": Case(("ls",), ERROR, "too short", env={"PLACET_AUDIT_KEY": "k"}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_error_exits_with_the_readmes_code(cli: Cli, case: Case) -> None:
    desk = desk_for(cli)
    tasks = {
        "awaiting": desk.drafted("rita").id,
        "approved": desk.approved("rita").id,
        "contract": desk.drafted("rita", kind="contract").id,
    }
    if case.accounts:
        add_accounts(cli)
    if case.config is not None:
        (cli.folder / "placet.toml").write_text(case.config)
    cli.env.update(case.env, PLACET_USER=case.user)
    result = cli(*(arg.format(**tasks) for arg in case.args), stdin="")
    assert result.returncode == case.code, result.stderr
    assert case.says in result.stderr
    assert "Traceback" not in result.stderr
    if case.one_line:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    if case.accounts:  # a refusal: the task it named still waits, untouched
        named = next(tasks[name] for name in tasks if f"{{{name}}}" in case.args)
        assert desk.task(named).status is TaskStatus.AWAITING_REVIEW


def test_edit_says_it_approved_with_your_edit_and_how_many_lines_changed(cli: Cli) -> None:
    desk = desk_for(cli)
    task = desk.drafted("rita")
    edited = f"Hi Ada,\n{desk.draft_text(task.id)}\nAmina"  # a line before, a line after
    result = cli("edit", task.id, "--text", edited)
    assert result.returncode == 0, result.stderr
    assert f"approved with your edit (2 lines changed): {task.id}" in result.stderr
    assert desk.task(task.id).final_output == edited

    other = desk.drafted("rita")
    first_word = desk.draft_text(other.id).split(" ")[0]
    reworded = desk.draft_text(other.id).replace(first_word, "Hello", 1)
    result = cli("edit", other.id, "--text", reworded)
    assert f"approved with your edit (1 line changed): {other.id}" in result.stderr
