import pytest

from placet.domain.models import Task
from placet.domain.policy import Permission, Principal, Role, may, parse_roles
from tests.unit.records import awaiting_task


def task(requester: str = "rita", kind: str = "email") -> Task:
    return awaiting_task(requester=requester, kind=kind)


def person(
    name: str, *roles: Role, kinds: tuple[str, ...] = (), barred: tuple[str, ...] = ()
) -> Principal:
    return Principal(name, frozenset(roles), frozenset(kinds), frozenset(barred))


def test_reviewers_decide_and_viewers_do_not() -> None:
    assert may(person("rev", Role.REVIEWER), Permission.DECIDE, task()).allowed
    assert not may(person("vic", Role.VIEWER), Permission.DECIDE, task()).allowed


def test_a_requester_never_decides_their_own_task_whatever_their_roles() -> None:
    everything = person("rita", Role.ADMIN, Role.REVIEWER, Role.REQUESTER)
    verdict = may(everything, Permission.DECIDE, task(requester="rita"))
    assert not verdict.allowed and "asked for task t1" in verdict.reason


def test_a_reviewer_limited_to_kinds() -> None:
    legal = person("lee", Role.REVIEWER, kinds=("contract",))
    assert may(legal, Permission.DECIDE, task(kind="contract")).allowed
    assert not may(legal, Permission.DECIDE, task(kind="email")).allowed


def test_a_kind_with_named_reviewers_keeps_others_out() -> None:
    other = person("otto", Role.REVIEWER, barred=("contract",))
    assert not may(other, Permission.DECIDE, task(kind="contract")).allowed
    assert may(other, Permission.DECIDE, task(kind="email")).allowed


def test_requesters_see_only_their_own_tasks() -> None:
    rita = person("rita", Role.REQUESTER)
    assert may(rita, Permission.VIEW_TASK, task(requester="rita")).allowed
    assert not may(rita, Permission.VIEW_TASK, task(requester="sam")).allowed
    assert not may(rita, Permission.VIEW_QUEUE).allowed
    assert may(rita, Permission.SUBMIT).allowed


def test_only_admins_manage_users() -> None:
    assert may(person("a", Role.ADMIN), Permission.MANAGE_USERS).allowed
    for role in (Role.REVIEWER, Role.REQUESTER, Role.VIEWER):
        assert not may(person("x", role), Permission.MANAGE_USERS).allowed


def test_parse_roles() -> None:
    assert parse_roles("reviewer, Viewer") == {Role.REVIEWER, Role.VIEWER}
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        parse_roles(["boss"])
