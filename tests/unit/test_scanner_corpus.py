"""The scanners against the labelled corpus: precision and recall of at least 0.95.

The corpus (tests/corpus/drafts.jsonl, written by tests/corpus/make_corpus.py) has
240 drafts in five formats and four languages; every personal datum, secret and
internal link in it is labelled with its type and exact span, and its clean drafts
are full of near misses. A finding counts as correct only when its type and its
span both equal a label's; a partial overlap (or the right span with the wrong
type) counts twice against the scanner, as a false positive and a false negative.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from placet.supervisor import TYPES, scan
from tests.corpus import make_corpus
from tests.corpus.evaluate import CORPUS, Score, evaluate, load

THRESHOLD = 0.95


@pytest.fixture(scope="module")
def drafts() -> list[dict[str, Any]]:
    return load()


@pytest.fixture(scope="module")
def score(drafts: list[dict[str, Any]]) -> Score:
    return evaluate(scan, drafts)


def test_the_corpus_is_as_its_script_writes_it() -> None:
    assert CORPUS.read_text(encoding="utf-8") == make_corpus.render(make_corpus.build()), (
        "tests/corpus/drafts.jsonl is stale: run python tests/corpus/make_corpus.py"
    )


def test_the_corpus_covers_formats_languages_types_and_near_misses(
    drafts: list[dict[str, Any]],
) -> None:
    assert len(drafts) >= 200
    assert {d["format"] for d in drafts} == {"email", "chat", "json", "markdown", "code"}
    assert {d["lang"] for d in drafts} == {"en", "de", "fr", "es"}
    clean = [d for d in drafts if not d["findings"]]
    assert len(clean) >= 60
    planted = Counter(f["type"] for d in drafts for f in d["findings"])
    json.dumps(planted)
    assert set(planted) == set(TYPES)
    assert min(planted.values()) >= 25, planted
    assert sum(1 for d in drafts if d["violates"]) >= 30  # for the supervisor's model checks


def test_every_label_is_the_exact_span_of_its_value(drafts: list[dict[str, Any]]) -> None:
    for draft in drafts:
        for label in draft["findings"]:
            assert draft["text"][label["start"] : label["end"]] == label["value"], draft["id"]


def test_precision_and_recall_per_type_and_overall(score: Score) -> None:
    rows = {kind: (score.precision(kind), score.recall(kind)) for kind in score.types()}
    rows["all"] = (score.precision(), score.recall())
    low = {kind: figures for kind, figures in rows.items() if min(figures) < THRESHOLD}
    assert not low, f"below {THRESHOLD}: {low}\n{score.table()}\n" + "\n".join(score.mistakes)


def test_the_scoring_fails_a_scanner_with_a_broken_finder(
    drafts: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the Luhn check gone, card-shaped near misses are flagged and the test would fail."""
    from stdnum import luhn

    monkeypatch.setattr(luhn, "is_valid", lambda number: True)
    broken = evaluate(scan, drafts)
    assert broken.precision("card") < THRESHOLD
