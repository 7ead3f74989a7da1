"""What each kind learned from its reviewers: lessons people approved, and examples.

Lessons live in the audit chain, not beside it: a kind's active lessons are the
lines of its approved ``lessons:KIND`` proposals (domain/lessons.py), less those
retired by a later event on the same task. They are read from the store when a
draft is made (kept for LESSONS_FRESH_SECONDS, so every process sees a decision
within that time, and this process at once).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from placet.domain import lessons
from placet.domain.learning import MAX_LESSONS, LearnedExample
from placet.domain.lessons import Said
from placet.domain.models import Task, TaskKind, TaskStatus
from placet.domain.policy import Permission, Principal
from placet.domain.queries import TaskFilter
from placet.errors import InvalidInputError, NotFoundError, PermissionDeniedError

if TYPE_CHECKING:
    from placet.engine.core import Engine

LESSONS_FRESH_SECONDS = 1.0  # how long another process's lesson decision may take to apply
PAGE = 200
TASKS_READ_FOR_FEEDBACK = 300  # the latest tasks of a kind a proposal reads feedback from


@dataclass(frozen=True)
class Lesson:
    """One lesson of a kind: its text, the proposal that approved it, and whether it is in use."""

    number: int
    text: str
    task_id: str
    approved_by: str
    approved_at: float
    active: bool = True
    retired_by: str | None = None


class Learner:
    """The lessons and examples of every kind, for one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._fresh: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._proposed_round: dict[str, int] = {}  # learn.every: the round last proposed
        self._lock = threading.Lock()

    # -- lessons in use -------------------------------------------------------------------

    def active_lessons(self, kind_name: str) -> tuple[str, ...]:
        """The lessons a draft of this kind is made with: the latest MAX_LESSONS approved
        and not retired, in the order they were approved."""
        if lessons.learner_of(kind_name) is not None:
            return ()  # proposals are made from feedback, not taught by earlier lessons
        now = time.monotonic()
        with self._lock:
            known = self._fresh.get(kind_name)
        if known is not None and known[0] > now:
            return known[1]
        found = tuple(lesson.text for lesson in self.lessons(kind_name) if lesson.active)
        found = found[-MAX_LESSONS:]
        with self._lock:
            self._fresh[kind_name] = (now + LESSONS_FRESH_SECONDS, found)
        return found

    def forget(self, kind_name: str) -> None:
        """Read the kind's lessons again on the next draft (a lesson decision was made here)."""
        with self._lock:
            self._fresh.pop(kind_name, None)

    def lessons(self, kind_name: str) -> list[Lesson]:
        """Every lesson the kind was taught, active or retired, in the order approved."""
        taught: list[Lesson] = []
        seen: set[str] = set()
        for task in self._approved_proposals(kind_name):
            taught += self._lessons_of(task, len(taught), seen)
        return taught

    def _approved_proposals(self, kind_name: str) -> list[Task]:
        wanted = TaskFilter(
            statuses=(TaskStatus.APPROVED,), kinds=(lessons.name_for(kind_name),), limit=PAGE
        )
        return sorted(self._pages(wanted), key=lambda task: (task.updated_at, task.id))

    def _pages(self, wanted: TaskFilter) -> Iterator[Task]:
        """Every task the filter lists, a page of ``wanted.limit`` at a time (keyset)."""
        while True:
            page = self._engine.store.list_tasks(wanted)
            yield from page
            if len(page) < wanted.limit:
                return
            wanted = replace(wanted, after_id=page[-1].id)

    def _lessons_of(self, task: Task, count: int, seen: set[str]) -> list[Lesson]:
        events = self._engine.store.events(task.id)
        approved = [e for e in events if e.payload.get("kind") in ("approve", "edit")]
        by, at = (approved[-1].actor, approved[-1].created_at) if approved else ("", 0.0)
        retired: dict[str, str | None] = {}
        for event in events:
            text = str(event.payload.get("lesson", ""))
            if event.type == lessons.RETIRED:
                retired[text] = event.actor
            elif event.type == lessons.RESTORED:
                retired.pop(text, None)
        found: list[Lesson] = []
        for text in lessons.proposed(task.final_output or "", ()):
            if text.lower() in seen:
                continue  # taught before, by an earlier proposal
            seen.add(text.lower())
            number = count + len(found) + 1
            gone = text in retired
            found.append(Lesson(number, text, task.id, by, at, not gone, retired.get(text)))
        return found

    # -- proposing --------------------------------------------------------------------------

    def propose_as(self, principal: Principal, kind_name: str) -> Task:
        """``placet learn``: a person asks for a lesson proposal (those who may submit or
        decide tasks; the proposal is theirs, so in a team another person decides it)."""
        if not (principal.has(Permission.SUBMIT) or principal.has(Permission.DECIDE)):
            raise PermissionDeniedError(f"{principal.name} may not ask for lessons")
        return self.propose(kind_name, principal.name)

    def propose(self, kind_name: str, requester: str, key: str | None = None) -> Task:
        """Submit a lesson proposal for a kind, from its reviewers' latest feedback, edits and
        rejection reasons; a person decides it like any draft. InvalidInputError when there
        is nothing to learn from yet."""
        kind = self._engine.kind(kind_name)
        if lessons.learner_of(kind.name) is not None:
            raise InvalidInputError(
                f"{kind.name} holds lesson proposals; lessons are learned for the kind "
                f"{lessons.learner_of(kind.name)}"
            )
        said = [item for task in self._recent(kind.name) for item in self._said_on(task)]
        if not said:
            raise InvalidInputError(
                f"nothing to learn from yet: no revision feedback, edits or rejection reasons "
                f"on drafts of {kind.name}"
            )
        active = self.active_lessons(kind.name)
        values: dict[str, object] = dict(lessons.proposal_input(kind.name, said, active))
        name = lessons.name_for(kind.name)
        if kind.learn.distill == "feedback":  # Placet writes the proposal: no model
            text = lessons.from_feedback(said, active)
            if text == lessons.NOTHING_NEW:  # nothing for a person to decide
                raise InvalidInputError(
                    f"nothing new to learn for {kind.name}: every instruction its reviewers "
                    "gave is already a lesson in use"
                )
            return self._engine.propose(name, values, requester, text, key)
        return self._engine.submit(name, values, requester, key)

    def _recent(self, kind_name: str) -> Iterator[Task]:
        newest = TaskFilter(kinds=(kind_name,), limit=PAGE, newest_first=True)
        return itertools.islice(self._pages(newest), TASKS_READ_FOR_FEEDBACK)

    def _said_on(self, task: Task) -> list[Said]:
        return lessons.said_in(self._engine.store.decisions(task.id))

    def after_decision(self, task: Task) -> Task | None:
        """Propose lessons when a kind with ``learn.every`` reaches its next round of
        decisions (once, whichever process sees it: the round is the proposal's key)."""
        if lessons.learner_of(task.kind) is not None:
            self.forget(lessons.learner_of(task.kind) or "")
            return None
        kind = self._engine.kinds.get(task.kind)
        if kind is None or kind.learn.every is None:
            return None
        count = self._engine.store.count_decisions(kind.name)
        round_ = count // kind.learn.every
        with self._lock:
            if round_ < 1 or self._proposed_round.get(kind.name, 0) >= round_:
                return None
        key = f"learn:{kind.name}:{round_}"  # one proposal a round, whoever sees it first
        try:
            made: Task | None = self.propose(kind.name, f"learning:{kind.name}", key)
        except InvalidInputError:
            made = None  # every decision of the round was an approval: nothing to learn
        with self._lock:
            self._proposed_round[kind.name] = round_
        return made

    # -- retiring and restoring ---------------------------------------------------------

    def retire(self, principal: Principal, kind_name: str, number: int) -> Lesson:
        """Stop using a lesson (it stays in the record, and can be restored)."""
        return self._mark(principal, kind_name, number, lessons.RETIRED, active=True)

    def restore(self, principal: Principal, kind_name: str, number: int) -> Lesson:
        """Use a retired lesson again."""
        return self._mark(principal, kind_name, number, lessons.RESTORED, active=False)

    def _mark(
        self, principal: Principal, kind_name: str, number: int, event: str, active: bool
    ) -> Lesson:
        kind = self._engine.kind(kind_name)
        self._check_may_teach(principal, kind)
        taught = {lesson.number: lesson for lesson in self.lessons(kind.name)}
        lesson = taught.get(number)
        if lesson is None:
            raise NotFoundError(f"{kind.name} has no lesson {number} (placet lessons {kind.name})")
        if lesson.active is not active:
            state = "in use" if lesson.active else "retired"
            raise InvalidInputError(f"lesson {number} of {kind.name} is already {state}")
        self._engine.record(lesson.task_id, principal.name, event, {"lesson": lesson.text})
        self.forget(kind.name)
        return self.lessons(kind.name)[number - 1]

    def _check_may_teach(self, principal: Principal, kind: TaskKind) -> None:
        """Those who may decide the kind's drafts (or admins) retire and restore its lessons."""
        if not principal.has(Permission.DECIDE):
            raise PermissionDeniedError(
                f"{principal.name} may not change the lessons of {kind.name}: reviewers and "
                "admins may"
            )
        admin = principal.has(Permission.MANAGE_USERS)
        if not admin and not self._engine.reviewer_lists.allows(principal.name, kind.name):
            raise PermissionDeniedError(
                f"{principal.name} is not a reviewer of {kind.name}: only its reviewers "
                "(or an admin) change its lessons"
            )

    # -- examples -------------------------------------------------------------------------

    def examples_for(self, kind: TaskKind, task: Task) -> tuple[LearnedExample, ...]:
        """The approved work of the kind most like this task (``learn.examples``)."""
        return self._engine.examples.for_task(kind, task)
