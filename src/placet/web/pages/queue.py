"""The review queue: what awaits me, with filters and counts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from placet.domain import holds
from placet.domain.models import Task, TaskStatus
from placet.domain.policy import Permission
from placet.domain.queries import TaskFilter
from placet.domain.supervision import HIGH_RISK, READING_FLAGS, RISK_OF_TYPE
from placet.web.pages.common import SAFE_ID, Viewer, ViewerDep, fragment, notice_for, page

PAGE_SIZE = 50
# Views of what waits: past a reminder or escalation, and escalated to the viewer.
VIEWS = {"overdue": "Overdue", "escalated": "Escalated to me"}
FLAG_NAMES = (*sorted(RISK_OF_TYPE), *READING_FLAGS)  # what the queue's filter offers
FLAG_NAME = re.compile(r"^[a-z_]{1,40}$")  # a supervisor flag, as the filter takes it
MAX_SCAN = 1000  # tasks looked at to fill one page of "what awaits me"

router = APIRouter()


@dataclass(frozen=True)
class QueueQuery:
    """What the queue page shows: status, kind, order, and where the page starts."""

    status: TaskStatus | None = TaskStatus.AWAITING_REVIEW
    kind: str | None = None
    newest: bool = False
    after: str | None = None
    view: str = ""  # "overdue" or "escalated" (to me): waiting tasks only
    flag: str = ""  # only tasks whose current draft the supervisor flagged so

    @classmethod
    def parse(
        cls,
        status: str,
        kind: str,
        sort: str,
        after: str,
        kinds: list[str],
        view: str = "",
        flag: str = "",
    ) -> QueueQuery:
        """Read the query string; unknown values fall back to the defaults, never an error."""
        chosen: TaskStatus | None = TaskStatus.AWAITING_REVIEW
        if status == "all":
            chosen = None
        elif status in {s.value for s in TaskStatus}:
            chosen = TaskStatus(status)
        view = view if view in VIEWS else ""
        return cls(
            TaskStatus.AWAITING_REVIEW if view else chosen,
            kind if kind in kinds else None,
            sort == "newest",
            after if SAFE_ID.match(after) else None,
            view,
            flag if FLAG_NAME.match(flag) else "",
        )

    def params(self, **changes: Any) -> str:
        """The query string for this view, with some values changed."""
        values = {
            "status": self.status.value if self.status else "all",
            "kind": self.kind or "",
            "sort": "newest" if self.newest else "oldest",
            "after": self.after or "",
            "view": self.view,
            "flag": self.flag,
        }
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value})


@dataclass
class QueuePage:
    """One page of the queue."""

    rows: list[Task] = field(default_factory=list)
    next_after: str | None = None
    skipped: int = 0  # awaiting tasks hidden because this viewer may not decide them
    held: int = 0  # awaiting tasks hidden because someone else is reviewing them


def _keep_rule(viewer: Viewer, query: QueueQuery) -> Callable[[Task], bool] | None:
    principal, engine = viewer.principal, viewer.services.engine
    if not principal.has(Permission.VIEW_QUEUE):
        return lambda task: task.requester == principal.name  # a requester sees their own
    if query.view == "overdue":
        return engine.overdue
    if query.view == "escalated":
        return lambda task: engine.escalated_to(principal, task)
    if query.status is TaskStatus.AWAITING_REVIEW and principal.has(Permission.DECIDE):
        return lambda task: engine.may_decide(principal, task).allowed
    return None


def _held_rule(viewer: Viewer, query: QueueQuery) -> Callable[[Task], bool]:
    """What awaits me skips what someone else is reviewing (domain/holds.py)."""
    if query.status is not TaskStatus.AWAITING_REVIEW or query.view == "overdue":
        return lambda task: False
    name, now = viewer.name, time.time()
    return lambda task: holds.held_by_other(task, name, now) is not None


def load_queue(viewer: Viewer, query: QueueQuery) -> QueuePage:
    """Fill one page, skipping tasks this viewer should not see here."""
    keep, held_by_other = _keep_rule(viewer, query), _held_rule(viewer, query)
    result, after, scanned = QueuePage(), query.after, 0
    while scanned < MAX_SCAN:
        batch = viewer.services.engine.list_tasks(
            TaskFilter(
                statuses=(query.status,) if query.status else (),
                after_id=after,
                kinds=(query.kind,) if query.kind else (),
                newest_first=query.newest,
                limit=PAGE_SIZE + 1 if keep is None else 200,
            )
        )
        for task in batch:
            scanned += 1
            if len(result.rows) == PAGE_SIZE:
                result.next_after = result.rows[-1].id
                return result
            if query.flag and query.flag not in (task.flags or "").split(","):
                continue  # not what was asked for: not counted as hidden either
            if keep is not None and not keep(task):
                result.skipped += 1
            elif held_by_other(task):
                result.held += 1
            else:
                result.rows.append(task)
        if len(batch) < (PAGE_SIZE + 1 if keep is None else 200):
            return result
        after = batch[-1].id
    result.next_after = after
    return result


def _counts(viewer: Viewer) -> dict[str, Any]:
    raw = viewer.services.counts()  # shared, may be a second or two old: see web/counts.py
    kinds = sorted({kind for kind, _ in raw} | set(viewer.services.engine.settings.kinds))
    by_status = {
        status.value: sum(n for (_, s), n in raw.items() if s is status) for status in TaskStatus
    }
    return {
        "kinds": kinds,
        "cells": {(k, s.value): n for (k, s), n in raw.items()},
        "by_status": by_status,
        "statuses": [s.value for s in TaskStatus],
    }


def _queue_context(
    viewer: Viewer, status: str, kind: str, sort: str, after: str, view: str = "", flag: str = ""
) -> dict[str, Any]:
    kinds = sorted(viewer.services.engine.settings.kinds)
    if not status and not viewer.can("view_queue"):
        status = "all"  # a requester follows their own tasks in every state
    query = QueueQuery.parse(status, kind, sort, after, kinds, view, flag)
    counts = _counts(viewer) if viewer.can("view_queue") else None
    decides, engine = viewer.principal, viewer.services.engine
    return {
        "query": query,
        "queue": load_queue(viewer, query),
        "counts": counts,
        "kinds": kinds,
        "page": "queue",
        "may_decide": lambda task: engine.may_decide(decides, task).allowed,
        "hold_of": engine.hold_of,
        "route_of": engine.route_of,
        "views": VIEWS,
        "flag_names": FLAG_NAMES,
        "high_risk": HIGH_RISK,
    }


@router.get("/")
def queue_page(
    viewer: ViewerDep,
    status: str = "",
    kind: str = "",
    sort: str = "",
    after: str = "",
    done: str = "",
    task: str = "",
    view: str = "",
    flag: str = "",
) -> HTMLResponse:
    """What awaits me, with filters and counts; live through the script."""
    context = _queue_context(viewer, status, kind, sort, after, view, flag)
    return page("queue.html", viewer, title="Queue", notice=notice_for(done, task), **context)


@router.get("/queue/rows")
def queue_rows(
    viewer: ViewerDep,
    status: str = "",
    kind: str = "",
    sort: str = "",
    after: str = "",
    view: str = "",
    flag: str = "",
) -> HTMLResponse:
    """The live part of the queue page, for the script to swap in."""
    context = _queue_context(viewer, status, kind, sort, after, view, flag)
    return fragment("_queue_live.html", viewer, **context)
