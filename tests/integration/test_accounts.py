"""Accounts on a real SQLite database: passwords, tokens, security events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.domain.policy import Role
from placet.engine.accounts import Accounts
from placet.errors import ConflictError, InvalidInputError
from placet.store.sql import SqlStore


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    store = SqlStore(f"sqlite:///{tmp_path / 'accounts.db'}")
    yield Accounts(store.accounts())
    store.close()


def test_sign_in_with_the_right_password_only(accounts: Accounts) -> None:
    accounts.add_user("alice", "correct horse", "reviewer,viewer")
    principal = accounts.authenticate("alice", "correct horse")
    assert principal is not None and principal.roles == {Role.REVIEWER, Role.VIEWER}
    assert accounts.authenticate("alice", "wrong horse") is None
    assert accounts.authenticate("nobody", "correct horse") is None
    accounts.set_disabled("alice", True)
    assert accounts.authenticate("alice", "correct horse") is None


def test_passwords_are_hashed_not_stored(accounts: Accounts, tmp_path: Path) -> None:
    accounts.add_user("bob", "s3cret-pass", "viewer")
    assert b"s3cret-pass" not in (tmp_path / "accounts.db").read_bytes()


def test_bad_accounts_are_refused(accounts: Accounts) -> None:
    with pytest.raises(InvalidInputError, match="at least 8"):
        accounts.add_user("carol", "short", "viewer")
    with pytest.raises(InvalidInputError, match="unknown role"):
        accounts.add_user("carol", "long enough", "boss")
    with pytest.raises(InvalidInputError, match="user name"):
        accounts.add_user("<script>", "long enough", "viewer")
    accounts.add_user("carol", "long enough", "viewer")
    with pytest.raises(ConflictError):
        accounts.add_user("carol", "long enough", "viewer")


def test_tokens_work_until_revoked_and_only_their_hash_is_kept(
    accounts: Accounts, tmp_path: Path
) -> None:
    accounts.add_user("dora", "long enough", "requester")
    secret, token = accounts.create_token("dora", "ci")
    assert secret.startswith("plc_")
    principal = accounts.principal_for_token(secret)
    assert principal is not None and principal.name == "dora"
    assert secret.encode() not in (tmp_path / "accounts.db").read_bytes()
    accounts.revoke_token(token.id)
    assert accounts.principal_for_token(secret) is None
    assert accounts.principal_for_token("plc_made-up") is None


def test_security_events_are_recorded(accounts: Accounts) -> None:
    accounts.record("eve", "decide", "refused", "task-1", "eve lacks the permission")
    events = accounts.security_events(actor="eve")
    assert [(e.action, e.outcome) for e in events] == [("decide", "refused")]
