"""The audit page: hash chains verified, and who did what."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from placet.domain.policy import Permission
from placet.domain.queries import TaskFilter
from placet.engine.auditing import verify_store
from placet.web.pages.common import ViewerDep, check, page

AUDIT_TASKS = 500  # newest tasks whose chains /audit verifies unless asked for all

router = APIRouter()


@router.get("/audit")
def audit_page(
    request: Request, viewer: ViewerDep, person: str = "", scope: str = ""
) -> HTMLResponse:
    """Verify the hash chains and list who did what, filterable by person."""
    check(request, viewer, Permission.VIEW_QUEUE)
    store = viewer.services.engine
    newest = store.list_tasks(TaskFilter(limit=AUDIT_TASKS, newest_first=True))
    report = verify_store(store, None if scope == "all" else [t.id for t in newest])
    person = person.strip()[:200]
    events = [
        (task, event)
        for task in newest[:200]
        for event in store.task_events(task.id)
        if not person or event.actor == person
    ]
    events.sort(key=lambda pair: (pair[1].created_at, pair[1].seq), reverse=True)
    return page(
        "audit.html",
        viewer,
        title="Audit",
        page="audit",
        report=report,
        person=person,
        scope=scope,
        events=events[:200],
        people=viewer.services.accounts.users(),
        security=viewer.services.accounts.security_events(person or None),
    )
