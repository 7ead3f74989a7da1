"""Storage: the Store port and its SQL adapter."""

from placet.store.base import Change, Store, TaskFilter

__all__ = ["Change", "Store", "TaskFilter", "open_store"]


def open_store(url: str) -> Store:
    """Open the store a database URL names, creating the schema if needed."""
    from placet.store.sql import SqlStore

    return SqlStore(url)
