"""Channels: where people see review requests and answer them.

A channel turns a human action into a ``DecisionRequest`` and calls the
engine; it never writes task state itself. The review folder
(:class:`FolderChannel`) is the embedded default.
"""

from __future__ import annotations

from placet.channels.folder import FolderChannel

__all__ = ["FolderChannel"]
