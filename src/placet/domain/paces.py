"""One worker's pace against one hosted API, as it wrote it for ``placet status``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PaceRow:
    """One worker's pace against one endpoint, as last written: per limit (requests,
    tokens) the limit, what was left and the refill rate, and the 429s seen."""

    endpoint: str
    worker: str
    updated_at: float
    pace: dict[str, Any]
