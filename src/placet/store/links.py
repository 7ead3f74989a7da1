"""Every SQL statement on the e-mail tables: accounts' addresses, and the links used.

The rules (what a link may do, who it decides as) are the domain's
(``placet.domain.links``) and the engine's; this module only reads and writes rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from placet.store.schema import account_emails, link_uses, users
from placet.store.sidetables import SideTables

E, U = account_emails.c, link_uses.c


@dataclass(frozen=True)
class LinkUse:
    """A signed link's use, as recorded when it was claimed."""

    link_id: str
    task_id: str
    account: str
    action: str
    used_at: float
    outcome: str | None  # what it decided, in words; None while deciding (or lost mid-way)


class LinkStore:
    """Accounts' e-mail addresses and the signed links used, in the database of a SQL store."""

    def __init__(self, engine: Engine) -> None:
        self._tables = SideTables(engine)
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert: Any = dialect.insert

    # -- addresses ---------------------------------------------------------------------

    def emails(self, names: list[str] | None = None) -> dict[str, str]:
        """Each account's address (of the names given, or everyone's)."""
        query = sa.select(E.user_name, E.email)
        if names is not None:
            query = query.where(E.user_name.in_(names))
        return {row.user_name: row.email for row in self._tables.rows(query)}

    def account_with_email(self, email: str) -> str | None:
        """The account whose address is ``email`` (any case), if exactly one has it."""
        query = sa.select(E.user_name).where(sa.func.lower(E.email) == email.strip().lower())
        found = [row.user_name for row in self._tables.rows(query.limit(2))]
        return found[0] if len(found) == 1 else None

    def set_email(self, name: str, email: str | None) -> bool:
        """Set (or, None, remove) an account's address; False when there is no such account."""
        with self._tables.write() as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is None:
                return False
            conn.execute(account_emails.delete().where(E.user_name == name))
            if email is not None:
                conn.execute(account_emails.insert(), {"user_name": name, "email": email})
        return True

    # -- links -------------------------------------------------------------------------

    def claim(self, use: LinkUse) -> LinkUse | None:
        """Record a link's use; None when it is now ours, else the use that came first."""
        statement = (
            self._insert(link_uses)
            .on_conflict_do_nothing(index_elements=["link_id"])
            .returning(U.link_id)  # a row back: ours (rowcount is not told on every driver)
        )
        row = {
            "link_id": use.link_id,
            "task_id": use.task_id,
            "account": use.account,
            "action": use.action,
            "used_at": use.used_at,
            "outcome": use.outcome,
        }
        with self._tables.write() as conn:
            if conn.execute(statement, row).first() is not None:
                return None
            first = conn.execute(sa.select(link_uses).where(U.link_id == use.link_id)).one()
        return _use(first)

    def settle(self, link_id: str, outcome: str) -> None:
        """Say what a claimed use decided."""
        with self._tables.write() as conn:
            conn.execute(link_uses.update().where(U.link_id == link_id).values(outcome=outcome))

    def release(self, link_id: str) -> None:
        """Give a claimed use back, undone (its decision was refused: nothing was decided)."""
        with self._tables.write() as conn:
            conn.execute(link_uses.delete().where(U.link_id == link_id, U.outcome.is_(None)))

    def get(self, link_id: str) -> LinkUse | None:
        """The link's use, if it was used."""
        found = self._tables.rows(sa.select(link_uses).where(U.link_id == link_id))
        return _use(found[0]) if found else None


def _use(row: Any) -> LinkUse:
    values = row._mapping
    return LinkUse(
        values["link_id"],
        values["task_id"],
        values["account"],
        values["action"],
        values["used_at"],
        values["outcome"],
    )
