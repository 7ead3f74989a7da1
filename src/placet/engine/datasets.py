"""Exporting datasets of a kind's reviewed work (``placet export``).

The rows themselves are made in ``placet.domain.datasets``; this walks the kind's
tasks in id order, a keyset page at a time through the store's listing, reads
the detail of each task that can give rows, masks what the supervisor's
scanners find when asked, and hands each new line to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from placet.domain.datasets import (
    NOT_APPROVED,
    STRUCTURAL,
    Dataset,
    DatasetQuery,
    Tally,
    jsonl_line,
    rows_of,
)
from placet.domain.models import JsonObject, Task, TaskStatus
from placet.domain.queries import TaskFilter
from placet.engine.core import Engine
from placet.engine.supervising import redacted
from placet.errors import UnknownKindError

PAGE = 200  # tasks listed at a time; each task's detail is read on its own
Tick = Callable[[], None]  # called once per task gone through: progress for the caller


def _noop() -> None:
    return None


def check_kind(engine: Engine, kind: str) -> None:
    """Refuse a kind that is neither configured nor found among the stored tasks."""
    stored = {name for name, _status in engine.count_by_status()}
    if kind in stored or kind in engine.kinds:
        return
    known = ", ".join(sorted(stored | set(engine.kinds))) or "none"
    raise UnknownKindError(f"unknown task kind {kind!r}; known kinds: {known}")


def task_count(engine: Engine, kind: str) -> int:
    """How many tasks of the kind an export goes through."""
    return sum(n for (name, _status), n in engine.count_by_status().items() if name == kind)


def kind_tasks(engine: Engine, kind: str) -> Iterator[Task]:
    """Every task of the kind, oldest id first, a keyset page at a time."""
    after: str | None = None
    while True:
        page = engine.list_tasks(TaskFilter(kinds=(kind,), after_id=after, limit=PAGE))
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].id


def dataset_lines(
    engine: Engine, query: DatasetQuery, tally: Tally, tick: Tick = _noop
) -> Iterator[str]:
    """Each new line of the dataset, in task-id order; ``tally`` counts what was left out."""
    check_kind(engine, query.kind)
    needs_approval = query.dataset is not Dataset.FEEDBACK
    for task in kind_tasks(engine, query.kind):
        if needs_approval and task.status is not TaskStatus.APPROVED:
            tally.drop(NOT_APPROVED)  # known from the task row: no detail to read
        else:
            for row in rows_of(engine.detail(task.id), query, tally):
                line = jsonl_line(_masked(row) if query.redact else row)
                if tally.keep(line):
                    yield line
        tick()


def _masked(row: JsonObject) -> JsonObject:
    """The row with every span the scanners find masked, in all but its ids, names of
    things and times."""
    return {key: value if key in STRUCTURAL else redacted(value) for key, value in row.items()}


def export_dataset(
    engine: Engine, query: DatasetQuery, write: Callable[[str], object], tick: Tick = _noop
) -> Tally:
    """Write the dataset as JSON Lines through ``write``; return what was written and dropped."""
    tally = Tally(query.dataset)
    for line in dataset_lines(engine, query, tally, tick):
        write(line + "\n")
    return tally
