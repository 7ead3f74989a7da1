"""Who may do what: roles, kind limits and separation of duties. Pure.

Roles: ``admin`` (users, tokens, and everything a reviewer does), ``reviewer``
(decides; may be limited to some kinds), ``requester`` (submits, sees own
tasks) and ``viewer`` (reads). Whatever roles a person holds, they never decide
a task they asked for themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from placet.domain.models import Task, TaskKind


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
    PAUSE = "pause"  # the kill switch: pause and resume drafting, calls and handlers


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


# The channels a decision can come through; a principal names the one it used.
LOCAL_CHANNELS = frozenset({"cli", "folder", "sdk"})
SINGLE_USER_ROLE = "single-user"


@dataclass(frozen=True)
class Principal:
    """Who acts, as a channel established it: a name, roles, and the door they came through.

    A channel sets this from what it can prove (a session, a token, the OS
    user, the identity configured for the review folder), never from a name
    in the payload. ``single_user`` is set only when no accounts exist: one
    local person submits and decides, as the seed's script did, and the audit
    says so. ``entered_by`` names an admin who entered a decision in this
    person's name (``placet approve --as NAME``).
    """

    name: str
    roles: frozenset[Role]
    channel: str = "api"
    single_user: bool = False
    entered_by: str | None = None
    remote: str | None = None  # the network address a web request came from, for the log

    def has(self, permission: Permission) -> bool:
        """True when one of the roles grants the permission."""
        return any(permission in _GRANTS[role] for role in self.roles)

    @property
    def decision_role(self) -> str:
        """The role a decision of this person is recorded under."""
        if self.single_user:
            return SINGLE_USER_ROLE
        return Role.REVIEWER.value if Role.REVIEWER in self.roles else Role.ADMIN.value


@dataclass(frozen=True)
class Verdict:
    """Whether something is allowed, and if not, why."""

    allowed: bool
    reason: str = ""


ALLOWED = Verdict(True)


@dataclass(frozen=True)
class ReviewerLists:
    """placet.toml's ``reviewers`` lists, by kind.

    A list works both ways: a kind with a list is reviewed only by the people
    on it, and a person named on some lists reviews only those kinds.
    """

    by_kind: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def allows(self, name: str, kind: str) -> bool:
        """May this person review tasks of this kind, as far as the lists say?"""
        listed = self.by_kind.get(kind)
        if listed:
            return name in listed
        return not any(name in names for names in self.by_kind.values())


GROUP_PREFIX = "group:"  # a kind's reviewers = ["group:legal", "rita"]
Groups = Mapping[str, Iterable[str]]  # placet.toml's [groups]: name -> people


def reviewers_of(names: Iterable[str], groups: Groups) -> frozenset[str]:
    """The people a ``reviewers`` list names, its groups expanded; unknown groups are skipped."""
    people: set[str] = set()
    for name in names:
        if name.startswith(GROUP_PREFIX):
            people.update(groups.get(name[len(GROUP_PREFIX) :], ()))
        else:
            people.add(name)
    return frozenset(people)


def kind_policy_problems(kind: TaskKind, groups: Groups) -> list[str]:
    """What is wrong with a kind's reviewers and approvals, each naming the setting."""
    problems = []
    for setting, names in (("reviewers", kind.reviewers), ("escalate_to", kind.escalate_to)):
        problems += _unknown_groups(setting, names, groups)
    if (kind.escalate_after is None) != (not kind.escalate_to):
        problems.append(
            "escalate_after and escalate_to go together: when, and to whom "
            '(escalate_after = "4h", escalate_to = ["group:managers"])'
        )
    problems += _unreachable("approvals", kind.approvals, kind.reviewers, groups)
    for index, rule in enumerate(kind.supervisor.route if kind.supervisor else ()):
        setting = f"supervisor route[{index}]"
        problems += _unknown_groups(f"{setting} reviewers", rule.reviewers, groups)
        approvals, reviewers = rule.approvals or kind.approvals, rule.reviewers or kind.reviewers
        problems += _unreachable(f"{setting} approvals", approvals, reviewers, groups)
    return problems


def _unknown_groups(setting: str, names: Iterable[str], groups: Groups) -> list[str]:
    problems = []
    for name in names:
        group = name[len(GROUP_PREFIX) :] if name.startswith(GROUP_PREFIX) else None
        if group is not None and group not in groups:
            known = ", ".join(sorted(groups)) or "none are defined; add a [groups] table"
            problems.append(f"{setting}: unknown group {group!r} (groups: {known})")
    return problems


def _unreachable(
    setting: str, approvals: int, reviewers: Sequence[str], groups: Groups
) -> list[str]:
    """A quorum larger than the people who may review: it could never be approved."""
    eligible = reviewers_of(reviewers, groups)
    if not reviewers or approvals <= len(eligible):
        return []
    return [
        f"{setting} = {approvals}, but only {len(eligible)} "
        f"{'person' if len(eligible) == 1 else 'people'} may review it "
        f"({', '.join(sorted(eligible)) or 'nobody'}): it could never be approved"
    ]


def may(principal: Principal, permission: Permission, task: Task | None = None) -> Verdict:
    """May this person do this (to this task)? Deciding a task is ``may_decide``'s."""
    if not principal.has(permission):
        return Verdict(False, f"{principal.name} lacks the permission to {permission.value}")
    if task is not None and permission is Permission.VIEW_TASK:
        return _may_view(principal, task)
    return ALLOWED


def may_decide(
    principal: Principal, task: Task, lists: ReviewerLists, escalated_to: str | None = None
) -> Verdict:
    """May this person decide this task? Every channel's decision is checked here.

    Whatever roles a person holds, they never decide a task they asked for,
    nor may an admin enter a decision on their own task in someone else's name.
    """
    if principal.single_user:
        return ALLOWED  # no accounts: the one local person decides, and the audit says so
    if not principal.has(Permission.DECIDE):
        return Verdict(False, f"{principal.name} lacks the permission to decide")
    for name in (principal.name, principal.entered_by):
        if name is not None and name == task.requester:
            return Verdict(False, f"{name} asked for task {task.id} and cannot decide it")
    if Role.ADMIN in principal.roles or principal.name == escalated_to:
        return ALLOWED  # an admin, or someone the task was escalated to
    if not lists.allows(principal.name, task.kind):
        return Verdict(False, f"{principal.name} does not review {task.kind} tasks")
    return ALLOWED


@dataclass(frozen=True)
class WayForward:
    """What someone refused a decision can do instead: who decides, or whom to add."""

    text: str
    add_reviewer: bool = False  # nobody else can decide, and this person can add an account


NAMES_SHOWN = 5


def way_forward(
    principal: Principal, task: Task, people: Sequence[Principal], lists: ReviewerLists
) -> WayForward:
    """Who else may decide the task (``people``: every enabled account), or what to do.

    By the same rule as ``may_decide``. Names are given to those who see the queue
    anyway; one account alone (``placet serve``'s first admin) is told to add a
    reviewer, as a requester never decides their own task, whoever they are.
    """
    names = [
        other.name
        for other in people
        if other.name != principal.name and may_decide(other, task, lists).allowed
    ]
    if names and principal.has(Permission.VIEW_QUEUE):
        return WayForward(f"it can be decided by {_some(names)}")
    if names:
        return WayForward("a reviewer or an admin decides it")
    return _nobody_else(principal, task, people, lists)


def _nobody_else(
    principal: Principal, task: Task, people: Sequence[Principal], lists: ReviewerLists
) -> WayForward:
    listed = sorted(lists.by_kind.get(task.kind, ()))
    if all(other.name == principal.name for other in people):
        who = "you are the only account"
    elif listed:
        who = f"none of its reviewers ({_some(listed)}) has an account that can decide it"
    else:
        who = "no other account can decide it"
    if not principal.has(Permission.MANAGE_USERS):
        return WayForward(f"{who}: ask an admin to add a reviewer")
    whom = f"an account for one of its reviewers ({_some(listed)})" if listed else "a reviewer"
    add = f"add {whom} under Users (placet users add NAME --role reviewer)"
    return WayForward(f"{who}: {add}, who can then decide it", add_reviewer=True)


def _some(names: Sequence[str]) -> str:
    """Names for a sentence: the first few, and how many more."""
    shown = ", ".join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _may_view(principal: Principal, task: Task) -> Verdict:
    if principal.has(Permission.VIEW_QUEUE) or task.requester == principal.name:
        return ALLOWED
    return Verdict(False, f"{principal.name} may only see their own tasks")


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
