"""Storage: the Store port and its SQL adapter (SQLite, PostgreSQL)."""

from placet.domain.changes import Change
from placet.domain.queries import TaskFilter
from placet.store.base import Store

__all__ = ["Change", "Store", "TaskFilter", "open_store"]


def open_store(url: str) -> Store:
    """Open the store at ``sqlite:///FILE`` or ``postgresql://...``, migrating it if behind."""
    from placet.store.sql import SqlStore

    return SqlStore(url)
