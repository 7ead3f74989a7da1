"""A kind with choices from the command line, drafted by the real local model (SmolLM2):
its draft is a valid choice, ``placet review`` picks with one key per choice, and
``placet approve --choice`` picks by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from placet.store import open_store
from tests.e2e.conftest import TEST_CONFIG, Cli
from tests.e2e.desk import Desk
from tests.e2e.terminal import Terminal
from tests.e2e.test_cli_terminal import program, terminal_env

MODERATION = """
[kinds.moderate]
system = "You moderate posts on a forum for gardeners."
template = "Moderate this post: {post}"
choices = ["allow", "remove", "escalate"]
max_tokens = 80
temperature = 0.0
"""


def final_output(cli: Cli, task_id: str) -> dict[str, object]:
    store = open_store(f"sqlite:///{cli.folder / 'placet.db'}")
    try:
        detail = store.detail(task_id)
    finally:
        store.close()
    draft = detail.drafts[-1].output
    return {"draft": json.loads(draft), "final": json.loads(detail.task.final_output or "null")}


@pytest.mark.slow
def test_the_local_model_drafts_a_choice_and_the_reviewer_picks_by_key_and_by_name(
    cli: Cli,
) -> None:
    (cli.folder / "placet.toml").write_text(TEST_CONFIG + MODERATION)
    first = cli("submit", "moderate", "--input", "post=Buy cheap pills at example.biz")
    second = cli("submit", "moderate", "--input", "post=My tomatoes love the sun.")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    worked = cli("worker", "--max-tasks", "2", "--no-folder", timeout=300)
    assert worked.returncode == 0, worked.stderr
    first_id, second_id = first.stdout.strip(), second.stdout.strip()

    drafted = final_output(cli, first_id)["draft"]
    assert isinstance(drafted, dict)
    assert drafted["choice"] in ("allow", "remove", "escalate")
    assert isinstance(drafted["reason"], str)

    # The oldest first: key 2 picks "remove", with why.
    reviewed = cli("review", stdin="2\nselling pills\nq\n")
    assert reviewed.returncode == 0, reviewed.stderr
    assert "[1] allow  [2] remove  [3] escalate" in reviewed.stderr
    outcome = final_output(cli, first_id)["final"]
    assert isinstance(outcome, dict) and outcome["choice"] == "remove"

    wrong = cli("approve", second_id, "--choice", "ban")
    assert wrong.returncode == 2 and "pick one of: allow, remove, escalate" in wrong.stderr
    picked = cli("approve", second_id, "--choice", "allow")
    assert picked.returncode == 0, picked.stderr
    outcome = final_output(cli, second_id)["final"]
    assert isinstance(outcome, dict) and outcome["choice"] == "allow"
    assert cli("audit", "verify").returncode == 0


INVOICE_SCHEMA = {
    "type": "object",
    "properties": {"vendor": {"type": "string"}, "total": {"type": "number", "minimum": 0}},
    "required": ["vendor", "total"],
    "additionalProperties": False,
}
INVOICE = f"""
[kinds.invoice]
template = "Extract the invoice: {{text}}"
output_schema = '{json.dumps(INVOICE_SCHEMA)}'
"""


def test_an_object_edited_in_the_editor_is_checked_each_time_it_is_saved(
    cli: Cli, tmp_path: Path
) -> None:
    (cli.folder / "placet.toml").write_text(TEST_CONFIG + INVOICE)
    desk = Desk(cli)
    with desk.engine() as engine:
        task = engine.propose("invoice", {"text": "ACME 3"}, "ana", '{"vendor": "AC", "total": 3}')
    tools = tmp_path / "bin"
    tools.mkdir()
    # The first save is refused (a negative total); the second fits.
    program(
        tools,
        "nano",
        f'if [ -e "{tools}/once" ]; then printf \'{{"vendor": "ACME", "total": 3}}\' > "$1"; '
        f'else : > "{tools}/once"; printf \'{{"vendor": "ACME", "total": -3}}\' > "$1"; fi',
    )
    edit = Terminal(cli, "edit", task.id, env=terminal_env(cli, tools))
    try:
        edit.expect("edit it again?")
        assert "total: -3 is less than the minimum of 0" in edit.screen
        edit.type("y\n")
        edit.expect("approved with your edit")
        assert edit.finish() == 0, edit.screen
    finally:
        edit.close()
    done = desk.task(task.id)
    assert json.loads(done.final_output or "") == {"vendor": "ACME", "total": 3}


def test_submit_reads_inputs_by_the_input_schema_and_names_one_that_does_not_fit(
    cli: Cli,
) -> None:
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "number", "maximum": 500}},
        "required": ["amount"],
    }
    refund = (
        '\n[kinds.refund]\ntemplate = "Refund {amount}."\n'
        f"input_schema = '{json.dumps(schema)}'\n"
    )
    (cli.folder / "placet.toml").write_text(TEST_CONFIG + refund)
    ok = cli("submit", "refund", "--input", "amount=12.5")
    assert ok.returncode == 0, ok.stderr
    too_much = cli("submit", "refund", "--input", "amount=900")
    assert too_much.returncode == 2
    assert "input amount: 900 is greater than the maximum of 500" in too_much.stderr
    not_a_number = cli("submit", "refund", "--input", "amount=lots")
    assert not_a_number.returncode == 2 and "'lots' is not of type 'number'" in not_a_number.stderr


def test_approve_takes_the_fields_a_kind_asks_for(cli: Cli) -> None:
    asked = {
        "type": "object",
        "properties": {"amount": {"type": "number", "maximum": 500}},
        "required": ["amount"],
    }
    refund = (
        '\n[kinds.refund]\ntemplate = "Reply about {text}."\n'
        f"decision_fields = '{json.dumps(asked)}'\n"
    )
    (cli.folder / "placet.toml").write_text(TEST_CONFIG + refund)
    with Desk(cli).engine() as engine:
        task = engine.propose("refund", {"text": "a broken cup"}, "ana", "We refund you.")
    missing = cli("approve", task.id)
    assert missing.returncode == 2 and "'amount' is a required property" in missing.stderr
    given = cli("approve", task.id, "--field", "amount=40")
    assert given.returncode == 0, given.stderr
    assert Desk(cli).last_event_payload(task.id)["fields"] == {"amount": 40}
