"""A bad configuration is one line on stderr and exit code 1, never a traceback.

Each case runs the real ``placet`` command as a subprocess in a scratch folder,
with a ``placet.toml``, a ``.env`` or ``PLACET_*`` variables that are wrong.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

EXIT_ERROR = 1  # README.md, "Exit codes": 1 an error, 2 a usage error (of the command line)
KIND = '[kinds.note]\ntemplate = "Write about {topic}."\n'


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Assert the command failed with exit 1 and one error line naming each fragment."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert result.returncode == EXIT_ERROR, result.stderr
    return lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli(tmp_path)
    runner.env.pop("PLACET_MODEL")  # it would win over a bad model = in the file
    return runner


def test_a_good_file_still_works(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(KIND + "max_attempts = 1000\ntemperature = 2\n")
    result = cli("kinds")
    assert result.returncode == 0, result.stderr
    assert "attempts: 1000" in result.stdout


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_attempts", "99999999999999999999"),
        ("max_attempts", "0"),
        ("max_attempts", "true"),
        ("max_attempts", "2.5"),
        ("max_tokens", "99999999999999999999"),
        ("max_tokens", "-5"),
        ("temperature", "7.5"),
        ("temperature", "-0.1"),
        ("temperature", "nan"),
        ("temperature", "inf"),
        ("temperature", '"warm"'),
    ],
)
def test_a_kinds_number_out_of_range(cli: Cli, setting: str, value: str) -> None:
    (cli.folder / "placet.toml").write_text(f"{KIND}{setting} = {value}\n")
    line = one_line_error(cli("kinds"), "placet.toml", "[kinds.note]", setting)
    assert " from " in line  # says what the setting may be


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("lease_seconds", "99999999999999999999"),
        ("lease_seconds", "-1"),
        ("lease_seconds", '"soon"'),
        ("lease_seconds", "1e999"),
        ("max_input_bytes", "99999999999999999999"),
        ("max_input_bytes", "-1"),
        ("max_input_bytes", '"lots"'),
        ("review_dir", '""'),
        ("review_dir", "42"),
        ("model", "5"),
        ("review_as", '["ana"]'),
    ],
)
def test_a_global_setting_out_of_range(cli: Cli, setting: str, value: str) -> None:
    (cli.folder / "placet.toml").write_text(f"[placet]\n{setting} = {value}\n{KIND}")
    one_line_error(cli("ls"), "placet.toml", "[placet]", setting)


def test_a_file_that_is_not_utf8(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_bytes(
        b'[kinds.note]\ntemplate = "Write about {topic}."\ndescription = "caf\xe9"\n'
    )
    one_line_error(cli("kinds"), "placet.toml", "not UTF-8", "line 3")


def test_a_dotenv_that_is_not_utf8(cli: Cli) -> None:
    (cli.folder / ".env").write_bytes(b"PLACET_REVIEW_AS=Jos\xe9\n")
    one_line_error(cli("kinds"), ".env", "not UTF-8")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PLACET_MAX_INPUT_BYTES", "abc"),
        ("PLACET_MAX_INPUT_BYTES", "99999999999999999999"),
        ("PLACET_MAX_INPUT_BYTES", "0"),
        ("PLACET_MAX_INPUT_BYTES", "9" * 5000),  # past int()'s digit limit
        ("PLACET_PROVIDER_TIMEOUT", "abc"),
        ("PLACET_PROVIDER_TIMEOUT", "-1"),
        ("PLACET_PROVIDER_TIMEOUT", "nan"),
        ("PLACET_REVIEW_DIR", " "),
    ],
)
def test_a_bad_environment_value(cli: Cli, variable: str, value: str) -> None:
    (cli.folder / "placet.toml").write_text(KIND)
    cli.env[variable] = value
    line = one_line_error(cli("ls"), variable)
    assert len(line) < 300  # a huge value is cut short, not echoed whole


def test_an_environment_value_wins_and_is_named_over_a_good_file(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(f"[placet]\nmax_input_bytes = 1000\n{KIND}")
    cli.env["PLACET_MAX_INPUT_BYTES"] = "-3"
    line = one_line_error(cli("ls"), "PLACET_MAX_INPUT_BYTES")
    assert "placet.toml" not in line


def test_a_review_dir_that_is_a_file(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(f'[placet]\nreview_dir = "notes.txt"\n{KIND}')
    (cli.folder / "notes.txt").write_bytes(b"my notes\n")
    line = one_line_error(cli("watch", timeout=60), "notes.txt", "review_dir", "placet.toml")
    assert "is a file" in line
    assert (cli.folder / "notes.txt").read_bytes() == b"my notes\n"


def test_a_review_dir_that_cannot_be_created(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(KIND)
    (cli.folder / "notes.txt").write_bytes(b"my notes\n")
    cli.env["PLACET_REVIEW_DIR"] = "notes.txt/reviews"
    line = one_line_error(cli("watch", timeout=60), "PLACET_REVIEW_DIR", "notes.txt/reviews")
    assert "cannot be created" in line


def test_a_linked_folder_is_refused_in_one_line_and_the_process_keeps_running(
    cli: Cli, tmp_path: Path
) -> None:
    (cli.folder / "placet.toml").write_text(KIND)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "keep.json").write_bytes(b"{}\n")
    (cli.folder / "human_feedback").mkdir()
    os.symlink(outside, cli.folder / "human_feedback" / "approved")
    watch = cli.start("watch")
    try:
        watch.expect(r"^warning: .*approved is a symbolic link.*not use the review folder")
        watch.expect(r"watching human_feedback")  # still running
        watch.process.send_signal(signal.SIGTERM)
        code, _ = watch.finish()
    finally:
        watch.kill()
    assert code == 0
    assert not any("Traceback" in line for line in watch.seen)
    assert sorted(os.listdir(outside)) == ["keep.json"]
    assert (outside / "keep.json").read_bytes() == b"{}\n"


def test_a_template_with_an_unclosed_brace_stops_a_submit_naming_the_kind(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text('[kinds.note]\ntemplate = "Hi {name"\n')
    submitted = cli("submit", "note", "--input", "name=Ada")
    line = one_line_error(submitted, "placet.toml", "[kinds.note]", "template", "never closed")
    assert "'{name'" in line and "{{ for a literal brace" in line
    (cli.folder / "placet.toml").write_text('[kinds.note]\ntemplate = "Hi {name}"\n')
    assert cli("submit", "note", "--input", "name=Ada").returncode == 0  # fixed, it works


def test_config_check_says_a_good_configuration_is_fine(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(KIND)
    checked = cli("config", "check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""
    assert checked.stdout.strip() == (
        f"the configuration is fine: {cli.folder / 'placet.toml'}; kinds: note (local:smollm2)"
    )
    assert not (cli.folder / "placet.db").exists()  # the database is not opened


def test_config_check_names_every_problem_with_its_kind_and_setting(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(
        "[placet]\nlease_seconds = -1\n"
        '[kinds.note]\ntemplate = "Hi {name"\n'
        '[kinds.reply]\ntemplate = "Reply to {customer}."\nmodel = "local:smolm2"\n'
        '[kinds.summary]\ntemplate = "Sum up {text}."\nmax_tokens = 0\n'
    )
    cli.env["PLACET_MODEL"] = "groq:llama-3.3-70b-versatile"  # and no GROQ_API_KEY
    checked = cli("config", "check")
    assert checked.returncode == EXIT_ERROR  # a configuration to fix (README, exit codes)
    assert "Traceback" not in checked.stderr and checked.stdout == ""
    lines = checked.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), checked.stderr
    said = dict(zip(["lease", "note", "tokens", "reply", "groq", "count"], lines, strict=True))
    assert "[placet]: lease_seconds must be a number from 1 to 86400" in said["lease"]
    assert "[kinds.note]: template: the '{' at character 4 is never closed" in said["note"]
    assert "kind 'reply' cannot be drafted with model local:smolm2 (model in" in said["reply"]
    assert "[kinds.reply])" in said["reply"] and "no local model named" in said["reply"]
    assert "[kinds.summary]: max_tokens must be" in said["tokens"]
    assert "kind 'summary' cannot be drafted with model groq:" in said["groq"]
    assert "(PLACET_MODEL): groq: models need GROQ_API_KEY" in said["groq"]
    assert said["count"] == "error: 5 problems: fix them, then run placet config check again"


def test_config_check_names_a_bad_example_stop_and_revise_from(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(
        '[kinds.note]\ntemplate = "Write about {topic}."\nstop = "END"\nrevise_from = "diff"\n'
        '[[kinds.note.examples]]\ninput = { subject = "tides" }\noutput = "The sea."\n'
    )
    checked = cli("config", "check")
    assert checked.returncode == EXIT_ERROR, checked.stderr
    lines = checked.stderr.strip().splitlines()
    said = dict(zip(["stop", "revise_from", "example", "count"], lines, strict=True))
    assert "placet.toml [kinds.note]: stop must be a list of at most 4 texts" in said["stop"]
    assert '[kinds.note]: revise_from must be "draft"' in said["revise_from"]
    assert "[kinds.note]: example 1: input lacks topic" in said["example"]
    assert said["count"] == "error: 3 problems: fix them, then run placet config check again"


def test_config_check_names_a_supervisor_whose_model_cannot_be_used(cli: Cli) -> None:
    (cli.folder / "placet.toml").write_text(
        '[kinds.reply]\ntemplate = "Reply to {customer}."\nmodel = "local:smollm2"\n'
        '[kinds.reply.supervisor]\nchecks = ["Never promise a refund"]\nauto_revise = 1\n'
        'model = "groq:llama-3.3-70b-versatile"\n'
    )
    checked = cli("config", "check")
    assert checked.returncode == EXIT_ERROR, checked.stderr
    problem, count = checked.stderr.strip().splitlines()
    assert "[kinds.reply.supervisor] model groq:llama-3.3-70b-versatile: " in problem
    assert "GROQ_API_KEY" in problem and "recorded as unavailable" in problem
    assert count == "error: 1 problem: fix them, then run placet config check again"
