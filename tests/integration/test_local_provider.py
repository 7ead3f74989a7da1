"""The local provider with the real SmolLM2 model, run in this process."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind
from placet.engine import DecisionRequest, Engine
from placet.errors import ConfigError
from placet.providers.base import CompletionRequest
from placet.providers.local import (
    ALLOW_AMX_ENV,
    REPEAT_PENALTY_ENV,
    LocalProvider,
    model_path,
    refuse_amx_build,
    smollm2_path,
)
from placet.testing import person, temp_store

REQUEST = CompletionRequest(
    messages=[
        {"role": "system", "content": "You write short, friendly emails."},
        {"role": "user", "content": "Write one sentence welcoming Rahul to the team."},
    ],
    max_tokens=16,
    temperature=0.0,
)


def test_smollm2_ships_as_a_gguf_file() -> None:
    path = smollm2_path()
    assert path.is_file()
    assert path.read_bytes()[:4] == b"GGUF"
    assert model_path("smollm2") == path


def test_name_says_local_and_the_model() -> None:
    assert LocalProvider().name == "local:smollm2"


@pytest.mark.slow
def test_stream_yields_several_chunks_then_usage() -> None:
    chunks = list(LocalProvider().stream(REQUEST))

    pieces = [chunk.text for chunk in chunks if chunk.text]
    assert len(pieces) >= 2
    assert "".join(pieces).strip()
    assert not any(chunk.restart for chunk in chunks)
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.prompt_tokens > 5
    assert 0 < usage.completion_tokens <= 16


@pytest.mark.slow
def test_complete_returns_text_and_usage() -> None:
    completion = LocalProvider().complete(REQUEST)

    assert completion.text.strip()
    assert completion.usage.prompt_tokens > 5
    assert 0 < completion.usage.completion_tokens <= 16


@pytest.mark.slow
def test_another_seed_gives_another_draft_and_the_same_seed_the_same() -> None:
    sampled = CompletionRequest(REQUEST.messages, max_tokens=24, temperature=0.7)
    provider = LocalProvider()
    texts = [provider.complete(replace(sampled, seed=seed)).text for seed in (1, 2, 3, 1)]

    assert len(set(texts[:3])) >= 2, texts  # asking again can help
    assert texts[3] == texts[0]


NOTE = TaskKind(
    name="note",
    template="Write one sentence welcoming {name} to the team.",
    model="local:smollm2",
    max_tokens=24,
    temperature=0.7,
)


@pytest.mark.slow
def test_every_attempt_gets_its_own_seed_and_the_kept_seed_writes_the_draft_again(
    tmp_path: Path,
) -> None:
    store = temp_store(tmp_path)
    engine = Engine(store, Settings(kinds={"note": NOTE}))
    try:
        task = engine.draft(engine.submit("note", {"name": "Ada"}, "rita", claim_as="w"), "w")
        revise = DecisionRequest(task.id, DecisionKind.REVISE, person("lena"), feedback="Shorter.")
        engine.decide(revise)
        claimed = engine.claim("w", task.id)
        assert claimed is not None
        engine.draft(claimed, "w")
        drafts = engine.detail(task.id).drafts
    finally:
        store.close()

    seeds = [draft.seed for draft in drafts]
    assert None not in seeds and seeds[0] != seeds[1]
    provider = LocalProvider()
    for draft in drafts:  # in this process, after other generations: the same text
        again = CompletionRequest(draft.messages, NOTE.max_tokens, NOTE.temperature, draft.seed)
        assert provider.complete(again).text == draft.output


def test_unknown_gguf_path_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model.gguf"
    with pytest.raises(ConfigError, match=r"no-such-model\.gguf"):
        LocalProvider(str(missing))


ONBOARDING = CompletionRequest(
    messages=[
        {"role": "system", "content": "You are a friendly customer success manager."},
        {
            "role": "user",
            "content": "Write a short, warm onboarding email welcoming Rahul to our product. "
            'Mention one helpful first step and offer help. Sign it as "The Team".',
        },
    ],
    max_tokens=200,
    temperature=0.0,
)


def distinct_trigrams(text: str) -> float:
    """The share of a text's word trigrams that occur once: low when it loops."""
    words = re.findall(r"\w+", text.lower())
    trigrams = list(zip(words, words[1:], words[2:], strict=False))
    return len(set(trigrams)) / max(1, len(trigrams))


@pytest.mark.slow
def test_the_default_repeat_penalty_keeps_the_small_model_out_of_loops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = LocalProvider().complete(ONBOARDING).text
    monkeypatch.setenv(REPEAT_PENALTY_ENV, "1.0")
    unpenalised = LocalProvider().complete(ONBOARDING).text

    assert distinct_trigrams(default) >= 0.8, default
    assert distinct_trigrams(default) > distinct_trigrams(unpenalised)


@pytest.mark.parametrize("value", ["lots", "0", "3", "nan"])
def test_a_bad_repeat_penalty_is_refused_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(REPEAT_PENALTY_ENV, value)
    with pytest.raises(ConfigError, match=REPEAT_PENALTY_ENV):
        list(LocalProvider().stream(REQUEST))


# llama.cpp's own system line, as printed by a build on a CPU with AMX and by one without.
AMX_BUILD = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 |"
PLAIN_BUILD = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | LLAMAFILE = 1 | OPENMP = 1 |"


def test_a_build_with_amx_is_refused_with_how_to_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_AMX_ENV, raising=False)
    with pytest.raises(ConfigError, match="built with Intel AMX") as refused:
        refuse_amx_build(AMX_BUILD)
    assert "-mno-amx-int8" in str(refused.value) and ALLOW_AMX_ENV in str(refused.value)
    refuse_amx_build(PLAIN_BUILD)  # no AMX: nothing to say


def test_a_build_with_amx_is_used_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_AMX_ENV, "1")
    refuse_amx_build(AMX_BUILD)


def test_the_installed_build_has_no_amx() -> None:
    from llama_cpp import llama_print_system_info

    # What `make setup` builds; with AMX kernels the model would crash on such CPUs.
    assert "AMX_INT8 = 1" not in llama_print_system_info().decode()


def test_a_provider_on_a_build_with_amx_is_refused_as_it_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import llama_cpp

    # What llama.cpp says of itself when built with AMX on such a CPU (not this build).
    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: AMX_BUILD.encode())
    monkeypatch.delenv(ALLOW_AMX_ENV, raising=False)
    with pytest.raises(ConfigError, match="built with Intel AMX"):
        LocalProvider()


@pytest.mark.slow
def test_an_answer_asked_to_fit_a_json_schema_fits_it() -> None:
    # The supervisor's checks ask for JSON that fits a schema; llama.cpp makes it a grammar.
    from placet.supervisor.checks import answer_schema, check_messages, parse_answer

    checks = ("Never promise a refund", "Sign as the support team")
    draft = "Hi Maya,\nWe will refund you tomorrow.\nBest,\nThe support team"
    request = CompletionRequest(
        check_messages(checks, draft), 300, 0.0, 7, (), answer_schema(checks)
    )
    reading = parse_answer(LocalProvider().complete(request).text, checks, draft)
    assert [result.check for result in reading.checks] == list(checks)
    assert 0 <= reading.risk <= 100


@pytest.mark.slow
def test_an_opening_is_written_on_from_and_starts_the_answer() -> None:
    opening = "Dear Rahul, welcome to"
    asked = replace(
        REQUEST,
        messages=[*REQUEST.messages, {"role": "assistant", "content": opening}],
        max_tokens=24,
        temperature=0.7,
        seed=11,
    )
    chunks = list(LocalProvider().stream(asked))
    assert chunks[0].text == opening  # a watcher sees it first, as the start of the draft
    text = "".join(chunk.text for chunk in chunks)
    assert text.startswith(opening) and text[len(opening) :].strip()
    # The model continued the words, not a new turn: no chat markup, no second greeting.
    assert "<|im" not in text and "Dear Rahul" not in text[len(opening) :]
    assert LocalProvider().complete(asked).text == text  # the seed writes it again
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 5


@pytest.mark.slow
def test_every_quotation_in_an_answer_held_to_sentences_is_one_of_them() -> None:
    from placet.domain.quotes import quotable

    policy = (
        "Employees get 25 days of paid leave per calendar year. Up to 5 unused days may be "
        "carried over to the next year. Leave requests go through the HR portal."
    )
    sentences = quotable(policy)
    messages = [
        {"role": "system", "content": "Answer from the policy. Quote it in double quotes."},
        {"role": "user", "content": f"Policy:\n{policy}\n\nQuestion: Can I carry days over?"},
    ]
    provider = LocalProvider()
    quoted = 0
    for seed, opening in ((1, 'The policy says: "'), (2, ""), (3, 'It says "'), (4, "")):
        asked = [*messages, {"role": "assistant", "content": opening}] if opening else messages
        request = CompletionRequest(asked, 90, 0.9, seed, ("\n\n",), None, sentences)
        text = provider.complete(request).text
        assert text.startswith(opening)
        assert "\u201c" not in text and "\u201d" not in text  # no way round the grammar
        marks = text.split('"')
        inside = marks[1::2] if len(marks) % 2 else marks[1:-1:2]  # an unclosed last one aside
        for part in inside:
            assert part.rstrip(".!?") in sentences, (part, text)
        quoted += len(inside)
    assert quoted >= 2  # the openings' quotations at least: the check saw some
