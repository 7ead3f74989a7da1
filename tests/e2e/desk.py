"""Tasks drafted in-process for the command-line tests, and people to decide them.

The fake provider drafts (what is drafted does not matter to these tests), in the
CLI folder's own SQLite file; every decision then goes through the real command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from placet.config import load_settings
from placet.domain.models import DecisionKind, Task
from placet.engine import DecisionRequest, Engine
from placet.engine.accounts import Accounts
from placet.store import open_store
from placet.testing import FakeProvider, person
from tests.e2e.conftest import TEST_CONFIG, Cli

CONTRACT_KIND = """
[kinds.contract]
template = "Review the clause {clause}."
reviewers = ["lena"]
"""
PASSWORD = "s3cret-pass"


class Desk:
    """The CLI folder's database, opened in-process to draft tasks and read what happened."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        store = open_store(f"sqlite:///{self.cli.folder / 'placet.db'}")
        provider = FakeProvider()
        engine = Engine(store, load_settings(self.cli.folder), lambda _name: provider)
        try:
            yield engine
        finally:
            store.close()

    def drafted(self, requester: str, kind: str = "onboarding_email") -> Task:
        values = {"name": "Ada"} if kind == "onboarding_email" else {"clause": "7.2"}
        with self.engine() as engine:
            task = engine.submit(kind, values, requester, claim_as="worker")
            return engine.draft(task, "worker")

    def approved(self, requester: str) -> Task:
        """A drafted task, approved in-process by ``otto``."""
        task = self.drafted(requester)
        with self.engine() as engine:
            request = DecisionRequest(task.id, DecisionKind.APPROVE, person("otto"))
            return engine.decide(request)

    def draft_text(self, task_id: str) -> str:
        """The text of the draft a task waits on."""
        with self.engine() as engine:
            draft = engine.detail(task_id).current_draft
        assert draft is not None
        return draft.output

    def task(self, task_id: str) -> Task:
        with self.engine() as engine:
            return engine.get(task_id)

    def last_event_payload(self, task_id: str) -> dict[str, object]:
        with self.engine() as engine:
            return dict(engine.detail(task_id).events[-1].payload)

    def refusals(self) -> list[str]:
        with self.engine() as engine:
            events = engine.accounts.security_events()
        return [f"{e.actor}:{e.action}:{e.detail}" for e in events if e.outcome == "refused"]


def desk_for(cli: Cli) -> Desk:
    """A desk on the CLI folder, whose placet.toml gains a kind only ``lena`` reviews."""
    (cli.folder / "placet.toml").write_text(TEST_CONFIG + CONTRACT_KIND)
    return Desk(cli)


def add_accounts(cli: Cli) -> None:
    """Accounts in the CLI folder's database: single-user mode ends."""
    store = open_store(f"sqlite:///{cli.folder / 'placet.db'}")
    try:
        accounts = Accounts(store.accounts())
        accounts.add_user("rita", PASSWORD, "requester,reviewer")
        accounts.add_user("lena", PASSWORD, "reviewer")
        accounts.add_user("otto", PASSWORD, "reviewer")
        accounts.add_user("adam", PASSWORD, "admin")
    finally:
        store.close()


def as_user(cli: Cli, name: str, *args: str) -> tuple[int, str]:
    """Run a command as ``name`` (PLACET_USER); its exit code and stderr."""
    cli.env["PLACET_USER"] = name
    done = cli(*args)
    return done.returncode, done.stderr
