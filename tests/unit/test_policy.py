from typing import Any

import pytest

from placet.domain.models import Task
from placet.domain.policy import (
    Permission,
    Principal,
    ReviewerLists,
    Role,
    may,
    may_decide,
    parse_roles,
    way_forward,
)
from tests.unit.records import awaiting_task


def task(requester: str = "rita", kind: str = "email") -> Task:
    return awaiting_task(requester=requester, kind=kind)


def person(name: str, *roles: Role, **options: Any) -> Principal:
    return Principal(name, frozenset(roles), **options)


LISTS = ReviewerLists({"contract": frozenset({"lee"}), "email": frozenset()})


def decides(who: Principal, on: Task, lists: ReviewerLists = LISTS) -> bool:
    return may_decide(who, on, lists).allowed


def test_reviewers_decide_and_viewers_do_not() -> None:
    assert decides(person("rev", Role.REVIEWER), task())
    assert not decides(person("vic", Role.VIEWER), task())


def test_a_requester_never_decides_their_own_task_whatever_their_roles() -> None:
    everything = person("rita", Role.ADMIN, Role.REVIEWER, Role.REQUESTER)
    verdict = may_decide(everything, task(requester="rita"), LISTS)
    assert not verdict.allowed and "asked for task t1" in verdict.reason


def test_an_admin_cannot_enter_a_decision_on_their_own_task_in_another_name() -> None:
    entered = person("rev", Role.REVIEWER, entered_by="rita")
    verdict = may_decide(entered, task(requester="rita"), LISTS)
    assert not verdict.allowed and "rita asked for task t1" in verdict.reason
    assert decides(person("rev", Role.REVIEWER, entered_by="adam"), task(requester="rita"))


def test_a_reviewer_named_on_a_list_reviews_only_those_kinds() -> None:
    legal = person("lee", Role.REVIEWER)
    assert decides(legal, task(kind="contract"))
    assert not decides(legal, task(kind="email"))


def test_a_kind_with_named_reviewers_keeps_others_out() -> None:
    other = person("otto", Role.REVIEWER)
    verdict = may_decide(other, task(kind="contract"), LISTS)
    assert not verdict.allowed and "does not review contract tasks" in verdict.reason
    assert decides(other, task(kind="email"))


def test_single_user_mode_lets_the_one_person_decide_their_own_task() -> None:
    solo = person("rita", Role.VIEWER, single_user=True)
    assert decides(solo, task(requester="rita", kind="contract"))
    assert solo.decision_role == "single-user"


def test_the_decision_role_is_reviewer_unless_only_admin() -> None:
    assert person("a", Role.ADMIN).decision_role == "admin"
    assert person("b", Role.ADMIN, Role.REVIEWER).decision_role == "reviewer"


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


# -- what a person refused can do instead -------------------------------------------------

ADMIN = person("admin", Role.ADMIN)


def test_the_only_account_is_told_to_add_a_reviewer_under_users() -> None:
    way = way_forward(ADMIN, task(requester="admin"), [ADMIN], LISTS)
    assert way.add_reviewer
    assert way.text == (
        "you are the only account: add a reviewer under Users "
        "(placet users add NAME --role reviewer), who can then decide it"
    )


def test_staff_are_told_who_can_decide_by_the_same_rule() -> None:
    people = [ADMIN, person("rev", Role.REVIEWER), person("vic", Role.VIEWER), person("lee")]
    way = way_forward(ADMIN, task(requester="admin"), people, LISTS)
    assert (way.text, way.add_reviewer) == ("it can be decided by rev", False)
    contract = task(requester="admin", kind="contract")  # only lee may, and lee lacks the role
    way = way_forward(ADMIN, contract, people, LISTS)
    assert way.add_reviewer and way.text.startswith(
        "none of its reviewers (lee) has an account that can decide it: add an account for "
        "one of its reviewers (lee) under Users"
    )


def test_many_names_are_cut_short() -> None:
    people = [person(f"r{n}", Role.REVIEWER) for n in range(8)]
    way = way_forward(person("r0", Role.REVIEWER), task(requester="r0"), people, LISTS)
    assert way.text == "it can be decided by r1, r2, r3, r4, r5 and 2 more"


def test_a_requester_is_not_told_the_reviewers_names() -> None:
    alice = person("alice", Role.REQUESTER)
    way = way_forward(alice, task(requester="alice"), [alice, person("rev", Role.REVIEWER)], LISTS)
    assert way.text == "a reviewer or an admin decides it" and not way.add_reviewer
    nobody = way_forward(alice, task(requester="alice"), [alice, person("vic", Role.VIEWER)], LISTS)
    assert nobody.text == "no other account can decide it: ask an admin to add a reviewer"
    assert not nobody.add_reviewer  # alice cannot add one herself


def test_an_admin_who_did_not_ask_is_among_those_who_decide() -> None:
    alice = person("alice", Role.REQUESTER)
    way = way_forward(
        ADMIN, task(requester="alice"), [alice, ADMIN, person("ben", Role.ADMIN)], LISTS
    )
    assert way.text == "it can be decided by ben"
