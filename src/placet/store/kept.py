"""A few records kept in memory by id, the oldest forgotten first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

Kept = TypeVar("Kept")


class KeptRecords(Generic[Kept]):
    """The last ``size`` records kept, by id; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, record_id: str) -> Kept | None:
        """The kept record, if any."""
        with self._lock:
            return self._kept.get(record_id)

    def keep(self, record_id: str, record: Kept) -> None:
        """Keep a record (replacing an older copy), forgetting the oldest beyond the size."""
        with self._lock:
            self._kept[record_id] = record
            self._kept.move_to_end(record_id)
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def forget(self, record_id: str) -> None:
        """Drop the kept copy, if any."""
        with self._lock:
            self._kept.pop(record_id, None)
