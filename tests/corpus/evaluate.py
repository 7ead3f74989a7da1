"""Scores the scanners on the labelled corpus: per-type precision and recall.

A finding is correct when its type and its span (start and end) equal a label's
exactly. A partial overlap counts as wrong twice: a false positive (the span
found) and a false negative (the span labelled), as does a right span with the
wrong type. Shared by the test (tests/unit/test_scanner_corpus.py) and the
benchmark (bench/scanner_cost.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "drafts.jsonl"


def load(path: Path = CORPUS) -> list[dict[str, Any]]:
    """The corpus's drafts, in order."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Score:
    """True positives, false positives and false negatives per type, and the misses."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    mistakes: list[str] = field(default_factory=list)

    def precision(self, kind: str | None = None) -> float:
        tp, fp = self._sum(self.tp, kind), self._sum(self.fp, kind)
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, kind: str | None = None) -> float:
        tp, fn = self._sum(self.tp, kind), self._sum(self.fn, kind)
        return tp / (tp + fn) if tp + fn else 1.0

    def types(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    @staticmethod
    def _sum(counts: Counter[str], kind: str | None) -> int:
        return sum(counts.values()) if kind is None else counts[kind]

    def table(self) -> str:
        """A Markdown table: per type, then overall."""
        rows = [
            "| type | planted | found | correct | precision | recall |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for kind in [*self.types(), None]:
            tp, fp, fn = (self._sum(c, kind) for c in (self.tp, self.fp, self.fn))
            rows.append(
                f"| {kind or '**all**'} | {tp + fn} | {tp + fp} | {tp} | "
                f"{self.precision(kind):.3f} | {self.recall(kind):.3f} |"
            )
        return "\n".join(rows)


def evaluate(scan: Callable[[str], Sequence[Any]], drafts: list[dict[str, Any]]) -> Score:
    """Run ``scan`` on every draft and compare with the labels, exactly."""
    score = Score()
    for draft in drafts:
        text = draft["text"]
        expected = {(f["type"], f["start"], f["end"]) for f in draft["findings"]}
        found = {(f.type, f.start, f.end) for f in scan(text)}
        for kind, _start, _end in found & expected:
            score.tp[kind] += 1
        for kind, start, end in sorted(found - expected):
            score.fp[kind] += 1
            score.mistakes.append(f"{draft['id']} false {kind}: {text[start:end]!r}")
        for kind, start, end in sorted(expected - found):
            score.fn[kind] += 1
            score.mistakes.append(f"{draft['id']} missed {kind}: {text[start:end]!r}")
    return score
