"""Does Placet learn? First-pass approval with lessons from reviewers, against none (issue 18).

A fixed set of support requests (bench/learning_reviewer.py: forty, customer
and message) is drafted by one kind, ``support_reply``, whose prompt does not
state the team's rules, and reviewed by a scripted reviewer who knows them
(sign as "The Support Team", give support@example.com, at most 120 words, never
"Dear"): it names the first rule a draft breaks, as revision feedback, and
approves a draft that breaks none; the last of ``--attempts`` drafts that still
breaks a rule it fixes by hand (``learning_reviewer.fixed``: "Dear" out, cut to
length, the team's closing with the address and signature) and approves as
edited, as a reviewer who has to send the reply would (``--out-of-attempts
reject`` rejects it instead, with the same words). Every draft is made and every
decision taken through the real engine (``Engine.submit``/``claim``/``draft``,
``Engine.decide``) on a fresh SQLite file, with the real model.

Three arms, on the same tasks, model and seeds, in one run:

- ``off``: no lessons, no examples.
- ``on/model``: all of Placet's learning. Each prompt shows the three approved
  replies most like the request (``learn.examples = 3``: edited ones as edited),
  and after every ``--every`` tasks ``engine.learning.propose`` asks the kind's
  model to distill the reviewers' feedback into lessons
  (``learn.distill = "model"``, the default).
- ``on/feedback``: the same, with the lesson proposal written at once from the
  reviewers' own words, most often said first, no model
  (``learn.distill = "feedback"``).

``--arms`` adds, to tell the two halves apart: ``examples`` (examples only, no
lessons) and ``lessons/feedback`` (lessons from feedback only, no examples).

The scripted reviewer decides each proposal as a person would, through
``Engine.decide``: it keeps the lines that state one of its rules correctly
(an edit down to those; an approval when every line is kept) and rejects a
proposal with none. Approved lines are active lessons, put after the system
prompt of every later draft.

Seeds: the engine draws a new sampling seed for every attempt
(``placet.domain.ids.new_seed``, imported by ``placet.engine.drafting``). The bench
replaces the engine's ``new_seed`` with one that derives the seed from the run
seed, the task and the attempt (``Seeds``), and checks that every saved draft
carries the seed planned for it; so the arms draw the same seeds, and a task's
first draft differs between arms only by the lessons in its prompt. Three run
seeds (``--seeds``) give three such runs. A request the model was already given
in this run (same messages, seed and settings: every draft before the first
lessons) is answered from memory (``Replay``; ``--no-replay`` to ask again):
the local model writes the same text for the same request and seed.

Reported per arm: the first-pass approval rate over the last half of the tasks
(the target: on >= off + 20 points with the local model), over the first half,
the share approved within the attempts and the mean attempts to approval (last
half), and the lessons active at the end, with the difference in points against
``off`` measured in the same run; then, rule by rule, the share of first drafts
(last half) that keep it. ``--arms off,given`` adds an arm whose lessons are the
four rules, written by the reviewer and approved before the first task: what the
model does with perfect lessons, a ceiling for the learning arms.

    PLACET_LOCAL_THREADS=1 nice -n 19 .venv/bin/python bench/learning.py [--tasks N] [--seeds N]
    .venv/bin/python bench/learning.py --provider groq:llama-3.3-70b-versatile  # needs its key
    .venv/bin/python bench/learning.py --smoke   # FakeProvider that follows the lessons it is given
    .venv/bin/python bench/learning.py --arms off,given --tasks 20   # with perfect lessons
    .venv/bin/python bench/learning.py --rescore FILE   # report a --json file again
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import learning_reviewer as reviewer
from common import SRC, machine_info, print_table, scratch_dir
from learning_models import Replay, RuleFollower, Seeds, seeded

from placet.config import Settings, load_settings
from placet.domain import lessons
from placet.domain.learning import Learning
from placet.domain.models import DecisionKind, Task, TaskKind, TaskStatus
from placet.domain.policy import Role
from placet.engine import DecisionRequest, Engine
from placet.errors import ConfigError, InvalidInputError
from placet.providers.base import Provider
from placet.store.sql import SqlStore
from placet.testing import person

KIND = "support_reply"
REQUESTER, WORKER = "desk", "bench"
REVIEWER = person("rita", Role.REVIEWER, channel="bench")
TARGET_POINTS = 20.0
# Settings from the environment only (keys, endpoints): a folder with no placet.toml or .env.
NO_CONFIG = Path("/nonexistent/placet-bench-learning")
EXAMPLES = 3  # approved replies most like the request, in the prompt of a learning arm


@dataclasses.dataclass(frozen=True)
class Arm:
    """How an arm learns: how its lesson proposals are made (None: it asks for none),
    and how many examples from approved work each prompt shows."""

    distill: str | None
    examples: int = 0


ARMS: dict[str, Arm] = {
    "off": Arm(None),
    "on/model": Arm("model", EXAMPLES),
    "on/feedback": Arm("feedback", EXAMPLES),
    # With --arms only: each half of learning alone, and the ceiling of perfect lessons.
    "examples": Arm(None, EXAMPLES),
    "lessons/feedback": Arm("feedback"),
    "given": Arm(None),  # the four rules as approved lessons from the first task on
}
DEFAULT_ARMS = ("off", "on/model", "on/feedback")


def support_kind(model: str, arm: Arm, attempts: int = 3) -> TaskKind:
    """The kind under test: a support reply whose prompt says nothing of the team's rules.

    Shaped like the tuned starter kinds (bench/starter_candidate.toml) for a small model:
    the exact shape of the answer, a low temperature, stops, revisions from the request;
    its signature line left out (it is a hidden rule). 220 tokens is ~160 words: a draft
    the limit cuts off already breaks the 120-word rule, so no verdict depends on it.
    """
    return TaskKind(
        name=KIND,
        system=(
            "You are a patient, precise support agent. Never promise refunds or dates. "
            "Write only the reply: greet the customer by name, answer their message in "
            "three to five short sentences, then sign off."
        ),
        template=(
            "Customer {customer} wrote:\n\n{message}\n\n"
            "Write a helpful, polite reply that answers their message."
        ),
        model=model,
        max_attempts=attempts,
        max_tokens=220,
        temperature=0.4,
        stop=("\n\n\n", "\nCustomer "),
        revise_from="request",
        learn=Learning(distill=arm.distill or "model", examples=arm.examples),
    )


# -- one arm on one seed ----------------------------------------------------------------


@dataclasses.dataclass
class Attempt:
    """One draft of a task and the rules it broke."""

    text: str
    broken: list[str]
    lessons: int  # active lessons when it was drafted


@dataclasses.dataclass
class TaskOutcome:
    """How one task went: its drafts, and the attempt approved (None: rejected)."""

    index: int
    customer: str
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    approved_at: int | None = None
    edited: bool = False  # out of attempts, the reviewer fixed the last draft and approved it


@dataclasses.dataclass
class ProposalOutcome:
    """One lesson proposal, after ``after`` tasks, and what the reviewer did with it."""

    after: int
    text: str
    kept: list[str]
    decision: str


@dataclasses.dataclass
class ArmRun:
    """One arm on one seed."""

    arm: str
    seed: int
    tasks: list[TaskOutcome] = dataclasses.field(default_factory=list)
    proposals: list[ProposalOutcome] = dataclasses.field(default_factory=list)
    lessons: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class Config:
    """What to run."""

    model: str
    tasks: int = 40
    seeds: tuple[int, ...] = (1, 2, 3)
    arms: tuple[str, ...] = DEFAULT_ARMS
    every: int = 8
    attempts: int = 3
    smoke: bool = False
    replay: bool = True
    verbose: bool = True
    last: str = "edit"  # out of attempts: "edit" the last draft to keep the rules, or "reject"


class Desk:
    """An engine on a fresh SQLite file, its seeds, and the scripted reviewer's hands."""

    def __init__(self, engine: Engine, seeds: Seeds) -> None:
        self.engine = engine
        self.seeds = seeds

    def drafted(self, task: Task, *what: object) -> tuple[Task, str]:
        """Draft a claimed task with the planned seed; the task and the draft's text."""
        planned = self.seeds.plan(*what)
        task = self.engine.draft(task, WORKER)
        assert task.current_draft_id is not None
        draft = self.engine.store.get_draft(task.current_draft_id)
        if draft.seed != planned:
            raise SystemExit(
                f"the engine drafted with seed {draft.seed}, not the bench's {planned}: "
                "placet.engine.drafting no longer draws seeds from new_seed; update Seeds"
            )
        return task, draft.output

    def decide(self, task: Task, kind: DecisionKind, **said: str) -> None:
        """The scripted reviewer's decision on the draft the task waits on."""
        request = DecisionRequest(task.id, kind, REVIEWER, draft_id=task.current_draft_id, **said)
        self.engine.decide(request)

    def review(self, index: int, values: dict[str, str], config: Config) -> TaskOutcome:
        """One task, drafted and reviewed until approved or out of attempts."""
        outcome = TaskOutcome(index, values["customer"])
        task: Task | None = self.engine.submit(KIND, values, REQUESTER, claim_as=WORKER)
        attempts = config.attempts
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                task = self.engine.claim(WORKER, task.id)
            assert task is not None
            in_use = len(self.engine.learning.active_lessons(KIND))
            task, text = self.drafted(task, "task", index, attempt)
            broken = reviewer.breaks(text)
            outcome.attempts.append(Attempt(text, broken, in_use))
            if not broken:
                self.decide(task, DecisionKind.APPROVE)
                outcome.approved_at = attempt
                break
            said = reviewer.FEEDBACK[broken[0]]
            if attempt == attempts and config.last == "edit":
                self.decide(task, DecisionKind.EDIT, text=reviewer.fixed(text))
                outcome.edited = True
            elif attempt == attempts:
                self.decide(task, DecisionKind.REJECT, reason=said)
            else:
                self.decide(task, DecisionKind.REVISE, feedback=said)
        return outcome

    def teach(self, lines: Sequence[str]) -> ProposalOutcome:
        """Lessons a person writes and the reviewer approves (the ``given`` arm)."""
        text = "\n".join(lines)
        values = {"kind": KIND, "feedback": "(written by the reviewer)", "active": "(none)"}
        task = self.engine.propose(lessons.name_for(KIND), values, REQUESTER, text)
        self.decide(task, DecisionKind.APPROVE)
        return ProposalOutcome(0, text, list(lines), "approved")

    def lesson_round(self, after: int) -> ProposalOutcome | None:
        """Ask for lessons and decide the proposal as the reviewer would (None: nothing
        to learn from)."""
        try:
            task: Task | None = self.engine.learning.propose(KIND, REQUESTER)
        except InvalidInputError:
            return None
        assert task is not None
        if task.status is TaskStatus.QUEUED:  # drafted by the kind's model
            task = self.engine.claim(WORKER, task.id)
            assert task is not None
            task, text = self.drafted(task, "proposal", after)
        else:  # written from the reviewers' words
            assert task.current_draft_id is not None
            text = self.engine.store.get_draft(task.current_draft_id).output
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        kept = reviewer.kept_lines(text)
        if not kept:
            self.decide(task, DecisionKind.REJECT, reason=reviewer.NOTHING_RIGHT)
            decision = "rejected"
        elif kept == lines:
            self.decide(task, DecisionKind.APPROVE)
            decision = "approved"
        else:
            self.decide(task, DecisionKind.EDIT, text="\n".join(kept))
            decision = f"edited ({len(kept)} of {len(lines)} lines kept)"
        return ProposalOutcome(after, text, kept, decision)


def run_arm(config: Config, arm: str, seed: int, make_provider: Callable[[], Provider]) -> ArmRun:
    """One arm on one seed, on its own SQLite file."""
    started = time.monotonic()
    result = ArmRun(arm, seed)
    with scratch_dir("placet-bench-learning-") as folder:
        url = f"sqlite:///{folder / 'placet.db'}"
        kind = support_kind(config.model, ARMS[arm], config.attempts)
        settings = Settings(database_url=url, model=config.model, kinds={KIND: kind})
        provider = make_provider()
        engine = Engine(SqlStore(url), settings, provider_for=lambda _name: provider)
        seeds = Seeds(seed)
        desk = Desk(engine, seeds)
        try:
            with seeded(seeds):
                if arm == "given":
                    result.proposals.append(desk.teach(reviewer.RULE_LESSONS))
                for index, (customer, message) in enumerate(reviewer.TASKS[: config.tasks]):
                    values = {"customer": customer, "message": message}
                    outcome = desk.review(index, values, config)
                    result.tasks.append(outcome)
                    if config.verbose:
                        print_task(arm, seed, outcome)
                    done = index + 1
                    learns = ARMS[arm].distill is not None
                    if learns and done % config.every == 0 and done < config.tasks:
                        proposal = desk.lesson_round(done)
                        if proposal is not None:
                            result.proposals.append(proposal)
                            if config.verbose:
                                print_proposal(arm, seed, proposal)
            result.lessons = list(engine.learning.active_lessons(KIND))
        finally:
            engine.close(store_too=True)
    result.seconds = time.monotonic() - started
    return result


def print_task(arm: str, seed: int, outcome: TaskOutcome) -> None:
    """One line per task, as the run goes."""
    verdicts = " ".join(
        "ok" if not attempt.broken else attempt.broken[0] for attempt in outcome.attempts
    )
    state = f"approved at {outcome.approved_at}" if outcome.approved_at else "rejected"
    state = "edited" if outcome.edited else state
    lessons_in_use = outcome.attempts[0].lessons
    print(
        f"{arm:<12} seed {seed} task {outcome.index + 1:>2} {outcome.customer:<8} "
        f"lessons {lessons_in_use} | {verdicts:<28} | {state}",
        flush=True,
    )


def print_proposal(arm: str, seed: int, proposal: ProposalOutcome) -> None:
    """A proposal, its lines and the reviewer's decision."""
    shown = " / ".join(proposal.text.splitlines())[:300]
    print(f"{arm:<12} seed {seed} proposal after {proposal.after}: {proposal.decision}: {shown}")


# -- figures -------------------------------------------------------------------------------


def share(flags: Sequence[bool]) -> float:
    """The share of True (NaN for none)."""
    return sum(flags) / len(flags) if flags else float("nan")


def halves(run: ArmRun) -> tuple[list[TaskOutcome], list[TaskOutcome]]:
    """The first and the last half of a run's tasks."""
    middle = len(run.tasks) // 2
    return run.tasks[:middle], run.tasks[middle:]


def figures(run: ArmRun) -> dict[str, float]:
    """A run's figures: first-pass approval (halves), approved share and mean attempts."""
    first, last = halves(run)
    approved = [t.approved_at for t in last if t.approved_at is not None]
    return {
        "first_pass_last": share([t.approved_at == 1 for t in last]),
        "first_pass_first": share([t.approved_at == 1 for t in first]),
        "approved_last": share([t.approved_at is not None for t in last]),
        "attempts_last": statistics.mean(map(float, approved)) if approved else float("nan"),
        "drafts": float(sum(len(t.attempts) for t in run.tasks)),
    }


def percent(value: float) -> str:
    """A share as whole percent."""
    return "n/a" if value != value else f"{value:.0%}"


def counted(flags: Sequence[bool]) -> str:
    """A share with its counts."""
    return f"{percent(share(flags))} ({sum(flags)}/{len(flags)})"


def points(value: float, base: float) -> str:
    """A difference of shares in points, signed."""
    return "n/a" if value != value or base != base else f"{(value - base) * 100:+.0f}"


def report(runs: list[ArmRun], config: Config) -> None:
    """Per seed, then over seeds, every arm against off measured in the same run."""
    seeds = sorted({run.seed for run in runs})
    by = {(run.arm, run.seed): run for run in runs}
    rows = []
    for seed in seeds:
        off = figures(by[("off", seed)]) if ("off", seed) in by else None
        for arm in config.arms:
            if (arm, seed) in by:
                rows.append(seed_row(by[(arm, seed)], off))
    half = config.tasks - config.tasks // 2
    print_table(
        f"Per seed: first-pass approval over the last {half} tasks, against off",
        ["arm", "seed", "first pass, last half", "vs off (points)", "first half",
         "approved, last half", "mean attempts to approval", "rules taught", "proposals",
         "drafts", "seconds"],
        rows,
    )  # fmt: skip
    print_table(
        f"Over {len(seeds)} seed(s): means of the per-seed figures (target: on >= off "
        f"+ {TARGET_POINTS:.0f} points, first pass over the last half)",
        ["arm", "first pass, last half", "vs off (points)", "per-seed differences",
         "first half", "approved, last half", "mean attempts to approval", "verdict"],
        [summary_row(arm, [by[(arm, s)] for s in seeds if (arm, s) in by], by)
         for arm in config.arms],
    )  # fmt: skip
    print_table(
        "First drafts keeping each rule, last half, all seeds (what the model takes from "
        "its lessons, rule by rule)",
        ["arm", *reviewer.RULES, "all four"],
        [rule_row([r for r in runs if r.arm == arm]) for arm in config.arms],
    )
    print_table(
        "Revisions keeping the rule their feedback named (the rule said in the request "
        "itself), all tasks, all seeds",
        ["arm", *reviewer.RULES],
        [revision_row([r for r in runs if r.arm == arm]) for arm in config.arms],
    )
    print_table(
        "What the rules do not see, first drafts of the last half, all seeds: naming what the "
        "customer asked about (a word of the message), and near copies (>= 0.8 alike, names "
        "aside) of a reply approved earlier in the run",
        ["arm", "on topic", "near copy of an approved reply", "first pass and on topic"],
        [content_row([r for r in runs if r.arm == arm]) for arm in config.arms],
    )
    for run in runs:
        if run.arm != "off":
            shown = "; ".join(run.lessons) or "(none)"
            print(f"lessons at the end, {run.arm}, seed {run.seed}: {shown}")


def approved_text(task: TaskOutcome) -> str | None:
    """The text approved for a task: its approved draft, or the reviewer's fix of the last."""
    if task.approved_at is not None:
        return task.attempts[task.approved_at - 1].text
    return reviewer.fixed(task.attempts[-1].text) if task.edited else None


def content_row(runs: list[ArmRun]) -> list[object]:
    """One arm, first drafts of the last half: on the customer's topic, and near copies of
    a reply approved earlier in the same run."""
    topical, copies, passed_on_topic = [], [], []
    names = [customer for customer, _ in reviewer.TASKS]
    for run in runs:
        approved = [approved_text(t) for t in run.tasks]
        for task in halves(run)[1]:
            text = task.attempts[0].text
            topical.append(reviewer.on_topic(text, reviewer.TASKS[task.index][1]))
            passed_on_topic.append(task.approved_at == 1 and topical[-1])
            earlier = [a for a in approved[: task.index] if a is not None]
            copies.append(reviewer.near_copy(text, earlier, names))
    arm = runs[0].arm if runs else "-"
    return [arm, counted(topical), counted(copies), counted(passed_on_topic)]


def rule_row(runs: list[ArmRun]) -> list[object]:
    """One arm: the share of its first drafts (last half) keeping each rule."""
    if not runs:
        return ["-"] * (len(reviewer.RULES) + 2)
    firsts = [t.attempts[0].broken for run in runs for t in halves(run)[1]]
    kept = [counted([rule not in broken for broken in firsts]) for rule in reviewer.RULES]
    return [runs[0].arm, *kept, counted([not broken for broken in firsts])]


def revision_row(runs: list[ArmRun]) -> list[object]:
    """One arm: of the revisions asked for each rule, the share that keep it."""
    asked: dict[str, list[bool]] = {rule: [] for rule in reviewer.RULES}
    for run in runs:
        for task in run.tasks:
            for before, after in itertools.pairwise(task.attempts):
                named = before.broken[0]
                asked[named].append(named not in after.broken)
    return [runs[0].arm if runs else "-", *(counted(asked[rule]) for rule in reviewer.RULES)]


def seed_row(run: ArmRun, off: dict[str, float] | None) -> list[object]:
    """One arm on one seed, as the per-seed table shows it."""
    mine = figures(run)
    first, last = halves(run)
    base = off["first_pass_last"] if off else float("nan")
    decided = [p.decision.split(" ")[0] for p in run.proposals]
    tally = ", ".join(f"{decided.count(d)} {d}" for d in dict.fromkeys(decided)) or "-"
    return [
        run.arm,
        run.seed,
        counted([t.approved_at == 1 for t in last]),
        "-" if run.arm == "off" else points(mine["first_pass_last"], base),
        counted([t.approved_at == 1 for t in first]),
        counted([t.approved_at is not None for t in last]),
        mine["attempts_last"],
        ",".join(reviewer.rules_taught(run.lessons)) or "-",
        tally,
        int(mine["drafts"]),
        round(run.seconds),
    ]


def summary_row(arm: str, runs: list[ArmRun], by: dict[tuple[str, int], ArmRun]) -> list[object]:
    """One arm over every seed: means of per-seed figures, differences against off."""
    if not runs:
        return [arm] + ["n/a"] * 7
    mine = [figures(run) for run in runs]
    offs = [figures(by[("off", run.seed)]) for run in runs if ("off", run.seed) in by]

    def mean(key: str, of: list[dict[str, float]]) -> float:
        values = [f[key] for f in of if f[key] == f[key]]
        return statistics.mean(values) if values else float("nan")

    gain = [
        (f["first_pass_last"] - o["first_pass_last"]) * 100 for f, o in zip(mine, offs, strict=True)
    ]
    ours, base = mean("first_pass_last", mine), mean("first_pass_last", offs)
    verdict = "(ceiling)" if arm == "given" else "-"
    if (ARMS[arm].distill is not None or ARMS[arm].examples) and gain:
        verdict = "met" if statistics.mean(gain) >= TARGET_POINTS else "NOT met"
    return [
        arm,
        percent(ours),
        "-" if arm == "off" else points(ours, base),
        "-" if arm == "off" else " ".join(f"{g:+.0f}" for g in gain),
        percent(mean("first_pass_first", mine)),
        percent(mean("approved_last", mine)),
        mean("attempts_last", mine),
        verdict,
    ]


# -- running ---------------------------------------------------------------------------------


def provider_maker(config: Config) -> Callable[[], Provider]:
    """What drafts: the smoke run's fake, or the named model (through Replay)."""
    if config.smoke:
        return RuleFollower
    from placet.providers.registry import resolve

    settings = dataclasses.replace(load_settings(NO_CONFIG), kinds={})
    model = resolve(config.model, settings)  # one provider (one loaded model) for the run
    return (lambda: Replay(model)) if config.replay else (lambda: model)


def usable(model: str) -> str | None:
    """Why the model cannot be used here (a missing key, model file), or None."""
    from placet.providers.registry import check

    try:
        check(model, load_settings(NO_CONFIG))
    except ConfigError as exc:
        return exc.message
    return None


def run(config: Config, json_path: Path | None = None) -> list[ArmRun]:
    """Every arm on every seed, seed by seed (each seed's arms back to back); the
    figures so far after each seed, so a run stopped on a time box keeps them."""
    make = provider_maker(config)
    runs: list[ArmRun] = []
    for number, seed in enumerate(config.seeds, 1):
        for arm in config.arms:
            runs.append(run_arm(config, arm, seed, make))
        if json_path is not None:
            write_json(runs, json_path)
        if number < len(config.seeds):
            print(f"\n-- after seed {seed} ({number} of {len(config.seeds)}) --")
            report(runs, config)
    return runs


def write_json(runs: list[ArmRun], path: Path) -> None:
    """Every draft, verdict, proposal and lesson, for reading them."""
    path.write_text(json.dumps([dataclasses.asdict(r) for r in runs], indent=1) + "\n")


def read_json(path: Path) -> list[ArmRun]:
    """The runs a --json file holds, every draft judged again by this reviewer (the
    decisions stay as they were made)."""
    runs = []
    for record in json.loads(path.read_text()):
        tasks = [
            TaskOutcome(
                t["index"],
                t["customer"],
                [
                    Attempt(a["text"], reviewer.breaks(a["text"]), a["lessons"])
                    for a in t["attempts"]
                ],
                t["approved_at"],
                t.get("edited", False),
            )
            for t in record["tasks"]
        ]
        proposals = [ProposalOutcome(**p) for p in record["proposals"]]
        runs.append(
            ArmRun(
                record["arm"],
                record["seed"],
                tasks,
                proposals,
                record["lessons"],
                record["seconds"],
            )
        )
    return runs


def rescore(path: Path) -> list[ArmRun]:
    """Report a --json file again (no drafting)."""
    runs = read_json(path)
    seeds = tuple(sorted({run.seed for run in runs}))
    arms = tuple(arm for arm in ARMS if any(run.arm == arm for run in runs))
    report(runs, Config("(saved)", len(runs[0].tasks), seeds, arms))
    return runs


def seed_list(text: str) -> tuple[int, ...]:
    """``3`` is seeds 1, 2, 3; ``2,3`` is seeds 2 and 3."""
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or a list of numbers: {text!r}") from None
    if len(numbers) == 1:
        numbers = list(range(1, numbers[0] + 1))
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("seeds are whole numbers from 1")
    return tuple(dict.fromkeys(numbers))


def arm_list(text: str) -> tuple[str, ...]:
    """Arms by name, comma-separated; off always runs (the baseline of the same run)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ARMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"no arm {unknown[0]!r}: {', '.join(ARMS)}")
    return tuple(arm for arm in ARMS if arm == "off" or arm in names)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__.rsplit("\n\n", 1)[-1],  # the commands
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tasks", type=int, default=40, help="the first N of the 40 tasks")
    parser.add_argument(
        "--seeds",
        type=seed_list,
        default=(1, 2, 3),
        help="N: run seeds 1..N (default 3); or a list, such as 2,3",
    )
    parser.add_argument("--every", type=int, default=8, help="propose lessons every N tasks")
    parser.add_argument("--attempts", type=int, default=3, help="drafts per task at most")
    parser.add_argument(
        "--provider",
        default="local:smollm2",
        help="the model: local:smollm2 (default), or an OpenAI-compatible one such as "
        "groq:llama-3.3-70b-versatile or openai:gpt-4o-mini (skipped without its key)",
    )
    parser.add_argument(
        "--arms",
        type=arm_list,
        default=DEFAULT_ARMS,
        help=f"which arms, comma-separated (default {','.join(DEFAULT_ARMS)}); 'given' has "
        "the four rules as approved lessons from the first task on: what the model does "
        "with perfect lessons",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="no model: a FakeProvider that follows the rules in its prompt (checks the plumbing)",
    )
    parser.add_argument(
        "--out-of-attempts",
        choices=("edit", "reject"),
        default="edit",
        help="what the reviewer does with the last draft that still breaks a rule: fix it "
        "by hand and approve the edit (default; the edit is approved work, an example for "
        "the arms that use examples), or reject it",
    )
    parser.add_argument("--no-replay", action="store_true", help="ask the model every time")
    parser.add_argument("--json", type=Path, help="write every draft and decision here")
    parser.add_argument("--quiet", action="store_true", help="no line per task")
    parser.add_argument("--rescore", type=Path, help="report a --json file again; draft nothing")
    args = parser.parse_args(argv)
    if not 1 <= args.tasks <= len(reviewer.TASKS) or args.every < 1:
        parser.error(f"--tasks 1..{len(reviewer.TASKS)}, --every at least 1")
    if args.attempts < 1:
        parser.error("--attempts at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> list[ArmRun]:
    """Run the bench; the runs (empty when the model cannot be used here)."""
    args = parse(argv)
    if args.rescore:
        return rescore(args.rescore)
    model = "fake:rule-follower" if args.smoke else args.provider
    config = Config(
        model, args.tasks, args.seeds, args.arms, args.every, args.attempts, args.smoke,
        not args.no_replay, not args.quiet, args.out_of_attempts,
    )  # fmt: skip
    if not args.smoke:
        problem = usable(model)
        if problem is not None:
            print(f"learning: skipped {model}: {problem}")
            return []
    print(f"learning: Placet from {SRC}; {machine_info()}")
    print(
        f"model {model}{' (smoke: no model)' if args.smoke else ''}; {config.tasks} tasks, "
        f"seeds {','.join(map(str, config.seeds))}, lessons every {config.every} tasks, "
        f"at most {config.attempts} attempts"
    )
    started = time.monotonic()
    runs = run(config, args.json)
    report(runs, config)
    print(f"\n{len(runs)} runs in {time.monotonic() - started:.0f} s")
    return runs


if __name__ == "__main__":
    main(sys.argv[1:])
