"""The kill switch and the quorum from the terminal, as a person types them."""

from __future__ import annotations

import time

from tests.e2e.conftest import Cli

QUORUM_TOML = """\
[groups]
legal = ["ana", "li"]

[kinds.clause]
template = "A one-line clause about {topic}."
reviewers = ["group:legal"]
approvals = 2
max_tokens = 16
"""


def test_pause_status_and_resume(cli: Cli) -> None:
    assert "running: not paused" in cli("status").stdout
    missing = cli("pause")
    assert missing.returncode == 2 and "--reason" in missing.stderr
    paused = cli("pause", "--reason", "the model leaks names")
    assert paused.returncode == 0, paused.stderr
    assert "paused by tester: the model leaks names" in paused.stderr
    status = cli("status")
    assert "PAUSED: paused by tester: the model leaks names" in status.stdout
    submitted = cli("submit", "onboarding_email", "--input", "name=Ada")
    task_id = submitted.stdout.strip()
    worker = cli.start("worker", "--no-folder")
    try:
        time.sleep(3)  # a worker polls every fraction of a second: it would have drafted it
        assert "queued" in cli("show", task_id).stdout  # nothing was drafted
    finally:
        worker.kill()
    resumed = cli("resume")
    assert resumed.returncode == 0 and "resumed" in resumed.stderr
    again = cli("resume")
    assert again.returncode == 2 and "nothing is paused" in again.stderr


def test_two_approvals_from_the_terminal(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(QUORUM_TOML, encoding="utf-8")
    task_id = cli("submit", "clause", "--input", "topic=fees").stdout.strip()
    assert cli("worker", "--max-tasks", "1", "--no-folder").returncode == 0
    cli.env["PLACET_USER"] = "ana"
    first = cli("approve", task_id)
    assert first.returncode == 0, first.stderr
    assert f"counted for {task_id}: 1 of 2 approvals: ana; it waits for 1 more" in first.stderr
    assert "1 of 2 approvals: ana" in cli("show", task_id).stdout
    twice = cli("approve", task_id)
    assert twice.returncode == 2 and "ana already approved this text" in twice.stderr
    cli.env["PLACET_USER"] = "li"
    second = cli("approve", task_id)
    assert second.returncode == 0 and f"approved {task_id}" in second.stderr


def test_groups_are_listed_added_and_removed_in_placet_toml(cli: Cli) -> None:
    toml = cli.folder / "placet.toml"
    toml.write_text("# our team's setup\n" + QUORUM_TOML, encoding="utf-8")
    assert "legal: ana, li  reviews clause" in cli("groups", "list").stdout
    added = cli("groups", "add", "legal", "omar", "ana")
    assert added.returncode == 0 and "added omar; it is now ana, li, omar" in added.stderr
    assert toml.read_text(encoding="utf-8").startswith("# our team's setup\n")  # kept
    removed = cli("groups", "remove", "legal", "ana")
    assert removed.returncode == 0 and "left: li, omar" in removed.stderr
    # Down to one person, the 2-approval kind could never be approved: refused, unchanged.
    before = toml.read_text(encoding="utf-8")
    refused = cli("groups", "remove", "legal", "li")
    assert refused.returncode == 1 and "approvals = 2, but only 1 person" in refused.stderr
    assert toml.read_text(encoding="utf-8") == before
    unknown = cli("groups", "remove", "finance")
    assert unknown.returncode == 2 and "no group 'finance'" in unknown.stderr


HOLD_TOML = """\
[kinds.clause]
template = "A one-line clause about {topic}."
max_tokens = 16
hold = "20m"
"""


def test_taking_an_item_from_the_terminal(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(HOLD_TOML, encoding="utf-8")
    task_id = cli("submit", "clause", "--input", "topic=fees").stdout.strip()
    assert cli("worker", "--max-tasks", "1", "--no-folder").returncode == 0
    cli.env["PLACET_USER"] = "ana"
    taken = cli("take", task_id[:10])
    assert taken.returncode == 0, taken.stderr
    assert f"ana is reviewing {task_id} until" in taken.stderr
    assert "ana is reviewing it (for 20 more minutes)" in cli("show", task_id).stdout
    assert "(ana)" in cli("ls").stdout
    cli.env["PLACET_USER"] = "li"
    refused = cli("take", task_id)
    assert refused.returncode == 1 and "ana is reviewing it" in refused.stderr
    bad = cli("take", task_id, "--for", "soon")
    assert bad.returncode == 2 and "--for must be a duration" in bad.stderr
    # li's queue skips it; li may still decide it, and is told whose hold that ends.
    review = cli("review", stdin="q\n")
    assert "1 task is being reviewed by someone else" in review.stderr
    approved = cli("approve", task_id)
    assert approved.returncode == 0, approved.stderr
    assert "ana is reviewing it" in approved.stderr and f"approved {task_id}" in approved.stderr


def test_run_waits_out_a_pause_and_drafts_after_the_resume(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(HOLD_TOML, encoding="utf-8")
    assert cli("pause", "--reason", "checking the model").returncode == 0
    run = cli.start("run", "clause", "--input", "topic=fees", "--timeout", "120")
    try:
        run.expect("waiting here until then", timeout=60)
        time.sleep(1.5)  # a run that ignored the pause would have drafted by now
        assert "is waiting for review" not in "".join(run.seen)
        assert cli("resume").returncode == 0
        found = run.expect(r"placet approve (\S+)", timeout=120)
        assert cli("approve", found.group(1)).returncode == 0
        code, _ = run.finish()
        assert code == 0
    finally:
        run.kill()
