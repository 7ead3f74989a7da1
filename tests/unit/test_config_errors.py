"""Every bad setting is a ``ConfigError`` naming where it was read, never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.config import check_settings, load_settings
from placet.errors import ConfigError
from placet.providers.local import local_threads

VARIABLES = (
    "PLACET_CONFIG",
    "PLACET_MODEL",
    "PLACET_DATABASE_URL",
    "PLACET_REVIEW_DIR",
    "PLACET_REVIEW_AS",
    "PLACET_MAX_INPUT_BYTES",
    "PLACET_PROVIDER_TIMEOUT",
    "PLACET_LOCAL_THREADS",
    "GROQ_API_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_numbers_within_their_ranges_are_read(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(
        "[placet]\nlease_seconds = 30\nmax_input_bytes = 2048\n"
        '[kinds.a]\ntemplate = "x"\nmax_attempts = 5\nmax_tokens = 64\ntemperature = 0\n'
        "revision_candidates = 3\n"
    )
    settings = load_settings(tmp_path)
    assert settings.lease_seconds == 30 and settings.max_input_bytes == 2048
    kind = settings.kinds["a"]
    assert (kind.max_attempts, kind.max_tokens, kind.temperature) == (5, 64, 0)
    assert kind.revision_candidates == 3


def test_where_each_setting_came_from_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "placet.toml").write_text('[placet]\nreview_dir = "reviews"\n')
    settings = load_settings(tmp_path)
    assert settings.source_of("review_dir") == f"review_dir in {tmp_path / 'placet.toml'} [placet]"
    monkeypatch.setenv("PLACET_REVIEW_DIR", "elsewhere")
    assert load_settings(tmp_path).source_of("review_dir") == "PLACET_REVIEW_DIR"
    assert load_settings(tmp_path / "none").source_of("lease_seconds") == "lease_seconds"


@pytest.mark.parametrize(
    "text",
    [
        "max_attempts = 99999999999999999999",
        "max_attempts = -1",
        "max_tokens = 1_000_001",
        "temperature = 2.5",
        "temperature = -inf",
        "revision_candidates = 0",
        "revision_candidates = 9",
        "revision_candidates = 2.5",
        "draft_candidates = 0",
        "draft_candidates = 9",
    ],
)
def test_a_kinds_bad_number_names_the_file_kind_and_setting(tmp_path: Path, text: str) -> None:
    (tmp_path / "placet.toml").write_text(f'[kinds.a]\ntemplate = "x"\n{text}\n')
    setting = text.split(" = ")[0]
    with pytest.raises(ConfigError, match=rf"placet\.toml \[kinds\.a\]: {setting} must be"):
        load_settings(tmp_path)


def test_a_huge_environment_value_is_cut_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACET_MAX_INPUT_BYTES", "9" * 10_000)
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert raised.value.message.startswith("PLACET_MAX_INPUT_BYTES must be a whole number")
    assert len(raised.value.message) < 200


@pytest.mark.parametrize("value", ["abc", "-2", "99999999999999999999", "4.5"])
def test_local_threads_must_be_a_small_whole_number(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PLACET_LOCAL_THREADS", value)
    with pytest.raises(ConfigError, match="PLACET_LOCAL_THREADS must be a whole number"):
        local_threads()


def test_local_threads_default_to_every_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_threads() >= 1
    monkeypatch.setenv("PLACET_LOCAL_THREADS", "3")
    assert local_threads() == 3


def test_a_template_with_a_stray_brace_names_the_kind_and_the_setting(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text('[kinds.note]\ntemplate = "Hi {name"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert raised.value.message == (
        f"{tmp_path / 'placet.toml'} [kinds.note]: template: the '{{' at character 4 is never "
        "closed ('{name'): write {name} for an input, {{ for a literal brace"
    )


def test_check_settings_names_every_problem_and_keeps_what_it_could_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "placet.toml").write_text(
        "[placet]\nlease_seconds = -1\ncolour = 1\n"
        '[kinds.note]\ntemplate = "Hi {name"\nmax_attempts = 0\nreviewers = "ana"\n'
        '[kinds.good]\ntemplate = "About {topic}."\nmax_tokens = 64\n'
        "[kinds.table]\n"
    )
    monkeypatch.setenv("PLACET_PROVIDER_TIMEOUT", "never")
    settings, problems = check_settings(tmp_path)
    where = f"{tmp_path / 'placet.toml'}"
    assert problems == [
        f"{where} [placet]: unknown setting colour (allowed: base_url, concurrency, context, "
        "database, gpu_layers, lease_seconds, max_input_bytes, model, notify, review_as, "
        "review_dir)",
        f"{where} [placet]: lease_seconds must be a number from 1 to 86400, not -1",
        f"{where} [kinds.note]: template: the '{{' at character 4 is never closed ('{{name'): "
        "write {name} for an input, {{ for a literal brace",
        f"{where} [kinds.note]: max_attempts must be a whole number from 1 to 1000, not 0",
        f"{where} [kinds.note] reviewers must be a list of user names",
        f"{where} [kinds.table]: 'template' is required and must be text",
        "PLACET_PROVIDER_TIMEOUT must be a number from 0.1 to 3600, not 'never'",
    ]
    assert list(settings.kinds) == ["good"] and settings.kinds["good"].max_tokens == 64
    assert settings.lease_seconds == 60.0  # the default stands in for the bad value
    with pytest.raises(ConfigError, match="unknown setting colour"):
        load_settings(tmp_path)  # loading stops at the first


def test_check_settings_of_a_good_folder_finds_nothing(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text('[kinds.note]\ntemplate = "About {topic}."\n')
    settings, problems = check_settings(tmp_path)
    assert problems == [] and settings == load_settings(tmp_path)


TAUGHT = """[kinds.note]
template = "Write about {topic} for {reader}."
stop = ["\\n\\n\\n", "Topic:"]
revise_from = "request"

[[kinds.note.examples]]
input = { topic = "tides", reader = "children" }
output = "The sea rises and falls twice a day."
"""


def test_examples_stop_and_revise_from_are_read(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(TAUGHT)
    kind = load_settings(tmp_path).kinds["note"]
    assert kind.stop == ("\n\n\n", "Topic:")
    assert kind.revise_from == "request"
    assert [(e.input, e.output) for e in kind.examples] == [
        ({"topic": "tides", "reader": "children"}, "The sea rises and falls twice a day.")
    ]


def test_a_kind_without_them_has_no_examples_no_stop_and_revises_its_draft(
    tmp_path: Path,
) -> None:
    (tmp_path / "placet.toml").write_text('[kinds.note]\ntemplate = "About {topic}."\n')
    kind = load_settings(tmp_path).kinds["note"]
    assert (kind.examples, kind.stop, kind.revise_from) == ((), (), "draft")


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        (
            'stop = "\\n"',
            'stop must be a list of at most 4 texts, none empty (stop = ["\\n\\n\\n"])',
        ),
        ('stop = ["a", ""]', "stop must be a list of at most 4 texts, none empty"),
        ('stop = ["a", 1]', "stop must be a list of at most 4 texts"),
        ('stop = ["a", "b", "c", "d", "e"]', "stop must be a list of at most 4 texts"),
        ('revise_from = "both"', 'revise_from must be "draft" (the previous draft and the'),
        ("revise_from = 1", 'or "request" (the request again, with the feedback), not 1'),
        ('examples = "one"', "examples must be a list of tables ([[kinds.NAME.examples]])"),
        ("examples = [1]", "example 1 must be a table with input and output, not 1"),
        (
            '[[kinds.note.examples]]\noutput = "x"',
            "example 1: input must be a table of the template's inputs "
            '(input = { name = "..." }), and is missing',
        ),
        (
            '[[kinds.note.examples]]\ninput = "tides"\noutput = "x"',
            "example 1: input must be a table of the template's inputs "
            "(input = { name = \"...\" }), not 'tides'",
        ),
        (
            '[[kinds.note.examples]]\ninput = { topic = "x", reader = "y" }\noutput = "x"\n'
            '[[kinds.note.examples]]\ninput = { topic = "tides" }\noutput = "x"',
            "example 2: input lacks reader, which the template uses",
        ),
        (
            '[[kinds.note.examples]]\ninput = { topic = "x", reader = "y" }\noutput = "  "',
            "example 1: output must be the answer the example shows, as text",
        ),
        (
            '[[kinds.note.examples]]\ninput = { topic = "x", reader = "y" }\noutput = "x"\n'
            "ouput = 1",
            "example 1: unknown setting ouput (allowed: input, output)",
        ),
    ],
)
def test_a_bad_example_stop_or_revise_from_names_the_kind_and_the_setting(
    tmp_path: Path, setting: str, said: str
) -> None:
    message = note_refused(tmp_path, 'template = "Write about {topic} for {reader}."\n' + setting)
    assert said in message, message


def test_check_settings_names_a_bad_example_and_a_bad_stop_together(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(
        '[kinds.note]\ntemplate = "About {topic}."\nstop = [""]\nrevise_from = "draft"\n'
        '[[kinds.note.examples]]\ninput = {}\noutput = "x"\n'
    )
    _, problems = check_settings(tmp_path)
    where = f"{tmp_path / 'placet.toml'} [kinds.note]"
    assert problems == [
        f'{where}: stop must be a list of at most 4 texts, none empty (stop = ["\\n\\n\\n"]), '
        "not ['']",
        f"{where}: example 1: input lacks topic, which the template uses",
    ]


def test_an_opening_and_quote_from_are_read_with_the_kind(tmp_path: Path) -> None:
    (tmp_path / "placet.toml").write_text(
        '[kinds.note]\ntemplate = "Write to {reader}."\nopening = "Dear {reader},"\n'
        'quote_from = "reader"\n'
    )
    kind = load_settings(tmp_path).kinds["note"]
    assert kind.opening == "Dear {reader}," and kind.quote_from == "reader"


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("opening = 3", "opening must be text, not 3"),
        ('opening = "Dear {reader"', "opening: the '{' at character 6 is never closed"),
        (
            'opening = "Dear {name},"',
            "opening uses name, which the template does not: an opening may use only "
            "the template's inputs",
        ),
        (
            'opening = "{{"\nchoices = ["yes", "no"]',
            "opening cannot be set on a kind with choices or an output_schema",
        ),
        (
            'quote_from = "policy"',
            "quote_from must name one of the template's inputs (reader), not 'policy'",
        ),
        ("quote_from = 2", "quote_from must name one of the template's inputs (reader), not 2"),
        (
            'quote_from = "reader"\noutput_schema = { type = "object" }',
            "quote_from cannot be set on a kind with choices or an output_schema",
        ),
    ],
)
def test_a_bad_opening_names_the_kind_and_the_setting(
    tmp_path: Path, setting: str, said: str
) -> None:
    message = note_refused(tmp_path, 'template = "Write to {reader}."\n' + setting)
    assert said in message, message


def note_refused(tmp_path: Path, settings: str) -> str:
    """The error a [kinds.note] table with these settings gets, which names the file and kind."""
    (tmp_path / "placet.toml").write_text("[kinds.note]\n" + settings + "\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert raised.value.message.startswith(f"{tmp_path / 'placet.toml'} [kinds.note]: ")
    return raised.value.message
