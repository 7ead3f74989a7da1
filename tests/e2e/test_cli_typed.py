"""A kind with choices from the command line, drafted by the real local model (SmolLM2):
its draft is a valid choice, ``placet review`` picks with one key per choice, and
``placet approve --choice`` picks by name."""

from __future__ import annotations

import json

import pytest

from placet.store import open_store
from tests.e2e.conftest import TEST_CONFIG, Cli

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
