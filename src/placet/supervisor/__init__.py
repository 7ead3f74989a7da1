"""The supervisor: an automatic first reader of every draft, before a person's.

Today it holds the deterministic scanners (``scan``): personal data, secrets and
internal links found in a text, each with its exact span and why, and ``redact``
to mask them. Pure: no model, no I/O, nothing of the engine or the store.
"""

from __future__ import annotations

from placet.supervisor.findings import CATEGORIES, TYPES, Finding, redact
from placet.supervisor.scan import DEFAULT_KINDS, scan

__all__ = ["CATEGORIES", "DEFAULT_KINDS", "TYPES", "Finding", "redact", "scan"]
