"""What Kafka's in-memory window and session stores share: a sorted map by time (window start or session end)
whose entries older than stream time - retention + 1 are removed on every access."""
from __future__ import annotations

from typing import Any

from sortedcontainers import SortedDict

from pystreams.state.internals.in_memory import InMemoryBase


class InMemoryTimedBytesStore(InMemoryBase):
    """Base of the in-memory window and session bytes stores, so their retention cannot drift apart."""

    def __init__(self, name: str, retention_ms: int) -> None:
        self.retention_ms = retention_ms
        self.observed_stream_time = -1
        self.expired_records = 0
        self._by_time: Any = SortedDict()  # window start / session end -> sorted map of that time's entries
        super().__init__(name, self._by_time)

    def _min_live(self) -> int:
        return max(0, self.observed_stream_time - self.retention_ms + 1)

    def _remove_expired(self) -> None:
        by_time, min_live = self._by_time, self._min_live()
        while by_time and by_time.peekitem(0)[0] < min_live:
            by_time.popitem(0)
