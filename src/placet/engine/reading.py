"""What interfaces read through the engine: tasks, drafts, events, counts, and changes.

The engine is the only door to state for the CLI, the web, the channels, the
SDK and the integrations; these are its reading and waiting methods. Each is
a thin pass to the store, kept here so that no interface holds the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from placet.domain import audit
from placet.domain.examples import ExampleEntry
from placet.domain.ids import ID_LENGTH, IdPart, id_part
from placet.domain.models import Draft, Event, Task, TaskDetail, TaskStatus
from placet.domain.paces import PaceRow
from placet.domain.queries import TaskFilter
from placet.engine.auditlog import AuditLog
from placet.errors import AmbiguousIdError, NotFoundError
from placet.store.base import Store
from placet.store.deliveries import DeliveryStore
from placet.store.links import LinkStore
from placet.store.notifications import NotificationStore
from placet.store.slack_posts import SlackPostStore

CANDIDATES_SHOWN = 5  # tasks an ambiguous id names in its error; enough to pick from


def _none_named(part: IdPart) -> str:
    if part.may_be_whole and len(part.text) >= ID_LENGTH:
        return f"no task with id {part.text}"
    sides = {(True, True): "starts or ends", (True, False): "starts", (False, True): "ends"}
    return (
        f"no task with id {part.text}, nor one whose id "
        f"{sides[part.may_be_start, part.may_be_end]} with it"
    )


class Reads:
    """Reading and waiting; mixed into ``Engine``, which sets ``store``."""

    store: Store
    audit_chain: audit.ChainHash  # how this engine's events are hashed (keyed or not)
    audit_log: AuditLog  # the global log over every task's events

    def get(self, task_id: str) -> Task:
        """The task, or NotFoundError."""
        return self.store.get_task(task_id)

    def resolve_task_id(self, typed: str) -> str:
        """The id of the one task ``typed`` names: its whole id, or the start or end of it.

        ``01JD…`` is only a start and ``…7Q2K`` (as the dashboard shows ids) only
        an end; plain text is tried as a start first. A start is what people type
        and costs an index range; an end reads every id, so it is tried only when
        no id starts with the text. NotFoundError when none matches,
        AmbiguousIdError (naming some of them) when several do.
        """
        part = id_part(typed)
        if not part.text:
            raise NotFoundError(f"no task with id {typed.strip()!r}")
        found, where = self._ids_with_part(part)
        if part.may_be_whole and part.text in found:
            return part.text  # a whole id wins over longer ids that start with it
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFoundError(_none_named(part))
        shown = "; ".join(self._candidate(task_id) for task_id in found[:CANDIDATES_SHOWN])
        more = "; and more" if len(found) > CANDIDATES_SHOWN else ""
        raise AmbiguousIdError(
            f"{part.text} is the {where} of more than one task id: {shown}{more}. "
            "Give more of the id"
        )

    def _ids_with_part(self, part: IdPart) -> tuple[list[str], str]:
        """Up to one more id than is shown, and whether they start or end with the text."""
        if part.may_be_start:
            found = self.store.task_ids_starting_with(part.text, CANDIDATES_SHOWN + 1)
            if found:
                return found, "start"
        if part.may_be_end and len(part.text) < ID_LENGTH:
            return self.store.task_ids_ending_with(part.text, CANDIDATES_SHOWN + 1), "end"
        return [], ""

    def _candidate(self, task_id: str) -> str:
        task = self.store.get_task(task_id)
        return f"{task.id} ({task.kind}, {task.status.value})"

    def get_draft(self, draft_id: str) -> Draft:
        """The draft, or NotFoundError."""
        return self.store.get_draft(draft_id)

    def detail(self, task_id: str) -> TaskDetail:
        """The task with its drafts, decisions and events."""
        return self.store.detail(task_id)

    def list_tasks(self, task_filter: TaskFilter) -> list[Task]:
        """Tasks matching a filter."""
        return self.store.list_tasks(task_filter)

    def iter_tasks(self) -> Iterator[Task]:
        """Every task, oldest first."""
        return self.store.iter_tasks()

    def task_events(self, task_id: str) -> list[Event]:
        """One task's events, in order."""
        return self.store.events(task_id)

    def events(self, task_ids: Iterable[str]) -> dict[str, list[Event]]:
        """The events of each task."""
        return {task_id: self.store.events(task_id) for task_id in task_ids}

    def example_entry(self, task_id: str) -> ExampleEntry | None:
        """The task's example row (domain/examples.py), or None when it has none."""
        return self.store.example_entry(task_id)

    def examples_index_problems(self) -> list[str]:
        """Where the examples' full-text index differs from their rows, in words."""
        return self.store.examples_index_problems()

    def count_by_status(self) -> dict[tuple[str, TaskStatus], int]:
        """How many tasks there are of each kind in each status."""
        return self.store.count_by_status()

    def deliveries(self) -> DeliveryStore:
        """Outcome handlers' registrations and deliveries, beside the tasks."""
        return self.store.deliveries()

    def notifications(self) -> NotificationStore:
        """The notifications outbox and the channels' health, beside the tasks."""
        return self.store.notifications()

    def links(self) -> LinkStore:
        """Accounts' e-mail addresses and the signed links used, beside the tasks."""
        return self.store.links()

    def slack_posts(self) -> SlackPostStore:
        """The Slack messages posted about each task, beside the tasks."""
        return self.store.slack_posts()

    def provider_paces(self, within_seconds: float) -> list[PaceRow]:
        """Each worker's pace against each hosted API, as written in the last
        ``within_seconds`` (a worker writes it every few seconds while it drafts)."""
        return self.store.paces().since(time.time() - within_seconds)

    def change_token(self) -> int:
        """A value that changes whenever anything is committed (read it before reading state)."""
        return self.store.change_token()

    def wait_for_change(self, token: int, timeout: float) -> int:
        """Block cheaply until something is committed after ``token``, or time runs out."""
        return self.store.wait_for_change(token, timeout)

    def wait(self, task_id: str, until: Callable[[Task], bool], timeout: float | None) -> Task:
        """Block, at next to no cost, until ``until(task)`` holds or the timeout passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        token = self.store.change_token()  # read before the task, so no commit slips by
        task = self.store.get_task(task_id)
        while not until(task):
            remaining = 1.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return task
            token = self.store.wait_for_change(token, min(remaining, 1.0))
            task = self.store.get_task(task_id)
        return task
