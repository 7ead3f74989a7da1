"""bench/learning.py --smoke: the whole bench through the real engine and SQLite, with a
FakeProvider that follows the rules it finds in its prompt (no model)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import learning
import learning_reviewer as reviewer

SMOKE = ["--smoke", "--tasks", "16", "--every", "4", "--seeds", "1", "--quiet"]


@pytest.fixture(scope="module")
def runs() -> dict[str, learning.ArmRun]:
    return {run.arm: run for run in learning.main(SMOKE)}


def test_every_arm_runs_on_the_same_tasks(runs: dict[str, learning.ArmRun]) -> None:
    assert set(runs) == {"off", "on/model", "on/feedback"}
    for run in runs.values():
        assert [t.customer for t in run.tasks] == [c for c, _ in reviewer.TASKS[:16]]
        assert all(1 <= len(t.attempts) <= 3 for t in run.tasks)


def test_the_arms_draw_the_same_seeds_so_drafts_before_learning_are_alike(
    runs: dict[str, learning.ArmRun],
) -> None:
    def texts(run: learning.ArmRun) -> list[str]:  # the first task: no lessons, no examples
        return [a.text for t in run.tasks[:1] for a in t.attempts]

    assert texts(runs["off"]) == texts(runs["on/model"]) == texts(runs["on/feedback"])
    assert len(set(texts(runs["off"]))) > 1  # a seed per task and attempt, not one


def test_approved_lessons_reach_the_prompt_and_raise_first_pass_approval(
    runs: dict[str, learning.ArmRun],
) -> None:
    off = learning.figures(runs["off"])
    assert runs["off"].lessons == [] and runs["off"].proposals == []
    for arm in ("on/model", "on/feedback"):
        run = runs[arm]
        assert reviewer.rules_taught(run.lessons) == list(reviewer.RULES)
        assert all(t.attempts[0].lessons > 0 for t in run.tasks[4:])
        assert learning.figures(run)["first_pass_last"] - off["first_pass_last"] >= 0.5


def test_out_of_attempts_the_reviewer_fixes_the_last_draft_and_approves_the_edit(
    runs: dict[str, learning.ArmRun],
) -> None:
    stuck = [t for t in runs["off"].tasks if all(a.broken for a in t.attempts)]
    assert stuck and all(t.edited and t.approved_at is None for t in stuck)
    assert all(len(t.attempts) == 3 for t in stuck)
    assert not any(t.edited for t in runs["off"].tasks if t.approved_at is not None)


def test_the_reviewer_edits_wrong_lines_out_of_a_models_proposal(
    runs: dict[str, learning.ArmRun],
) -> None:
    first = runs["on/model"].proposals[0]
    assert "Sign every reply as 'Sam'" in first.text
    assert first.decision.startswith("edited") and "Sign every reply as 'Sam'" not in first.kept
    assert not any("Sam" in lesson for lesson in runs["on/model"].lessons)


def test_the_run_is_repeatable(runs: dict[str, learning.ArmRun]) -> None:
    again = {run.arm: run for run in learning.main(SMOKE)}
    for arm, run in runs.items():
        assert [t.attempts for t in again[arm].tasks] == [t.attempts for t in run.tasks]
        assert again[arm].lessons == run.lessons


def test_an_openai_compatible_model_without_its_key_is_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    assert learning.main(["--provider", "groq:llama-3.3-70b-versatile", "--quiet"]) == []
    assert "skipped groq:llama-3.3-70b-versatile" in capsys.readouterr().out


def test_a_saved_run_reports_the_same_figures(tmp_path: Path) -> None:
    saved = tmp_path / "learning.json"
    made = learning.main([*SMOKE, "--json", str(saved)])
    again = learning.main(["--rescore", str(saved)])

    def shown(runs: list[learning.ArmRun]) -> str:
        return repr([learning.figures(run) for run in runs])  # NaN where none was approved

    assert shown(again) == shown(made)
    assert [run.lessons for run in again] == [run.lessons for run in made]
