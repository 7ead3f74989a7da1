"""Channels: where people see review requests and answer them.

``base`` holds the ``Channel`` protocol every channel implements; a channel
turns a person's action into a ``DecisionRequest`` with that person's
identity and calls the engine, and never writes task state itself. The
review folder (``folder``: files in ``pending/``, moved to ``approved/`` or
``rejected/``) is the embedded default; ``placet.testing.MemoryChannel`` is
the in-memory twin for tests.
"""

from __future__ import annotations

from placet.channels.base import Channel
from placet.channels.folder import FolderChannel

__all__ = ["Channel", "FolderChannel"]
