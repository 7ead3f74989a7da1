"""The Store port: narrow and decision-centric, not generic CRUD."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from placet.domain.accounts import ApiToken, SecurityEvent, User
from placet.domain.changes import Change
from placet.domain.examples import ExampleEntry
from placet.domain.models import (
    Decision,
    Draft,
    Event,
    Task,
    TaskDetail,
    TaskStatus,
)
from placet.domain.policy import Role
from placet.domain.queries import TaskFilter  # the port takes the domain's query record

if TYPE_CHECKING:  # the side tables' adapters import this module's records
    from placet.store.auditlog import SqlAuditLog
    from placet.store.deliveries import DeliveryStore
    from placet.store.links import LinkStore
    from placet.store.notifications import NotificationStore
    from placet.store.paces import PaceStore
    from placet.store.slack_posts import SlackPostStore

ClaimChange = Callable[[Task], Change | None]  # the change that claims a task, or None


class AccountStore(Protocol):
    """Where users, API tokens and the security log live: rows only, no rules."""

    def insert_user(
        self, user: User, password_hash: str, trail: tuple[SecurityEvent, str] | None = None
    ) -> None:
        """Add a user; a taken name is a ConflictError."""
        ...

    def update_user(
        self,
        name: str,
        password_hash: str | None = None,
        roles: frozenset[Role] | None = None,
        disabled: bool | None = None,
        end_sessions: bool = False,
        trail: tuple[SecurityEvent, str] | None = None,
    ) -> None:
        """Change what is given of a user, with its trail entry; NotFoundError when none."""
        ...

    def users(self) -> list[User]:
        """Every user, by name."""
        ...

    def has_users(self) -> bool:
        """True once any account exists."""
        ...

    def user_with_hash(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""
        ...

    def user_for_token_hash(self, token_hash: str) -> User | None:
        """The user owning a live token with this hash."""
        ...

    def insert_token(self, token: ApiToken, token_hash: str) -> None:
        """Store a new token's record and hash."""
        ...

    def revoke_token(self, token_id: str, user_name: str | None, at: float) -> None:
        """Mark a token revoked; NotFoundError when there is none to revoke."""
        ...

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        """Tokens, newest first."""
        ...

    def insert_security_event(self, event: SecurityEvent, entry_hash: str) -> None:
        """Append to the security log and queue it for the global audit log, in one commit."""
        ...

    def security_events(self, actor: str | None, limit: int) -> list[SecurityEvent]:
        """The newest security events, optionally for one person."""
        ...

    def control_events(self) -> list[SecurityEvent]:
        """Every pause and resume, oldest first (through their own small index)."""
        ...


class Store(Protocol):
    """Where tasks, drafts, decisions and events live."""

    def create_task(self, task: Task, events: Sequence[Event]) -> Task:
        """Insert a new task and its first events; a known idempotency key returns that task."""
        ...

    def extend_lease(self, task_id: str, owner: str, expires_at: float) -> bool:
        """Push a drafting lease further out; False if ``owner`` no longer holds it."""
        ...

    def count_decisions(self, kind: str) -> int:
        """How many decisions were made on tasks of a kind."""
        ...

    def apply(self, change: Change) -> Task:
        """Apply a compare-and-set change, or raise ``ConflictError``."""
        ...

    def apply_all(self, changes: Sequence[Change]) -> Task:
        """Apply compare-and-set changes in order in one transaction (the second made on
        the task the first leaves): all of them, or, on a conflict, none; the last task."""
        ...

    def claim(
        self,
        now: float,
        change_for: ClaimChange,
        task_id: str | None = None,
        skip_kinds: frozenset[str] = frozenset(),
    ) -> Task | None:
        """Claim one task for drafting so that no other claimer gets it too.

        The store picks a task no other claimer holds (one whose lease ran out,
        else the oldest queued one; or the task named), asks ``change_for`` for
        the change that claims it (None: leave it), and applies that change
        while it still holds the task. None when there is nothing to claim.
        Tasks of ``skip_kinds`` (kinds paused) are passed over, not claimed.
        """
        ...

    def get_task(self, task_id: str) -> Task:
        """The task, or raise ``NotFoundError``."""
        ...

    def get_draft(self, draft_id: str) -> Draft:
        """The draft, or raise ``NotFoundError``."""
        ...

    def detail(self, task_id: str) -> TaskDetail:
        """The task with its drafts, decisions and events."""
        ...

    def list_tasks(self, task_filter: TaskFilter) -> list[Task]:
        """Tasks matching the filter, in id order."""
        ...

    def task_ids_starting_with(self, prefix: str, limit: int) -> list[str]:
        """Ids of tasks that start with ``prefix`` (taken literally), in id order, up to ``limit``.

        An index range: the cost is the number of ids that match.
        """
        ...

    def task_ids_ending_with(self, suffix: str, limit: int) -> list[str]:
        """Ids of tasks that end with ``suffix`` (taken literally), in id order, up to ``limit``."""
        ...

    def claimable(self, now: float, limit: int) -> list[Task]:
        """Queued tasks, and drafting tasks whose lease ran out, oldest first."""
        ...

    def due_tasks(self, now: float, limit: int) -> list[Task]:
        """Tasks whose next timer (reminder, escalation, deadline) is due, soonest first."""
        ...

    def count_by_status(self) -> dict[tuple[str, TaskStatus], int]:
        """How many tasks there are of each kind in each status."""
        ...

    def iter_tasks(self) -> Iterator[Task]:
        """Every task, oldest first."""
        ...

    def events(self, task_id: str) -> list[Event]:
        """One task's events in order."""
        ...

    def decisions(self, task_id: str) -> list[Decision]:
        """One task's decisions in order."""
        ...

    def similar_examples(
        self, kind: str, terms: Sequence[str], limit: int, besides: str
    ) -> list[Task]:
        """Up to ``limit`` approved tasks of the kind that are examples (domain/examples.py),
        those whose input shares most with ``terms`` first, by the database's full-text
        search; the latest approved fill up and break ties. Never the task ``besides``."""
        ...

    def index_examples(self, kind: str) -> int:
        """Give every approved task of the kind that has no example row one; how many did."""
        ...

    def example_entry(self, task_id: str) -> ExampleEntry | None:
        """The task's example row, or None when it has none."""
        ...

    def examples_index_problems(self) -> list[str]:
        """Where the examples' full-text index differs from their rows, in words."""
        ...

    def change_token(self) -> int:
        """A value that changes whenever anything is committed."""
        ...

    def wait_for_change(self, token: int, timeout: float) -> int:
        """Block until the change token differs from ``token`` or time runs out."""
        ...

    def accounts(self) -> AccountStore:
        """The accounts kept in the same database."""
        ...

    def deliveries(self) -> DeliveryStore:
        """Outcome handlers' registrations and deliveries, in the same database."""
        ...

    def audit_log(self) -> SqlAuditLog:
        """The global audit log, in the same database."""
        ...

    def notifications(self) -> NotificationStore:
        """The notifications outbox (written with each change) and the channels' health."""
        ...

    def links(self) -> LinkStore:
        """Accounts' e-mail addresses and the signed links used (e-mail, callbacks)."""
        ...

    def slack_posts(self) -> SlackPostStore:
        """The Slack messages posted about each task."""
        ...

    def paces(self) -> PaceStore:
        """Each worker's pace against each hosted API (rate limits, headroom)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
