"""What the task page shows of a typed kind: the choices to pick from, one key each, with
the model's proposal marked. Values come from model output: the template escapes them."""

from __future__ import annotations

from typing import Any

from placet.domain import typed
from placet.domain.models import Draft, TaskKind
from placet.domain.typed import InvalidObjectError

MAX_CHOICE_KEYS = 9  # keys 1-9; a kind's further choices are picked with the mouse


def choice_context(kind: TaskKind | None, draft: Draft | None) -> dict[str, Any]:
    """The choices of the task's kind and the draft's proposal (none for a free-text kind)."""
    if kind is None or not kind.choices or draft is None:
        return {"choices": (), "proposed": (), "proposed_reason": None, "multiple": False}
    try:
        value = typed.read_object(draft.output, typed.draft_schema_of(kind))
    except InvalidObjectError:
        value = {}
    picked = value.get(typed.CHOICE, ())
    proposed = (picked,) if isinstance(picked, str) else tuple(picked)
    return {
        "choices": [
            (choice, str(n) if n <= MAX_CHOICE_KEYS else "")
            for n, choice in enumerate(kind.choices, 1)
        ],
        "proposed": proposed,
        "proposed_reason": value.get(typed.REASON),
        "multiple": kind.multiple,
    }
