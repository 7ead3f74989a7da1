"""Examples from approved work: the ones a draft is made with, and "not an example".

A kind with ``learn = { examples = N }`` has, in every draft's prompt, the N
approved tasks of the kind whose inputs are most like this one's (the store's
full-text search, store/examples.py), each as the request and the text people
approved. A task is searchable from the moment it is approved: the approving
change carries its example row (``with_example``), so the row commits with the
approval. A kind that starts using examples later has its earlier approved
tasks added the first time this process drafts for it (``Store.index_examples``).

Whoever may decide a kind's drafts (or an admin) may mark an approved task
"not an example", and undo it: a chained event on the task, whose change
carries the mark to the task's example row in the same transaction.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from placet.domain import examples
from placet.domain.examples import ExampleEntry, Mark
from placet.domain.fastinit import evolve
from placet.domain.learning import MAX_EXAMPLES, LearnedExample
from placet.domain.models import Task, TaskKind, TaskStatus
from placet.domain.policy import Permission, Principal
from placet.domain.prompts import render_template
from placet.errors import InvalidInputError, PermissionDeniedError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from placet.domain.changes import Change
    from placet.engine.core import Engine

APPROVED = TaskStatus.APPROVED
# Found beyond the N wanted: an example whose input no longer fills the kind's
# template (the template changed since) is left out, and the next one taken.
SPARE = 2


def with_example(change: Change, kinds: Mapping[str, TaskKind]) -> Change:
    """The change with the example row it writes: an approval of a task of a kind that
    uses examples adds it, a mark on an approved task sets it. Else the change as it is."""
    task = change.task
    if task.status is not APPROVED:
        return change  # nearly every change: nothing more to look at
    if change.expected_status is not APPROVED:  # this change approves it
        kind = kinds.get(task.kind)
        if kind is None or kind.learn.examples <= 0:
            return change
        return evolve(change, example=examples.entry_for(task, ()))
    if change.event.type in examples.MARKS:
        excluded = change.event.type == examples.NOT_AN_EXAMPLE
        body = examples.example_text(task.input)
        return evolve(change, example=ExampleEntry(task.id, task.kind, body, excluded))
    return change


class Examples:
    """Finding examples for drafts, and marking approved tasks, for one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._indexed: set[str] = set()  # kinds whose earlier approved tasks have their rows
        self._lock = threading.Lock()

    def for_task(self, kind: TaskKind, task: Task) -> tuple[LearnedExample, ...]:
        """The approved work of the kind most like this task, as many as ``learn.examples``:
        each with the text people approved (an edited draft as edited)."""
        wanted = min(kind.learn.examples, MAX_EXAMPLES)
        if wanted <= 0:
            return ()
        self._index_earlier(kind.name)
        terms = examples.search_terms(task.input)
        found = self._engine.store.similar_examples(kind.name, terms, wanted + SPARE, task.id)
        usable = [
            LearnedExample(earlier.id, earlier.input, earlier.final_output)
            for earlier in found
            if earlier.final_output is not None and _fills(kind, earlier)
        ]
        return tuple(usable[:wanted])

    def _index_earlier(self, kind_name: str) -> None:
        with self._lock:
            if kind_name in self._indexed:
                return
        self._engine.store.index_examples(kind_name)
        with self._lock:
            self._indexed.add(kind_name)

    def mark(self, principal: Principal, task_id: str, example: bool) -> bool:
        """Mark an approved task "not an example" (``example`` False), or undo that (True).

        Recorded as an event on the task, with who marked it. False when the task
        already was so (nothing is recorded); InvalidInputError when it is not approved.
        """
        task = self._engine.get(task_id)
        self._check_may_mark(principal, task)
        if task.status is not APPROVED:
            raise InvalidInputError(
                f"task {task.id} is {task.status.value}: only approved work is an example"
            )
        if examples.is_excluded(self._engine.task_events(task.id)) is not example:
            return False
        event = examples.EXAMPLE_AGAIN if example else examples.NOT_AN_EXAMPLE
        self._engine.record(task.id, principal.name, event, {})
        return True

    def mark_of(self, task_id: str) -> Mark | None:
        """The task's latest mark (who marked it, when), or None when never marked."""
        return examples.mark_of(self._engine.task_events(task_id))

    def may_mark(self, principal: Principal, kind_name: str) -> bool:
        """True when this person may mark the kind's approved work as an example or not."""
        return self._refusal(principal, kind_name) is None

    def _check_may_mark(self, principal: Principal, task: Task) -> None:
        """Refuse, and record the refusal in the security log as a refused decision is."""
        refusal = self._refusal(principal, task.kind)
        if refusal is None:
            return
        who = principal.name if principal.entered_by is None else principal.entered_by
        detail = f"{refusal} (through the {principal.channel})"
        self._engine.accounts.record(
            who, "mark_example", "refused", task.id, detail, principal.remote
        )
        raise PermissionDeniedError(f"{refusal}; nothing was changed")

    def _refusal(self, principal: Principal, kind_name: str) -> str | None:
        """Those who may decide the kind's drafts (or admins) say what is an example of it."""
        if principal.has(Permission.MANAGE_USERS):
            return None
        if not principal.has(Permission.DECIDE):
            return (
                f"{principal.name} may not mark work of {kind_name} as an example or not: "
                "its reviewers and admins may"
            )
        if not self._engine.reviewer_lists.allows(principal.name, kind_name):
            return (
                f"{principal.name} is not a reviewer of {kind_name}: only its reviewers "
                "(or an admin) mark its approved work as an example or not"
            )
        return None


def _fills(kind: TaskKind, earlier: Task) -> bool:
    """True when the earlier task's input still fills the kind's template."""
    try:
        render_template(kind.template, earlier.input)
    except InvalidInputError:
        return False
    return True
