"""The query that lists tasks for a ``TaskFilter``: keyset pages in id order, from indexes.

Tasks are indexed by ``(status, id)`` and ``(kind, status, id)``. A filter on a
kind but no status names every status: with ``status IN (...)`` the planner
walks the ``(kind, status, id)`` ranges in id order and stops at the page size;
with ``kind = ?`` alone it read every task of the kind and sorted them
(0.9 s for a page of one kind among a million tasks on SQLite; 0.7 ms now).

SQLite has no ``(status, id)`` index (migration 0006): a filter on a status but
no kind names every kind present (``statements.EVERY_KIND``), and the same walk
serves it.

A requester's own tasks are indexed by ``(requester, id)``. With a status or a
kind besides, SQLite (which has no statistics to go by) walked the status or
kind index and looked up every task's requester: a page of a rare requester's
approved tasks among a million took 25 s. When the requester has few tasks
(``FEW_OF_A_REQUESTER``, counted first by the store) the status and kind terms
are written so that no index serves them, which leaves the requester's.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from placet.domain.models import TaskStatus
from placet.domain.queries import TaskFilter
from placet.store.statements import EVERY_KIND, TASK_ROW, T

EVERY_STATUS = tuple(status.value for status in TaskStatus)
FEW_OF_A_REQUESTER = 10_000  # reading all of them costs a few ms: less than a wrong walk


def list_query(
    task_filter: TaskFilter, by_requester: bool = False, status_under_kind: bool = False
) -> sa.Select[tuple[object, ...]]:
    """The SELECT of whole task rows the filter names, one page, in its id order.

    ``by_requester``: walk the requester's own tasks (SQLite), the right way
    when the requester has few of them. ``status_under_kind``: the database
    indexes a status only under its kind (SQLite).
    """
    query = sa.select(*TASK_ROW)
    # SQLite reads `+column` as the column, but cannot use an index for it.
    kind_of, status_of = (_unindexed(c) if by_requester else c for c in (T.c.kind, T.c.status))
    statuses = [status.value for status in task_filter.statuses]
    if task_filter.kinds:
        query = query.where(kind_of.in_(task_filter.kinds))
        statuses = statuses or list(EVERY_STATUS)
    if statuses:
        query = query.where(status_of.in_(statuses))
        if status_under_kind and not task_filter.kinds and not by_requester:
            query = query.where(EVERY_KIND)
    if task_filter.requester is not None:
        query = query.where(T.c.requester == task_filter.requester)
    if task_filter.created_after is not None:
        query = query.where(T.c.created_at >= task_filter.created_after)
    if task_filter.created_before is not None:
        query = query.where(T.c.created_at < task_filter.created_before)
    after = task_filter.after_id
    if after is not None:
        query = query.where(T.c.id < after if task_filter.newest_first else T.c.id > after)
    order = T.c.id.desc() if task_filter.newest_first else T.c.id.asc()
    return query.order_by(order).limit(task_filter.limit)


def requester_probe(requester: str) -> sa.Select[int]:
    """How many tasks the requester has, counted up to just past ``FEW_OF_A_REQUESTER``."""
    mine = sa.select(sa.literal(1)).where(T.c.requester == requester)
    capped = mine.limit(FEW_OF_A_REQUESTER + 1).subquery()
    return sa.select(sa.func.count()).select_from(capped)


def requester_besides(task_filter: TaskFilter) -> str | None:
    """The filter's requester, when it names something else an index could walk too."""
    return task_filter.requester if task_filter.statuses or task_filter.kinds else None


def _unindexed(column: sa.Column[str]) -> sa.ColumnElement[str]:
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)
