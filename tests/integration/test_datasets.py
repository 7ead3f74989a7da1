"""placet export, end to end: a store of reviewed work made through the engine, exported by
the real command line (a subprocess), loaded by the consumers' own loader (Hugging Face
``datasets``) and validated against the schemas of OpenAI's formats (docs/datasets/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from placet.cli.datasets import write_atomically
from placet.config import load_settings
from placet.domain.models import DecisionKind
from placet.engine import DecisionRequest, Engine
from placet.store.sql import SqlStore
from placet.testing import FakeProvider, person
from tests.conftest import Clock

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "datasets"
CONFIG = """\
[kinds.reply]
system = "You answer the customers of Example Shop."
template = "Reply to {customer}: {message}"
max_attempts = 3
"""
CARD = "4111 1111 1111 1111"  # a test Visa number: passes the Luhn check
EMAIL = "maya@example.org"
DAY = 86_400.0
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z: the first task is approved then
SINCE = "2027-01-16"  # every other decision is made two days later
EXPORTS = {  # file name: the command's arguments
    "sft.jsonl": ("sft",),
    "sft-trl.jsonl": ("sft", "--format", "trl"),
    "preferences.jsonl": ("preferences",),
    "preferences-trl.jsonl": ("preferences", "--format", "trl"),
    "feedback.jsonl": ("feedback",),
}


@dataclass
class World:
    """A working folder with placet.toml, and the database the reviewed work is in."""

    folder: Path
    url: str
    done: dict[tuple[str, ...], tuple[bytes, str]] = field(default_factory=dict)

    def export(
        self, *args: str, out: str | None = None, kind: str = "reply"
    ) -> subprocess.CompletedProcess[str]:
        """Run ``placet export ARGS --kind KIND --out OUT`` as a user would."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLACET_", "GROQ_"))}
        env["PLACET_DATABASE_URL"] = self.url
        kind_and_out = ["--kind", kind] + (["--out", out] if out is not None else [])
        return subprocess.run(
            [sys.executable, "-m", "placet", "export", *args, *kind_and_out],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def exported(self, name: str, *args: str) -> tuple[bytes, str]:
        """Export into ``name`` (once: the store does not change); its bytes and stderr."""
        key = (name, *args)
        if key not in self.done:
            done = self.export(*args, out=name)
            assert done.returncode == 0, done.stderr
            self.done[key] = (self.folder / name).read_bytes(), done.stderr
        return self.done[key]


def build(folder: Path, url: str) -> World:
    """Approved, edited, revised-then-approved, rejected and waiting tasks of one kind."""
    (folder / "placet.toml").write_text(CONFIG)
    clock = Clock(START)
    fake = FakeProvider()
    settings = replace(load_settings(folder), database_url=url)
    engine = Engine(SqlStore(url), settings, provider_for=lambda _model: fake, clock=clock)
    try:
        _review(engine, clock)
    finally:
        engine.close(store_too=True)
    return World(folder, url)


def _review(engine: Engine, clock: Clock) -> None:
    approved = drafted(engine, "Ana", "Where is my parcel?")
    decide(engine, approved, DecisionKind.APPROVE)  # the only decision before SINCE
    clock.now += 2 * DAY
    secret = drafted(engine, "Maya", f"My card {CARD} was charged twice. Mail {EMAIL}")
    decide(engine, secret, DecisionKind.EDIT, text=f"Hi Maya, refunded. We wrote to {EMAIL}.")
    for customer in ("Ravi", "Ravi"):  # the second gives the same rows: duplicates
        revised = drafted(engine, customer, "Can I return shoes?")
        decide(engine, revised, DecisionKind.REVISE, feedback="Mention the 30 days.")
        redraft(engine, revised)
        decide(engine, revised, DecisionKind.APPROVE)
    rejected = drafted(engine, "Lena", "Cancel my order.")
    decide(engine, rejected, DecisionKind.REVISE, feedback="Say it is cancelled.")
    redraft(engine, rejected)
    decide(engine, rejected, DecisionKind.REJECT, reason="Sent by hand already.")
    edited = drafted(engine, "Omar", "Do you ship abroad?")
    decide(engine, edited, DecisionKind.REVISE, feedback="Name the countries.")
    redraft(engine, edited)
    decide(engine, edited, DecisionKind.EDIT, text="We ship to France and Spain.")
    drafted(engine, "Kim", "Still waiting.")  # awaits review: no decision yet
    written = engine.propose("reply", {"customer": "Jo", "message": "Hi"}, "sam", "Hi Jo.").id
    decide(engine, written, DecisionKind.EDIT, text="Hello Jo.")  # the caller's draft: no prompt


def drafted(engine: Engine, customer: str, message: str) -> str:
    task = engine.submit("reply", {"customer": customer, "message": message}, "sam", claim_as="w")
    return engine.draft(task, "w").id


def redraft(engine: Engine, task_id: str) -> None:
    task = engine.claim("w", task_id)
    assert task is not None
    engine.draft(task, "w")


def decide(engine: Engine, task_id: str, kind: DecisionKind, **fields: str) -> None:
    engine.decide(DecisionRequest(task_id, kind, person("ana"), **fields))


@pytest.fixture
def world(url: str, tmp_path: Path) -> World:
    return build(tmp_path, url)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("datasets")
    return build(folder, f"sqlite:///{folder / 'placet.db'}")


def lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def schema(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / name).read_text()))


# -- what each export holds, twice the same -------------------------------------------


def test_each_export_is_the_same_bytes_again_and_says_what_each_filter_dropped(
    world: World,
) -> None:
    said: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name, args in EXPORTS.items():
        files[name], said[name] = world.exported(name, *args)
        again, _ = world.exported(f"again-{name}", *args)
        assert again == files[name], name
    assert said["sft.jsonl"].count("wrote 4 rows;") == 1
    for drop in ("2 tasks not approved", "1 draft without a prompt", "1 duplicate row"):
        assert drop in said["sft.jsonl"] and drop in said["preferences.jsonl"]
    assert "0 tasks approved before --since" in said["sft.jsonl"]
    assert "wrote 4 rows;" in said["preferences.jsonl"]
    assert "1 task approved as first drafted (nothing to pair)" in said["preferences.jsonl"]
    assert "wrote 11 rows;" in said["feedback.jsonl"]
    assert "1 task with no decision yet" in said["feedback.jsonl"]
    counts = {name: len(lines(data)) for name, data in files.items()}
    assert counts == {name: 11 if name == "feedback.jsonl" else 4 for name in EXPORTS}
    assert all(data.endswith(b"\n") for data in files.values())


def test_sft_rows_hold_the_prompt_the_approved_draft_was_made_with_and_the_approved_text(
    sqlite_world: World,
) -> None:
    data, _ = sqlite_world.exported("sft.jsonl", "sft")
    rows = lines(data)
    validator = schema("openai-chat.schema.json")
    for row in rows:
        validator.validate(row)
        assert row["messages"][0]["role"] == "system"
        assert row["messages"][-1]["role"] == "assistant"
        assert row["messages"][-1]["weight"] == 1
    finals = [row["messages"][-1]["content"] for row in rows]
    assert finals[1] == f"Hi Maya, refunded. We wrote to {EMAIL}."  # edited: as edited
    assert finals[3] == "We ship to France and Spain."
    revised = rows[2]["messages"]  # the revision's prompt: the first draft, weighted 0
    assert [m["role"] for m in revised] == ["system", "user", "assistant", "user", "assistant"]
    assert revised[2]["weight"] == 0
    assert "Mention the 30 days." in revised[3]["content"]


def test_preference_rows_pair_each_draft_sent_back_with_the_approved_text(
    sqlite_world: World,
) -> None:
    data, _ = sqlite_world.exported("preferences.jsonl", "preferences")
    rows = lines(data)
    validator = schema("openai-preference.schema.json")
    for row in rows:
        validator.validate(row)
        assert row["input"]["messages"][-1]["role"] == "user"
    chosen = [row["preferred_output"][0]["content"] for row in rows]
    assert chosen[2:] == ["We ship to France and Spain."] * 2  # a revision and an edit
    rejected = [row["non_preferred_output"][0]["content"] for row in rows]
    assert all(worse != better for worse, better in zip(rejected, chosen, strict=True))


def test_every_file_loads_with_hugging_face_datasets_in_the_columns_trl_reads(
    sqlite_world: World, tmp_path: Path
) -> None:
    datasets = pytest.importorskip("datasets")
    columns = {
        "sft.jsonl": ["messages"],
        "sft-trl.jsonl": ["completion", "prompt"],
        "preferences.jsonl": ["input", "non_preferred_output", "preferred_output"],
        "preferences-trl.jsonl": ["chosen", "prompt", "rejected"],
        "feedback.jsonl": sorted(schema("feedback.schema.json").schema["required"]),
    }
    for name, args in EXPORTS.items():
        data, _ = sqlite_world.exported(name, *args)
        loaded = datasets.load_dataset(
            "json",
            data_files=str(sqlite_world.folder / name),
            split="train",
            cache_dir=str(tmp_path / "cache"),
        )
        assert sorted(loaded.column_names) == columns[name], name
        assert loaded.num_rows == len(lines(data)), name
        if name.endswith("-trl.jsonl") or name == "sft.jsonl":
            for example in loaded:
                assert_trl_conversational(example)
    for row in lines(sqlite_world.exported("feedback.jsonl", "feedback")[0]):
        schema("feedback.schema.json").validate(row)


def assert_trl_conversational(example: dict[str, Any]) -> None:
    """What TRL's trainers read in a conversational example (trl.data_utils): lists of
    {role, content} messages; a prompt that ends with the user's turn; one assistant turn
    to learn (completion, chosen, rejected); a ``messages`` row that ends with it."""
    for column, messages in example.items():
        assert isinstance(messages, list) and messages, column
        assert all({"role", "content"} <= set(m) for m in messages), column
    if "messages" in example:
        assert example["messages"][-1]["role"] == "assistant"
        return
    assert example["prompt"][-1]["role"] == "user"
    for column in ("completion", "chosen", "rejected"):
        if column in example:
            assert [m["role"] for m in example[column]] == ["assistant"]


# -- the filters and options ----------------------------------------------------------


def test_redact_masks_what_the_scanners_find_in_every_export(sqlite_world: World) -> None:
    for name, args in EXPORTS.items():
        plain, _ = sqlite_world.exported(name, *args)
        masked, said = sqlite_world.exported(f"redacted-{name}", *args, "--redact")
        assert CARD.encode() in plain and EMAIL.encode() in plain, name
        assert CARD.encode() not in masked and EMAIL.encode() not in masked, name
        assert b"[email]" in masked, name
        assert "redacted" in said
        assert len(lines(masked)) == len(lines(plain)), name
    feedback = lines(sqlite_world.exported("redacted-feedback.jsonl", "feedback", "--redact")[0])
    assert "[card]" in feedback[1]["input"]["message"]
    assert (
        feedback[1]["task_id"]
        == lines(sqlite_world.exported("f.jsonl", "feedback")[0])[1]["task_id"]
    )


def test_since_keeps_work_approved_or_decided_from_then_on(sqlite_world: World) -> None:
    sft, said = sqlite_world.exported("sft-since.jsonl", "sft", "--since", SINCE)
    assert len(lines(sft)) == 3 and "1 task approved before --since" in said
    feedback, said = sqlite_world.exported(
        "fb-since.jsonl", "feedback", "--since", SINCE + "T00:00Z"
    )
    assert len(lines(feedback)) == 10 and "1 decision made before --since" in said


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("sft", "--since", "last week"), "--since takes a date (2025-03-01)"),
        (("feedback", "--format", "trl"), "--format is for sft and preferences"),
        (("dpo",), "Invalid value"),
    ],
)
def test_a_bad_option_is_a_usage_error_and_writes_nothing(
    sqlite_world: World, args: tuple[str, ...], said: str
) -> None:
    done = sqlite_world.export(*args, out="bad.jsonl")
    assert done.returncode == 2, done.stderr
    assert said in " ".join(done.stderr.split())
    assert not (sqlite_world.folder / "bad.jsonl").exists()


def test_an_unknown_kind_is_named_with_the_known_ones(sqlite_world: World) -> None:
    done = sqlite_world.export("sft", out="x.jsonl", kind="replies")
    assert done.returncode == 2
    assert "unknown task kind 'replies'; known kinds: reply" in done.stderr
    assert not (sqlite_world.folder / "x.jsonl").exists()


def test_out_dash_writes_the_same_bytes_to_stdout(sqlite_world: World) -> None:
    data, _ = sqlite_world.exported("feedback.jsonl", "feedback")
    done = sqlite_world.export("feedback", out="-")
    assert done.returncode == 0 and done.stdout.encode("utf-8") == data
    assert "to stdout" in done.stderr


def test_an_interrupted_export_leaves_the_old_file_and_no_half_file(tmp_path: Path) -> None:
    target = tmp_path / "sft.jsonl"
    target.write_text("the last export\n")
    with pytest.raises(KeyboardInterrupt), write_atomically(target) as handle:
        handle.write('{"messages": []}\n')
        raise KeyboardInterrupt
    assert target.read_text() == "the last export\n"
    assert [path.name for path in tmp_path.iterdir()] == ["sft.jsonl"]
    with write_atomically(target) as handle:
        handle.write("new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture(autouse=True)
def _no_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The loader reads local files only (never the network) and caches in a scratch folder."""
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    yield
