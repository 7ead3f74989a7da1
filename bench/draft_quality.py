"""Draft quality of the starter kinds on the embedded model (SmolLM2-135M), scored by a rubric.

Each starter kind (onboarding_email, customer_reply, policy_answer) drafts
every one of its twenty fixed inputs (bench/draft_quality_inputs.py) through
the real engine and the real local model: ``Engine.submit`` with a claim,
``Engine.draft``. Each first draft is scored with the kind's rubric
(bench/draft_rubric.py, whose docstring is the rubric in words: fixed before
any prompt was tuned). Then every first draft is sent back once with feedback
naming one concrete thing it lacks ("Sign it as 'The Support Team'.", "Mention
the mobile app.", ...: the first of the kind's feedback list, from a rotating
start, that the draft does not already satisfy), through
``Engine.decide(revise)``, ``Engine.claim`` and ``Engine.draft`` (the revision
prompt path Placet uses), and the revision is checked for that thing (and
for being a draft: no meta talk, no placeholders).

It prints, per kind, the share of first drafts that pass every rubric item and
the share of revisions that fix what the feedback named, then the pass rate of
each rubric item. ``--rounds N`` drafts every input N times (new attempts, so
new seeds where Placet gives each attempt one).

The kinds are those of the starter ``placet.toml`` that ``placet init`` writes
(``placet.domain.starter.STARTER_TOML``, written into the scratch folder), or
those of any ``placet.toml`` given with ``--config FILE`` (to try a change to
the starter before making it one). Placet at another revision: point
``PLACET_BENCH_SRC`` at that revision's ``src/`` (``git worktree add
/tmp/wt-before main``; then ``PLACET_BENCH_SRC=/tmp/wt-before/src``); the
script drives only the engine's public calls, which both have, and that
revision's starter kinds.

    .venv/bin/python bench/draft_quality.py [--rounds N] [--limit N] [--kind K] [--json FILE]
    .venv/bin/python bench/draft_quality.py --config my/placet.toml   # another file's kinds
    .venv/bin/python bench/draft_quality.py --rescore FILE   # judge saved drafts again
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import draft_rubric as rubric
from common import SRC, machine_info, print_table, scratch_dir
from draft_quality_inputs import (
    ANSWERING_SENTENCE,
    CUSTOMER_FEEDBACK,
    CUSTOMER_MESSAGES,
    ONBOARDING_FEEDBACK,
    ONBOARDING_NAMES,
    POLICY_CASES,
    POLICY_FEEDBACK,
    Feedback,
)

KINDS = ("onboarding_email", "customer_reply", "policy_answer")
FIRST_DRAFT_TARGET = 0.80
REVISION_TARGET = 0.60


@dataclasses.dataclass(frozen=True)
class Case:
    """One input of one kind, with its rubric and the feedback a revision may get."""

    kind: str
    values: dict[str, str]
    rubric: dict[str, rubric.Check]
    feedback: list[Feedback]


@dataclasses.dataclass
class Outcome:
    """What one input gave: the first draft, its scores, and the revision when one was asked."""

    kind: str
    values: dict[str, str]
    draft: str
    seed: Any
    scores: dict[str, bool]
    feedback: str | None = None
    revision: str | None = None
    fixed: bool | None = None
    # Fixed, and every other rubric item still passes.
    kept: bool | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Every rubric item passed."""
        return all(self.scores.values())


def cases(kind: str) -> list[Case]:
    """The kind's twenty inputs, each with its rubric."""
    if kind == "onboarding_email":
        return [
            Case(kind, {"name": name}, rubric.onboarding_rubric(name), ONBOARDING_FEEDBACK)
            for name in ONBOARDING_NAMES
        ]
    if kind == "customer_reply":
        return [
            Case(
                kind,
                {"customer": customer, "message": message},
                rubric.customer_rubric(customer),
                CUSTOMER_FEEDBACK,
            )
            for customer, message in CUSTOMER_MESSAGES
        ]
    return [
        Case(
            kind,
            {"policy": case.policy, "question": case.question},
            rubric.policy_rubric(case.policy, case.answerable),
            POLICY_FEEDBACK,
        )
        for case in POLICY_CASES
    ]


def choose_feedback(options: list[Feedback], start: int, draft: str) -> Feedback | None:
    """The first feedback, from ``start`` on, that names something the draft lacks."""
    for step in range(len(options)):
        option = options[(start + step) % len(options)]
        if not rubric.FEEDBACK_CHECKS[option.check](draft, option.arg):
            return option
    return None


def judge(outcome: Outcome, case: Case) -> Outcome:
    """Score the first draft with the rubric and the revision for what its feedback named."""
    outcome.scores = rubric.score(outcome.draft, case.rubric)
    if outcome.revision is None:
        return outcome
    chosen = next(option for option in case.feedback if option.text == outcome.feedback)
    fixed = rubric.revision_fixes(outcome.revision, chosen.check, chosen.arg, chosen.text)
    outcome.fixed = fixed
    outcome.kept = fixed and rubric.revision_keeps(outcome.revision, chosen.check, case.rubric)
    return outcome


class Drafter:
    """Placet's engine on a scratch SQLite store, drafting with local:smollm2."""

    def __init__(self, folder: Path, config: Path | None = None) -> None:
        from placet.config import load_settings
        from placet.engine import Engine
        from placet.testing import temp_store

        self.store = temp_store(folder)
        (folder / "placet.toml").write_text(config_text(config), encoding="utf-8")
        settings = load_settings(folder)
        settings = dataclasses.replace(settings, database_url=self.store.url, model="local:smollm2")
        self.engine = Engine(self.store, settings)

    def first(self, kind: str, values: dict[str, str]) -> Any:
        """Submit and draft; the task as it awaits review."""
        task = self.engine.submit(kind, values, "requester", claim_as="bench")
        return self.engine.draft(task, "bench")

    def revise(self, task: Any, feedback: str) -> Any:
        """Send the draft back with feedback and draft again; the task as it awaits review."""
        from placet.domain.models import DecisionKind
        from placet.engine import DecisionRequest
        from placet.testing import person

        request = DecisionRequest(
            task_id=task.id,
            kind=DecisionKind.REVISE,
            principal=person("reviewer", channel="bench"),
            draft_id=task.current_draft_id,
            feedback=feedback,
        )
        self.engine.decide(request)
        claimed = self.engine.claim("bench", task.id)
        return self.engine.draft(claimed, "bench")

    def draft_of(self, task: Any) -> Any:
        """The draft the task waits on."""
        return self.store.get_draft(task.current_draft_id)

    def close(self) -> None:
        """Close the engine and its store."""
        self.engine.close(store_too=True)


def run_case(drafter: Drafter, case: Case, index: int) -> Outcome:
    """Draft one input, score it, and revise it once with feedback it needs."""
    started = time.monotonic()
    task = drafter.first(case.kind, case.values)
    draft = drafter.draft_of(task)
    seed = getattr(draft, "seed", None)  # drafts record their seed from this work on
    outcome = Outcome(case.kind, case.values, draft.output, seed, {})
    chosen = choose_feedback(case.feedback, index, draft.output)
    if chosen is not None:
        revised = drafter.draft_of(drafter.revise(task, chosen.text)).output
        outcome.feedback, outcome.revision = chosen.text, revised
    outcome.seconds = time.monotonic() - started
    return judge(outcome, case)


def config_text(config: Path | None) -> str:
    """The placet.toml drafted with: the given file, else the starter ``placet init`` writes."""
    if config is not None:
        return config.read_text(encoding="utf-8")
    from placet.domain.starter import STARTER_TOML

    return STARTER_TOML


def run(
    kinds: list[str], rounds: int, limit: int | None, config: Path | None = None
) -> Iterator[Outcome]:
    """Every input of every kind, ``rounds`` times, one outcome at a time."""
    with scratch_dir("placet-bench-quality-") as folder:
        drafter = Drafter(folder, config)
        try:
            for _ in range(rounds):
                for kind in kinds:
                    for index, case in enumerate(cases(kind)[:limit]):
                        yield run_case(drafter, case, index)
        finally:
            drafter.close()


def share(flags: list[bool]) -> float:
    """The share of True, or NaN for none."""
    return sum(flags) / len(flags) if flags else float("nan")


def rate(flags: list[bool]) -> str:
    """A share with its counts, as the tables show it."""
    return f"{share(flags):.0%} ({sum(flags)}/{len(flags)})"


def report(outcomes: list[Outcome], kinds: list[str]) -> None:
    """Per-kind pass and fix rates, then per-item pass rates."""
    rows = []
    for kind in kinds:
        mine = [o for o in outcomes if o.kind == kind]
        fixed = [bool(o.fixed) for o in mine if o.revision is not None]
        kept = [bool(o.kept) for o in mine if o.revision is not None]
        first = [o.passed for o in mine]
        rows.append(
            [
                kind,
                rate(first),
                rate(fixed),
                rate(kept),
                f"{'met' if share(first) >= FIRST_DRAFT_TARGET else 'NOT met'} / "
                f"{'met' if share(fixed) >= REVISION_TARGET else 'NOT met'}",
            ]
        )
    print_table(
        "Drafts that pass the whole rubric, and revisions that fix what the feedback named",
        ["kind", "first drafts pass", "revisions fix", "fix, rest passes", "targets (80%/60%)"],
        rows,
    )
    for kind in kinds:
        mine = [o for o in outcomes if o.kind == kind]
        items = list(mine[0].scores) if mine else []
        print_table(
            f"{kind}: each rubric item over {len(mine)} first drafts",
            ["item", "pass"],
            [[item, f"{share([o.scores[item] for o in mine]):.0%}"] for item in items],
        )
        if kind == "policy_answer":
            print_answering(mine)
        print_table(
            f"{kind}: revisions by the feedback they were given",
            ["feedback", "fixed", "fixed, rest passes"],
            by_feedback(mine),
        )


def print_answering(outcomes: list[Outcome]) -> None:
    """What the rubric's "grounded" cannot tell: whether an answer to a question the
    policy answers quotes the sentence that answers it, and quotes it whole."""
    rows = []
    for outcome in outcomes:
        answer = ANSWERING_SENTENCE.get(outcome.values["question"])
        if answer is not None:
            rows.append((rubric.quotes_from(outcome.draft, answer), outcome.draft))
    policy_sentences = {
        sentence for o in outcomes for sentence in rubric.policy_sentences(o.values["policy"])
    }
    whole = [
        bool(quoted) and quoted[0] in policy_sentences
        for quoted in (rubric.quotations(draft) for _, draft in rows)
    ]
    print_table(
        f"policy_answer: {len(rows)} answers to questions the policy answers (not the rubric)",
        ["first quotation is a whole policy sentence", "quotes the sentence that answers"],
        [[rate(whole), rate([found for found, _ in rows])]],
    )


def by_feedback(outcomes: list[Outcome]) -> list[list[str]]:
    """For each feedback given, how many of its revisions fixed it (and kept the rest)."""
    given: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.feedback is not None and outcome.revision is not None:
            given.setdefault(outcome.feedback, []).append(outcome)
    return [
        [feedback, rate([bool(o.fixed) for o in mine]), rate([bool(o.kept) for o in mine])]
        for feedback, mine in given.items()
    ]


def write_json(outcomes: list[Outcome], path: Path) -> None:
    """Every draft, revision and verdict, for reading them."""
    records = [dataclasses.asdict(o) | {"passed": o.passed} for o in outcomes]
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def rescore(path: Path) -> list[Outcome]:
    """The outcomes a --json file holds, judged again by this rubric (no drafting)."""
    by_values = {
        (kind, json.dumps(case.values, sort_keys=True)): case
        for kind in KINDS
        for case in cases(kind)
    }
    outcomes = []
    for record in json.loads(path.read_text()):
        record.pop("passed", None)
        outcome = Outcome(**record)
        case = by_values[(outcome.kind, json.dumps(outcome.values, sort_keys=True))]
        outcomes.append(judge(outcome, case))
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="draft every input N times")
    parser.add_argument("--limit", type=int, default=None, help="only the first N inputs")
    parser.add_argument("--kind", action="append", choices=KINDS, help="only this kind")
    parser.add_argument("--json", type=Path, help="write every draft and verdict here")
    parser.add_argument("--quiet", action="store_true", help="no line per draft")
    parser.add_argument("--rescore", type=Path, help="judge a --json file again; draft nothing")
    parser.add_argument(
        "--config",
        type=Path,
        help="draft with the kinds of this placet.toml (default: the starter `placet init` writes)",
    )
    args = parser.parse_args()
    kinds = args.kind or list(KINDS)
    if args.rescore:
        report(rescore(args.rescore), kinds)
        return
    drafted_with = args.config or "the starter placet.toml `placet init` writes"
    print(f"draft_quality: Placet from {SRC}, kinds from {drafted_with}; {machine_info()}")
    started = time.monotonic()
    outcomes = []
    for outcome in run(kinds, args.rounds, args.limit, args.config):
        outcomes.append(outcome)
        if not args.quiet:
            failed = [item for item, ok in outcome.scores.items() if not ok]
            print(
                f"{outcome.kind:<16} {outcome.seconds:5.1f}s "
                f"{'pass' if outcome.passed else 'FAIL ' + ','.join(failed)}"
                f" | revision {'-' if outcome.fixed is None else outcome.fixed}",
                flush=True,
            )
    report(outcomes, kinds)
    print(f"\n{len(outcomes)} inputs in {time.monotonic() - started:.0f} s")
    if args.json:
        write_json(outcomes, args.json)


if __name__ == "__main__":
    main()
