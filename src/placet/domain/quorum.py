"""Quorum: a kind that needs ``approvals = k`` distinct people to approve the same text. Pure.

The rules, in one place (README "Who decides" says the same):

* an approval counts once per person, for the text it approved: the draft's
  output, or the text of the latest edit of that draft;
* an edit is its editor's approval of the new text; approvals of the earlier
  text no longer count, and the others then approve the edited text;
* a reject by anyone eligible ends the task at once; a revision request sends
  it back for a new draft, and the approvals of the old draft go with it;
* the requester never counts (``policy.may_decide`` refuses them), and nothing
  is approved until the count is met.

The count is recorded in each approving decision's event (``approvals``), so
the audit replays it from the chain alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from placet.domain.models import Decision, DecisionKind, Draft, JsonObject
from placet.errors import InvalidInputError


@dataclass(frozen=True)
class Tally:
    """Who approved the text a draft now stands for, and how many are needed."""

    needed: int
    text: str  # the text being approved: the draft's output or its latest edit
    approvers: tuple[str, ...] = ()
    edited_by: str | None = None  # who wrote ``text``, when it is an edit

    @property
    def met(self) -> bool:
        """True when enough distinct people approved ``text``."""
        return len(self.approvers) >= self.needed

    def shown(self) -> str:
        """As every screen shows it: ``1 of 2 approvals: ana``."""
        counted = f"{len(self.approvers)} of {self.needed} approvals"
        return f"{counted}: {', '.join(self.approvers)}" if self.approvers else counted

    def after(self, decision: Decision) -> Tally:
        """The tally with this approve or edit counted; one person approving twice is refused."""
        if decision.kind is DecisionKind.EDIT:
            assert decision.text is not None
            return Tally(self.needed, decision.text, (decision.actor,), decision.actor)
        if decision.actor in self.approvers:
            left = self.needed - len(self.approvers)
            raise InvalidInputError(
                f"{decision.actor} already approved this text; it needs {left} more "
                f"{'approval' if left == 1 else 'approvals'} from someone else "
                "(nothing was changed)"
            )
        return Tally(self.needed, self.text, (*self.approvers, decision.actor), self.edited_by)

    def payload(self) -> JsonObject:
        """What the decision's event records about the count."""
        return {"needed": self.needed, "by": list(self.approvers)}


def tally(draft: Draft, decisions: Iterable[Decision], needed: int) -> Tally:
    """The count on ``draft`` so far, from the decisions recorded on it, in order."""
    counted = Tally(needed, draft.output)
    for decision in decisions:
        if decision.draft_id != draft.id or decision.kind not in COUNTED:
            continue
        if decision.kind is DecisionKind.APPROVE and decision.actor in counted.approvers:
            continue  # recorded twice (never by Placet): still one person
        counted = counted.after(decision)
    return counted


COUNTED = (DecisionKind.APPROVE, DecisionKind.EDIT)


def recorded_met(payload: JsonObject) -> bool:
    """Whether an approving decision's event met its quorum (one without a count always did)."""
    count = payload.get("approvals")
    if not isinstance(count, dict):
        return True
    by, needed = count.get("by"), count.get("needed")
    return isinstance(by, list) and isinstance(needed, int) and len(by) >= needed
