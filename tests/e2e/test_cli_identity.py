"""Who decides from the terminal: the real ``placet`` command, checked by the engine's policy.

Tasks are drafted in-process with the fake provider (what is drafted does not
matter here); every decision goes through the real command line as a user
types it, against the same SQLite file.
"""

from __future__ import annotations

import pytest

from placet.domain.models import TaskStatus
from tests.e2e.conftest import Cli
from tests.e2e.desk import Desk, add_accounts, as_user, desk_for


@pytest.fixture
def desk(cli: Cli) -> Desk:
    return desk_for(cli)


def test_single_user_mode_the_one_person_approves_their_own_task(cli: Cli, desk: Desk) -> None:
    task = desk.drafted(requester="tester")  # the seed's flow: no accounts at all
    code, said = as_user(cli, "tester", "approve", task.id)
    assert code == 0, said
    assert desk.task(task.id).status is TaskStatus.APPROVED
    payload = desk.last_event_payload(task.id)
    assert payload["mode"] == "single_user" and payload["channel"] == "cli"
    assert payload["role"] == "single-user"


def test_with_accounts_a_requester_cannot_approve_their_own_task(cli: Cli, desk: Desk) -> None:
    add_accounts(cli)
    task = desk.drafted(requester="rita")
    code, said = as_user(cli, "rita", "approve", task.id)
    assert code == 1 and "rita asked for task" in said and "nothing was changed" in said
    assert said.count("\n") == 1  # one line, no traceback
    code, said = as_user(cli, "rita", "edit", task.id, "--text", "My own better text.")
    assert code == 1 and "rita asked for task" in said
    assert desk.task(task.id).status is TaskStatus.AWAITING_REVIEW
    assert any(r.startswith("rita:decide:rita asked for task") for r in desk.refusals())
    code, said = as_user(cli, "otto", "approve", task.id)
    assert code == 0, said


def test_a_reviewer_outside_a_kinds_reviewers_cannot_decide_it(cli: Cli, desk: Desk) -> None:
    add_accounts(cli)
    task = desk.drafted(requester="rita", kind="contract")
    code, said = as_user(cli, "otto", "reject", task.id, "--reason", "no")
    assert code == 1 and "otto does not review contract tasks" in said
    assert desk.task(task.id).status is TaskStatus.AWAITING_REVIEW
    code, said = as_user(cli, "lena", "reject", task.id, "--reason", "Clause 7.2 is void.")
    assert code == 0, said
    assert desk.task(task.id).status is TaskStatus.REJECTED


def test_a_name_without_an_account_is_refused_once_accounts_exist(cli: Cli, desk: Desk) -> None:
    add_accounts(cli)
    task = desk.drafted(requester="rita")
    code, said = as_user(cli, "mallory", "approve", task.id)
    assert code == 1 and "mallory has no Placet account" in said
    assert desk.task(task.id).status is TaskStatus.AWAITING_REVIEW


def test_as_is_for_admins_only_and_recorded_with_the_admins_name(cli: Cli, desk: Desk) -> None:
    add_accounts(cli)
    task = desk.drafted(requester="rita")
    code, said = as_user(cli, "lena", "approve", task.id, "--as", "otto")
    assert code == 1 and "only admins may act in another's name" in said
    code, said = as_user(cli, "rita", "approve", task.id, "--as", "otto")
    assert code == 1  # not an admin either, and it is her own task
    code, said = as_user(cli, "adam", "approve", task.id, "--as", "otto")
    assert code == 0, said
    payload = desk.last_event_payload(task.id)
    assert payload["entered_by"] == "adam" and payload["channel"] == "cli"
    assert desk.task(task.id).status is TaskStatus.APPROVED
    with desk.engine() as engine:
        assert engine.detail(task.id).decisions[-1].actor == "otto"


def test_an_admin_cannot_use_as_to_approve_a_task_they_asked_for(cli: Cli, desk: Desk) -> None:
    add_accounts(cli)
    task = desk.drafted(requester="adam")
    code, said = as_user(cli, "adam", "approve", task.id, "--as", "lena")
    assert code == 1 and "adam asked for task" in said
    assert desk.task(task.id).status is TaskStatus.AWAITING_REVIEW


def test_the_review_loop_offers_only_what_you_may_decide(cli: Cli, desk: Desk) -> None:
    add_accounts(cli)
    own = desk.drafted(requester="rita")
    other = desk.drafted(requester="adam")
    cli.env["PLACET_USER"] = "rita"
    done = cli("review", stdin="a\n")
    assert done.returncode == 0, done.stderr
    assert own.id not in done.stderr and "the queue is empty" in done.stderr
    assert desk.task(other.id).status is TaskStatus.APPROVED
    assert desk.task(own.id).status is TaskStatus.AWAITING_REVIEW
