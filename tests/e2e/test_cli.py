"""The command line end to end, as a user runs it: real SQLite, the real local model."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pytest

from placet.domain.models import Task
from placet.engine.accounts import Accounts
from placet.store import open_store
from tests.e2e.conftest import Cli

ID = r"([0-9A-Z]{26})"


def stored_task(cli: Cli, task_id: str) -> Task:
    store = open_store(f"sqlite:///{cli.folder / 'placet.db'}")
    try:
        return store.get_task(task_id)
    finally:
        store.close()


def test_submit_draft_revise_redraft_approve(cli: Cli) -> None:
    submitted = cli("submit", "onboarding_email", "--input", "name=Rahul")
    assert submitted.returncode == 0, submitted.stderr
    task_id = submitted.stdout.strip()
    assert cli("worker", "--max-tasks", "1", "--no-folder").returncode == 0
    listed = cli("ls", "--status", "awaiting_review")
    assert task_id in listed.stdout

    revised = cli("revise", task_id, "--feedback", "Mention the free trial.")
    assert revised.returncode == 0 and "revision requested" in revised.stderr
    assert cli("worker", "--max-tasks", "1", "--no-folder").returncode == 0

    shown = cli("show", task_id)
    assert "earlier draft 1" in shown.stdout and "current draft 2" in shown.stdout
    assert "Mention the free trial." in shown.stdout

    approved = cli("approve", task_id)
    assert approved.returncode == 0 and "approved" in approved.stderr
    again = cli("approve", task_id, "--as", "bob")
    assert again.returncode == 1
    assert "already decided" in again.stderr and "nothing was changed" in again.stderr

    verified = cli("audit", "verify")
    assert verified.returncode == 0 and "every chain verifies" in verified.stdout
    exported = cli("audit", "export")
    events = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [e["type"] for e in events][-1] == "approve"
    assert events[-1]["actor"] == "tester"


def test_run_streams_waits_for_a_revision_then_an_approval(cli: Cli) -> None:
    cli.env.pop("COLUMNS")  # piped with no width given: Rich would assume 80 columns
    run = cli.start("run", "onboarding_email", "--input", "name=Ada")
    try:
        task_id = run.expect(rf"task {ID} submitted").group(1)
        run.expect("waiting for review")
        # Piped, each instruction stays whole on its line, long paths too.
        run.expect(rf"^  placet edit {task_id}$")
        run.expect(rf"^  or move \S+/pending/{task_id}\.json to approved/ or rejected/$")
        assert cli("revise", task_id, "--feedback", "Shorter, please.").returncode == 0
        run.expect("revision requested: Shorter, please.")
        run.expect("draft 2 is waiting for review")
        assert cli("approve", task_id).returncode == 0
        code, stdout = run.finish()
    finally:
        run.kill()
    assert code == 0
    task = stored_task(cli, task_id)
    assert task.status.value == "approved" and task.attempt == 2
    assert stdout.strip() and stdout.strip() == (task.final_output or "").strip()


def test_run_prints_the_rejection_and_its_reason(cli: Cli) -> None:
    run = cli.start("run", "onboarding_email", "--input", "name=Ada")
    try:
        task_id = run.expect(rf"task {ID} submitted").group(1)
        run.expect("waiting for review")
        assert cli("reject", task_id, "--reason", "Off brand.").returncode == 0
        run.expect("rejected: task .* by tester: Off brand.")
        code, stdout = run.finish()
    finally:
        run.kill()
    assert code == 3 and stdout == ""


def test_the_folder_flow_through_the_real_watcher(cli: Cli) -> None:
    run = cli.start("run", "onboarding_email", "--input", "name=Grace")
    try:
        task_id = run.expect(rf"task {ID} submitted").group(1)
        run.expect("waiting for review")
        pending = cli.folder / "human_feedback" / "pending" / f"{task_id}.json"
        document = json.loads(pending.read_text())
        document["draft"] = "Welcome aboard, Grace!"
        pending.write_text(json.dumps(document))
        approved = cli.folder / "human_feedback" / "approved" / f"{task_id}.json"
        pending.rename(approved)
        code, stdout = run.finish(timeout=30)
    finally:
        run.kill()
    assert code == 0 and stdout.strip() == "Welcome aboard, Grace!"
    assert json.loads(approved.read_text())["decision"]["kind"] == "edit"


def test_ctrl_c_keeps_the_task_and_wait_picks_it_up(cli: Cli) -> None:
    run = cli.start("run", "onboarding_email", "--input", "name=Linus")
    task_id = run.expect(rf"task {ID} submitted").group(1)
    run.expect("waiting for review")
    run.process.send_signal(signal.SIGINT)
    code, _ = run.finish()
    assert code == 130
    assert any(f"placet wait {task_id}" in line for line in run.seen)
    assert "awaiting_review" in cli("ls").stdout

    waiter = cli.start("wait", task_id)
    try:
        time.sleep(1.0)
        assert cli("approve", task_id).returncode == 0
        code, stdout = waiter.finish()
    finally:
        waiter.kill()
    assert code == 0 and stdout.strip()


def test_review_loop_one_key_per_action(cli: Cli) -> None:
    first = cli("submit", "onboarding_email", "--input", "name=A").stdout.strip()
    second = cli("submit", "onboarding_email", "--input", "name=B").stdout.strip()
    assert cli("worker", "--max-tasks", "2", "--no-folder").returncode == 0
    reviewed = cli("review", stdin="a\nx\nNot our tone.\n")
    assert reviewed.returncode == 0, reviewed.stderr
    assert "the queue is empty" in reviewed.stderr
    assert "[a]pprove  [e]dit  [r]evise  [x] reject  [s]kip  [q]uit" in reviewed.stderr
    assert "approved" in cli("show", first).stdout
    assert "Not our tone." in cli("show", second).stdout


def test_bad_input_gets_one_clear_line_and_a_non_zero_exit(cli: Cli) -> None:
    unknown = cli("submit", "onboarding", "--input", "name=A")
    assert unknown.returncode == 2  # a usage error (the README's exit codes)
    assert "known kinds: onboarding_email" in unknown.stderr
    missing = cli("submit", "onboarding_email")
    assert missing.returncode == 2 and "needs input name" in missing.stderr
    malformed = cli("submit", "onboarding_email", "--input", "name")
    assert malformed.returncode == 2 and "NAME=VALUE" in malformed.stderr
    no_task = cli("approve", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert no_task.returncode == 2 and "no task with id" in no_task.stderr
    no_app = cli("worker", "--handler-threads", "4")
    assert no_app.returncode == 2 and "give the app with --app" in no_app.stderr
    (cli.folder / "placet.toml").write_text("[kinds.a\n")
    broken = cli("ls")
    assert broken.returncode == 1 and "placet.toml" in broken.stderr and "line 1" in broken.stderr
    for result in (unknown, missing, malformed, no_task, no_app, broken):
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_a_provider_that_is_down_fails_clearly_and_keeps_the_task(cli: Cli) -> None:
    cli.env.update(
        PLACET_MODEL="openai:some-model",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        PLACET_PROVIDER_TIMEOUT="2",
    )
    result = cli("run", "onboarding_email", "--input", "name=A", timeout=120)
    assert result.returncode == 1
    assert "127.0.0.1:9" in result.stderr and "placet retry" in result.stderr
    assert "failed" in cli("ls").stdout


@pytest.mark.parametrize(
    ("model", "why"),
    [
        ("local:smolm2", "no local model named 'smolm2'"),
        ("bogus:x", "unknown model provider 'bogus'"),
        ("groq:llama-3.3-70b-versatile", "need GROQ_API_KEY"),
        ("local:/nowhere/model.gguf", "local model file not found"),
    ],
)
def test_a_model_that_cannot_be_used_is_refused_before_the_task_exists(
    cli: Cli, model: str, why: str
) -> None:
    cli.env["PLACET_MODEL"] = model
    for command in ("submit", "run"):
        result = cli(command, "onboarding_email", "--input", "name=A")
        assert result.returncode == 1, result.stderr  # a configuration to fix (README)
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: kind 'onboarding_email' cannot be drafted"), line
        assert f"model {model} (PLACET_MODEL)" in line and why in line, line
        assert "nothing was submitted" in line and result.stdout == ""
    listed = cli("ls")  # nothing left behind, not even a failed task
    assert listed.stdout == "" and "no tasks match" in listed.stderr


def test_an_input_the_template_does_not_use_is_kept_with_a_warning(cli: Cli) -> None:
    submitted = cli("submit", "onboarding_email", "--input", "name=A", "--input", "tone=warm")
    assert submitted.returncode == 0, submitted.stderr  # a warning, not a refusal
    assert submitted.stderr.strip() == (
        "warning: kind onboarding_email's template does not use input tone (it uses: name); "
        "it is kept with the task, but the model never sees it"
    )
    assert stored_task(cli, submitted.stdout.strip()).input == {"name": "A", "tone": "warm"}
    quiet = cli("submit", "onboarding_email", "--input", "name=B")
    assert quiet.returncode == 0 and quiet.stderr == ""
    mistyped = cli("submit", "onboarding_email", "--input", "nmae=C")  # refused, not warned
    assert mistyped.returncode == 2 and "needs input name" in mistyped.stderr
    assert "warning" not in mistyped.stderr


def test_init_writes_a_starter_file(tmp_path: Path) -> None:
    fresh = Cli(tmp_path)
    assert fresh("init").returncode == 0
    assert "[kinds.customer_reply]" in (tmp_path / "placet.toml").read_text()
    assert fresh("init").returncode == 2  # needs --force
    kinds = fresh("kinds")
    assert "policy_answer" in kinds.stdout and "local:smollm2" in kinds.stdout


def test_the_approved_text_is_printed_exactly_whatever_the_width(cli: Cli) -> None:
    # Long lines, piped: a terminal-width wrap would change the text a script receives.
    text = "Dear Rahul, " + "welcome aboard; " * 40 + "\n\n  Indented line kept.\nThe Team"
    cli.env.pop("COLUMNS")
    task_id = cli("submit", "onboarding_email", "--input", "name=Rahul").stdout.strip()
    assert cli("worker", "--max-tasks", "1", "--no-folder").returncode == 0
    assert cli("edit", task_id, "--text", text).returncode == 0
    waited = cli("wait", task_id)
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout == text + "\n"


def test_handlers_that_gave_up_are_listed_and_retried(cli: Cli) -> None:
    import placet
    from placet.config import Settings
    from placet.domain.models import DecisionKind, TaskKind
    from placet.engine import DecisionRequest, Engine
    from placet.handlers.runner import HandlerRunner
    from placet.sdk.client import Client
    from placet.testing import FakeProvider, person

    # A service whose handler gave up, in the folder the commands run in.
    url = f"sqlite:///{cli.folder / 'placet.db'}"
    kind = TaskKind("notice", template="{text}", max_attempts=1)
    settings = Settings(database_url=url, kinds={kind.name: kind})
    engine = Engine(open_store(url), settings, provider_for=lambda _m: FakeProvider())
    with Client(engine, requester="svc", owns_store=True) as client:

        @client.on_approved(kind.name, name="notice.post", max_attempts=1)
        def post(outcome: placet.Outcome, key: str) -> None:
            raise RuntimeError("the board is full")

        task = client.engine.propose(kind.name, {"text": "Hello"}, "svc", "Hello")
        client.engine.decide(DecisionRequest(task.id, DecisionKind.APPROVE, person("rita")))
        HandlerRunner(client.engine, client.handlers, report=lambda _: None).run_pending()

    listed = cli("handlers", "failed")
    assert listed.returncode == 0, listed.stderr
    assert task.id in listed.stdout and "notice.post" in listed.stdout
    assert "the board is full" in listed.stdout
    retried = cli("handlers", "retry", task.id)
    assert retried.returncode == 0 and "retrying notice.post" in retried.stderr
    again = cli("handlers", "retry", task.id)
    assert again.returncode == 1 and "nothing was changed" in again.stderr
    unknown = cli("handlers", "retry", "01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert unknown.returncode != 0 and "no task" in unknown.stderr
    assert "no handler delivery has failed" in cli("handlers", "failed").stderr


def test_help_shows_flags_as_flags_and_names_what_inputs_look_like(cli: Cli) -> None:
    for command in ([], ["run"], ["worker"], ["ls"]):
        shown = cli(*command, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "--help" in shown.stdout
        assert "<bool>" not in shown.stdout  # a flag takes no value
    assert "NAME=VALUE" in cli("run", "--help").stdout


def test_piped_ls_keeps_every_column_and_whole_kind_names(cli: Cli) -> None:
    cli.env.pop("COLUMNS")  # piped with no width given: Rich would fit 80 columns
    for name in ("Rahul", "Ada Lovelace, of the Analytical Engine and the notes on it"):
        assert cli("submit", "onboarding_email", "--input", f"name={name}").returncode == 0
    listed = cli("ls")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["id", "status", "kind", "draft", "age", "input"]
    assert [row.split()[2] for row in rows] == ["onboarding_email", "onboarding_email"]


def test_brackets_in_a_message_are_printed_as_they_are(cli: Cli) -> None:
    unknown = cli("submit", "[bold]onboarding[/]", "--input", "name=A")
    assert unknown.returncode == 2
    assert "error: unknown task kind '[bold]onboarding[/]'" in unknown.stderr


def test_piped_show_keeps_the_whole_draft(cli: Cli) -> None:
    cli.env.pop("COLUMNS")  # piped with no width given: a box is 80 columns wide
    task_id = cli("submit", "onboarding_email", "--input", "name=Grace").stdout.strip()
    assert cli("worker", "--max-tasks", "1", "--no-folder").returncode == 0
    draft_id = stored_task(cli, task_id).current_draft_id
    assert draft_id is not None
    store = open_store(f"sqlite:///{cli.folder / 'placet.db'}")
    try:
        draft = store.get_draft(draft_id).output
    finally:
        store.close()
    assert len(draft) > 80  # wider than the box: it must wrap, not be cut
    shown = cli("show", task_id)
    assert shown.returncode == 0, shown.stderr
    unboxed = re.sub(r"[│╭╮╰╯─]", " ", shown.stdout)
    assert " ".join(draft.split()) in " ".join(unboxed.split())


def test_audit_export_of_some_tasks(cli: Cli) -> None:
    first = cli("submit", "onboarding_email", "--input", "name=A").stdout.strip()
    second = cli("submit", "onboarding_email", "--input", "name=B").stdout.strip()
    assert cli("cancel", second).returncode == 0
    exported = cli("audit", "export", "--task", second)
    assert exported.returncode == 0, exported.stderr
    events = [json.loads(line) for line in exported.stdout.splitlines()]
    assert {event["task_id"] for event in events} == {second}
    assert [event["type"] for event in events] == ["submitted", "cancel"]
    assert exported.stderr.strip() == "exported 2 events"  # piped: no progress bar
    both = cli("audit", "export", "--task", first, "--task", second)
    assert [json.loads(line)["task_id"] for line in both.stdout.splitlines()] == [
        first,
        second,
        second,
    ]
    unknown = cli("audit", "export", "--task", "01NOPE")
    assert unknown.returncode == 2 and "no task with id 01NOPE" in unknown.stderr
    assert unknown.stdout == ""


def test_accounts_from_a_script_take_the_password_on_stdin(cli: Cli) -> None:
    wrong_role = cli("users", "add", "ana", "--role", "boss", stdin="")
    assert wrong_role.returncode == 2 and "unknown role 'boss'" in wrong_role.stderr
    no_terminal = cli("users", "add", "ana", "--role", "reviewer", stdin="")
    assert no_terminal.returncode == 2 and "use --password-stdin" in no_terminal.stderr
    add = ("users", "add", "ana", "--role", "reviewer", "--password-stdin")
    added = cli(*add, stdin="s3cret-pass\n")
    assert added.returncode == 0 and "added ana (reviewer)" in added.stderr
    changed = cli("users", "passwd", "ana", "--password-stdin", stdin="new-s3cret-pass\n")
    assert changed.returncode == 0, changed.stderr
    empty = cli("users", "passwd", "ana", "--password-stdin", stdin="\n")
    assert empty.returncode == 2 and "read no password" in empty.stderr

    store = open_store(f"sqlite:///{cli.folder / 'placet.db'}")
    try:
        accounts = Accounts(store.accounts())
        assert accounts.authenticate("ana", "new-s3cret-pass") is not None
        assert accounts.authenticate("ana", "s3cret-pass") is None
    finally:
        store.close()


def test_a_worker_names_the_kinds_it_cannot_draft_as_it_starts(cli: Cli) -> None:
    working = cli.env["PLACET_MODEL"]
    cli.env["PLACET_MODEL"] = "local:/nowhere/model.gguf"
    started = cli("worker", "--max-tasks", "0", "--no-folder")
    assert started.returncode == 0, started.stderr
    warnings = [line for line in started.stderr.splitlines() if line.startswith("warning:")]
    assert warnings and all("model file not found: /nowhere/model.gguf" in w for w in warnings)
    assert "warning: kind onboarding_email cannot be drafted" in started.stderr
    cli.env["PLACET_MODEL"] = working
    assert "warning:" not in cli("worker", "--max-tasks", "0", "--no-folder").stderr


def test_a_task_is_named_by_a_start_or_end_of_its_id_only_it_has(cli: Cli) -> None:
    first = cli("submit", "onboarding_email", "--input", "name=A").stdout.strip()
    second = cli("submit", "onboarding_email", "--input", "name=B").stdout.strip()
    start = next(n for n in range(1, 27) if first[:n] != second[:n])
    shown = cli("show", first[:start].lower())
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(first)
    tail = "…" + second[-10:]  # as the dashboard shows it
    cancelled = cli("cancel", tail)
    assert cancelled.returncode == 0 and f"cancelled {second}" in cancelled.stderr
    exported = cli("audit", "export", "--task", second[-6:])
    assert {json.loads(line)["task_id"] for line in exported.stdout.splitlines()} == {second}

    shared = first[: start - 1] + "…"
    ambiguous = cli("approve", shared)
    assert ambiguous.returncode == 2  # as for an unknown id: the command needs fixing
    assert f"is the start of more than one task id: {first} (onboarding_email, queued)" in (
        ambiguous.stderr
    )
    assert f"{second} (onboarding_email, cancelled)" in ambiguous.stderr
    assert len(ambiguous.stderr.strip().splitlines()) == 1
    unknown = cli("wait", "01ZZZZ…")
    assert unknown.returncode == 2
    assert "no task with id 01ZZZZ, nor one whose id starts with it" in unknown.stderr
