"""The REST API's examples from approved work: is an approved task one, and marking it not.

A kind with ``learn.examples`` puts earlier approved tasks into its prompts
(engine/examples.py). Whoever may decide the kind (or an admin) marks an
approved task "not an example" (DELETE) or undoes it (POST); either is
recorded on the task's audit trail. Asking for what already holds changes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from placet.domain.models import TaskStatus
from placet.errors import InvalidInputError
from placet.web.api.common import WRITE_ERRORS, Caller, Svc, TaskId, errors, visible_task
from placet.web.api.schemas import ExampleOut

router = APIRouter()


@router.get(
    "/tasks/{task_id}/example",
    response_model=ExampleOut,
    tags=["tasks"],
    summary="Whether an approved task is an example for its kind's later drafts",
    responses=errors(401, 403, 404, 422, 503),
)
def example(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> ExampleOut:
    """Whether it is an example, or was marked "not an example", and by whom."""
    task = visible_task(request, svc, who, task_id)
    if task.status is not TaskStatus.APPROVED:
        raise InvalidInputError(
            f"task {task.id} is {task.status.value}: only approved work is an example"
        )
    return ExampleOut.of(task.id, svc.engine.task_events(task.id))


@router.delete(
    "/tasks/{task_id}/example",
    response_model=ExampleOut,
    tags=["tasks"],
    summary='Mark an approved task "not an example"',
    responses=WRITE_ERRORS,
)
def not_an_example(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> ExampleOut:
    """Its kind's later drafts are no longer shown it as an example (recorded on its trail)."""
    task = visible_task(request, svc, who, task_id)
    svc.engine.examples.mark(who, task.id, example=False)
    return ExampleOut.of(task.id, svc.engine.task_events(task.id))


@router.post(
    "/tasks/{task_id}/example",
    response_model=ExampleOut,
    tags=["tasks"],
    summary='Undo "not an example": the approved task may be an example again',
    responses=WRITE_ERRORS,
)
def an_example_again(task_id: TaskId, request: Request, svc: Svc, who: Caller) -> ExampleOut:
    """Its kind's later drafts may be shown it as an example again (recorded on its trail)."""
    task = visible_task(request, svc, who, task_id)
    svc.engine.examples.mark(who, task.id, example=True)
    return ExampleOut.of(task.id, svc.engine.task_events(task.id))
