"""Rules while a draft awaits review: its timers (reminders, escalations, a deadline) and
holds (who took it to review); mixed into ``Engine``.

Both change a waiting task without deciding it: each change is a compare-and-set
with its event, through the engine's own ``_change`` and ``_apply``, so a timer
that fires or a hold taken while a decision lands leaves exactly one outcome.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from placet.domain import holds, timers
from placet.domain.actors import SYSTEM_ACTOR
from placet.domain.models import JsonObject, Task, TaskStatus
from placet.domain.policy import Permission, Principal
from placet.domain.transitions import Action
from placet.engine.parts import EngineParts
from placet.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

if TYPE_CHECKING:
    pass


class Waiting(EngineParts):
    """Timers and holds of waiting tasks; mixed into ``Engine``."""

    # -- timers: reminders, escalations, deadlines (domain/timers.py) -------------

    def fire_timers(self, now: float | None = None, limit: int = 200) -> int:
        """Fire each timer that is due (a reminder, an escalation, a deadline); how many fired.

        Any number of processes may sweep at once: each firing is a
        compare-and-set on the task, so a timer fires once, and a deadline and
        a decision that land together leave exactly one outcome.
        """
        return self.sweep_timers(now, limit)[0]

    def sweep_timers(
        self, now: float | None = None, limit: int = 200, look_ahead: float = 0.0
    ) -> tuple[int, float | None]:
        """Fire what is due, as fire_timers; also say when the next timer falls due, if that
        is within ``look_ahead`` seconds (so a worker can sweep again right then)."""
        now = self._clock() if now is None else now
        fired = 0
        for task in self.store.due_tasks(now + look_ahead, limit):
            if task.due_at is not None and task.due_at > now:  # soonest first: the rest wait
                return fired, task.due_at
            with contextlib.suppress(ConflictError):  # another sweeper, or a decision, came first
                fired += self._fire_all_due(task, now)
        return fired, None

    def _fire_all_due(self, task: Task, now: float) -> int:
        """Fire a task's due timers one change at a time (an escalation and a reminder
        due together are two events), until none is due or the task has ended."""
        fired = 0
        current: Task | None = task
        while current is not None and current.due_at is not None and current.due_at <= now:
            current, count = self._fire(current, now)
            fired += count
        return fired

    def _fire(self, task: Task, now: float) -> tuple[Task | None, int]:
        kind = self._kinds.get(task.kind)
        state = timers.timer_state(self.store.events(task.id))
        due = timers.to_fire(kind, state, now) if kind is not None else None
        if kind is None or due is None:  # no kind here, or settings changed: look again later
            later = timers.next_due_at(kind, state) if kind is not None else None
            payload: JsonObject = {"due_at": later, "why": "the kind's timers changed"}
            change = self._change(
                task,
                Action.TIMER,
                SYSTEM_ACTOR,
                payload,
                now,
                event_type=timers.RESCHEDULED,
                due_at=later,
            )
            return self._apply(change), 0
        payload = {"due_at": due.at}
        if due.what == timers.DEADLINE:
            rejects = kind.on_deadline == "reject"
            assert kind.deadline is not None
            payload |= {
                "outcome": "rejected" if rejects else "expired",
                "after": timers.shown_duration(kind.deadline),
            }
            action = Action.LAPSE if rejects else Action.EXPIRE
            change = self._change(task, action, SYSTEM_ACTOR, payload, now, event_type=due.what)
        else:
            if due.what == timers.ESCALATED:
                payload["to"] = list(kind.escalate_to)
            else:
                payload["number"] = due.number
            later = timers.next_due_at(kind, timers.after_firing(state, due))
            change = self._change(
                task, Action.TIMER, SYSTEM_ACTOR, payload, now, event_type=due.what, due_at=later
            )
        return self._apply(change), 1

    def timers_of(self, task: Task) -> str | None:
        """Where a waiting task's timers stand, said for a person; None without any."""
        kind = self._kinds.get(task.kind)
        if kind is None or not timers.has_timers(kind):
            return None
        if task.status is not TaskStatus.AWAITING_REVIEW:
            return None
        state = timers.timer_state(self.store.events(task.id))
        return timers.describe(kind, state, self._clock())

    def overdue(self, task: Task) -> bool:
        """True when a waiting task was reminded or escalated: nobody decided in time."""
        kind = self._kinds.get(task.kind)
        if kind is None or not timers.has_timers(kind):
            return False
        state = timers.timer_state(self.store.events(task.id))
        return task.status is TaskStatus.AWAITING_REVIEW and timers.is_overdue(state)

    # -- holds: taking an item to review (domain/holds.py) -------------------------

    def take(self, task_id: str, principal: Principal, seconds: float | None = None) -> Task:
        """Take a waiting task to review: others see who is reviewing it and their queues skip it.

        Only someone who may decide it may take it. Someone else's hold is
        refused (an admin may hand it over; anyone eligible may still decide);
        taking one's own again extends it.
        """
        task = self._waiting(task_id)
        self._check_allowed(task, principal)
        now = self._clock()
        other = holds.held_by_other(task, principal.name, now)
        if other is not None:
            raise ConflictError(
                f"task {task.id}: {other.shown(now)}; nothing was changed (an admin can hand "
                "it to you with placet take ID --to NAME, and you may still decide it)"
            )
        return self._hold(task, principal, principal.name, now, seconds)

    def let_go(self, task_id: str, principal: Principal) -> Task:
        """End a hold: its holder lets the item go (or an admin does), and it is back in queues."""
        task = self._waiting(task_id)
        now = self._clock()
        hold = holds.hold_of(task, now)
        if hold is None:
            raise InvalidInputError(f"nobody is reviewing task {task.id}; nothing was changed")
        if hold.holder != principal.name and not principal.has(Permission.MANAGE_USERS):
            raise PermissionDeniedError(
                f"task {task.id}: {hold.shown(now)}; only they or an admin may let it go"
            )
        return self._hold_event(task, principal, now, holds.RELEASED, {"holder": hold.holder})

    def hand_over(
        self, task_id: str, principal: Principal, to: str, seconds: float | None = None
    ) -> Task:
        """An admin gives a waiting task's hold to someone who may decide it."""
        if not principal.has(Permission.MANAGE_USERS):
            raise PermissionDeniedError(
                f"only an admin may hand an item to someone else ({principal.name} is not one); "
                "nothing was changed"
            )
        task = self._waiting(task_id)
        if not self.accounts.exist():
            raise InvalidInputError("there are no accounts to hand an item to; nothing was changed")
        try:
            user = self.accounts.get_user(to)
        except NotFoundError:
            raise InvalidInputError(f"no user named {to!r}; nothing was changed") from None
        verdict = self.may_decide(self.accounts.principal(user), task)
        if user.disabled or not verdict.allowed:
            why = "their account is disabled" if user.disabled else verdict.reason
            raise InvalidInputError(
                f"task {task.id} cannot be handed to {to}: {why}; nothing was changed"
            )
        return self._hold(task, principal, to, self._clock(), seconds)

    def hold_of(self, task: Task) -> holds.Hold | None:
        """Who is reviewing a waiting task now, if anyone (a lapsed hold is none)."""
        return holds.hold_of(task, self._clock())

    def _waiting(self, task_id: str) -> Task:
        task = self.store.get_task(task_id)
        if task.status is not TaskStatus.AWAITING_REVIEW:
            raise ConflictError(
                f"task {task.id} is {task.status.value}, not awaiting review: there is nothing "
                "to take or let go; nothing was changed"
            )
        return task

    def _hold(
        self, task: Task, principal: Principal, holder: str, now: float, seconds: float | None
    ) -> Task:
        try:
            lasts = holds.hold_seconds(self._kinds.get(task.kind), seconds)
        except ValueError as exc:
            raise InvalidInputError(f"{exc}; nothing was changed") from None
        until = now + lasts
        payload: JsonObject = {"holder": holder, "until": until}
        return self._hold_event(task, principal, now, holds.TAKEN, payload, holder, until)

    def _hold_event(
        self,
        task: Task,
        principal: Principal,
        now: float,
        event_type: str,
        payload: JsonObject,
        holder: str | None = None,
        until: float | None = None,
    ) -> Task:
        """Take (a holder and until when) or end (neither) a hold, as one change."""
        change = self._change(
            task,
            Action.HOLD,
            principal.name,
            payload,
            now,
            event_type=event_type,
            held_by=holder,
            held_until=until,
        )
        return self._apply(change)
