"""Storage: the Store port and its SQL adapter (SQLite, PostgreSQL)."""

from placet.store.base import Change, Store, TaskFilter

__all__ = ["Change", "Store", "TaskFilter", "open_store"]


def open_store(url: str) -> Store:
    """Open the store at ``sqlite:///FILE`` or ``postgresql://...``, migrating it if behind."""
    from placet.store.sql import SqlStore

    return SqlStore(url)
