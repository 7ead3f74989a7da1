"""``placet run --follow`` walks a pipeline of kinds with the real local model, step by
step, and says where it ended or where it stopped; ``placet show`` shows the chain."""

from __future__ import annotations

import re

from tests.e2e.conftest import Background, Cli

ID = r"([0-9A-HJKMNP-TV-Z]{26})"
PIPELINE = """\
[kinds.summarize]
template = "Summarize in one sentence: {text}"
max_tokens = 24
temperature = 0.0
then = "translate_fr"
then_input = { text = "{output}", source = "{input.text}" }

[kinds.translate_fr]
template = "Translate to French: {text}"
max_tokens = 24
temperature = 0.0
"""


def _started(cli: Cli) -> tuple[Background, str]:
    (cli.folder / "placet.toml").write_text(PIPELINE)
    run = cli.start("run", "summarize", "--input", "text=The meeting moved to Friday.", "--follow")
    first = run.expect(rf"task {ID} submitted").group(1)
    run.expect("waiting for review")
    assert cli("approve", first).returncode == 0
    return run, first


def test_run_follow_drafts_each_step_and_prints_where_the_chain_ended(cli: Cli) -> None:
    run, first = _started(cli)
    try:
        second = run.expect(rf"step 2: task {ID} \(translate_fr\)").group(1)
        run.expect(r"draft 1 is waiting for review")
        assert cli("approve", second).returncode == 0
        run.expect(rf"the pipeline ended at step 2 \(translate_fr, task {second}\)")
        code, stdout = run.finish()
    finally:
        run.kill()
    assert code == 0 and stdout.strip()  # the last step's approved text
    shown = cli("show", second).stdout
    assert re.search(rf"after  {first}  summarize  approved", shown), shown
    assert re.search(rf"next  {second}  translate_fr  approved", cli("show", first).stdout)
    assert cli("audit", "verify").returncode == 0


def test_a_rejected_step_stops_run_follow_and_show_says_so(cli: Cli) -> None:
    run, _first = _started(cli)
    try:
        second = run.expect(rf"step 2: task {ID} \(translate_fr\)").group(1)
        run.expect("draft 1 is waiting for review")
        assert cli("reject", second, "--reason", "Wrong tone.").returncode == 0
        run.expect(rf"the pipeline stopped at step 2 \(translate_fr, task {second}\): rejected")
        code, stdout = run.finish()
    finally:
        run.kill()
    assert code == 3 and stdout == ""
    shown = cli("show", second).stdout
    assert "the pipeline stops here: this step was rejected" in shown


def test_a_next_step_that_cannot_be_submitted_stops_run_follow_saying_why(cli: Cli) -> None:
    tight = PIPELINE + (
        '[kinds.translate_fr.input_schema]\ntype = "object"\nproperties.text.maxLength = 3\n'
    )
    (cli.folder / "placet.toml").write_text(tight)
    run = cli.start("run", "summarize", "--input", "text=The meeting moved to Friday.", "--follow")
    try:
        first = run.expect(rf"task {ID} submitted").group(1)
        run.expect("waiting for review")
        assert cli("edit", first, "--text", "A text far longer than three.").returncode == 0
        run.expect(
            rf"the pipeline stopped after step 1 \(summarize, task {first}, approved\): "
            "the next step could not be submitted: .*text"
        )
        code, _ = run.finish()
    finally:
        run.kill()
    assert code == 1
    assert [line for line in cli("ls").stdout.splitlines() if "translate_fr" in line] == []
