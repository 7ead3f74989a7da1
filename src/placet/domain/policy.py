"""Who may do what: roles, kind limits and separation of duties. Pure.

Roles: ``admin`` (users, tokens, and everything a reviewer does), ``reviewer``
(decides; may be limited to some kinds), ``requester`` (submits, sees own
tasks) and ``viewer`` (reads). Whatever roles a person holds, they never decide
a task they asked for themselves.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from placet.domain.models import Task


class Role(str, enum.Enum):
    """A role a person can hold."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    REQUESTER = "requester"
    VIEWER = "viewer"


class Permission(str, enum.Enum):
    """Something a request may try to do."""

    VIEW_QUEUE = "view_queue"  # every task, the audit trail and the stats
    VIEW_TASK = "view_task"
    SUBMIT = "submit"
    DECIDE = "decide"
    MANAGE_USERS = "manage_users"
    MANAGE_OWN_TOKENS = "manage_own_tokens"
    RETRY_HANDLERS = "retry_handlers"  # give deliveries whose handler gave up another go


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.REVIEWER: frozenset(
        {
            Permission.VIEW_QUEUE,
            Permission.VIEW_TASK,
            Permission.DECIDE,
            Permission.MANAGE_OWN_TOKENS,
        }
    ),
    Role.REQUESTER: frozenset(
        {Permission.SUBMIT, Permission.VIEW_TASK, Permission.MANAGE_OWN_TOKENS}
    ),
    Role.VIEWER: frozenset({Permission.VIEW_QUEUE, Permission.VIEW_TASK}),
}


@dataclass(frozen=True)
class Principal:
    """A signed-in person or API token holder."""

    name: str
    roles: frozenset[Role]
    # A kind's `reviewers` list in placet.toml works both ways: a person named in
    # some lists reviews only those kinds, and a kind with a list is reviewed only
    # by the people on it. `review_kinds` holds the first, `barred_kinds` the second.
    review_kinds: frozenset[str] = field(default_factory=frozenset)
    barred_kinds: frozenset[str] = field(default_factory=frozenset)

    def has(self, permission: Permission) -> bool:
        """True when one of the roles grants the permission."""
        return any(permission in _GRANTS[role] for role in self.roles)


@dataclass(frozen=True)
class Verdict:
    """Whether something is allowed, and if not, why."""

    allowed: bool
    reason: str = ""


ALLOWED = Verdict(True)


def may(principal: Principal, permission: Permission, task: Task | None = None) -> Verdict:
    """May this person do this (to this task)?"""
    if not principal.has(permission):
        return Verdict(False, f"{principal.name} lacks the permission to {permission.value}")
    if task is None:
        return ALLOWED
    if permission is Permission.VIEW_TASK:
        return _may_view(principal, task)
    if permission is Permission.DECIDE:
        return _may_decide(principal, task)
    return ALLOWED


def _may_view(principal: Principal, task: Task) -> Verdict:
    if principal.has(Permission.VIEW_QUEUE) or task.requester == principal.name:
        return ALLOWED
    return Verdict(False, f"{principal.name} may only see their own tasks")


def _may_decide(principal: Principal, task: Task) -> Verdict:
    if task.requester == principal.name:
        return Verdict(False, f"{principal.name} asked for task {task.id} and cannot decide it")
    if Role.ADMIN in principal.roles:
        return ALLOWED
    outside = principal.review_kinds and task.kind not in principal.review_kinds
    if outside or task.kind in principal.barred_kinds:
        return Verdict(False, f"{principal.name} does not review {task.kind} tasks")
    return ALLOWED


def parse_roles(names: str | list[str]) -> frozenset[Role]:
    """Roles from names such as ``"reviewer,viewer"``; raises ValueError on an unknown one."""
    items = names.split(",") if isinstance(names, str) else names
    roles = set()
    for item in (name.strip().lower() for name in items):
        if not item:
            continue
        try:
            roles.add(Role(item))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise ValueError(f"unknown role {item!r}; roles are: {known}") from None
    return frozenset(roles)
