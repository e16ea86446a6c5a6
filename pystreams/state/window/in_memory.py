"""Kafka's InMemoryWindowStore over bytes: a sorted map window start -> (sorted map key -> value).

Retention: a put at or before stream time - retention is dropped (expired); everything older than
stream time - retention + 1 is removed on every access, and fetches never return it.
"""
from __future__ import annotations

from typing import Any, Iterator

from sortedcontainers import SortedDict

from pystreams.state.window.keys import next_seqnum, split_store_key
from pystreams.state.window.memory_base import InMemoryTimedBytesStore

SEQ_MIN = (0).to_bytes(4, "big")
SEQ_MAX = (0x7FFFFFFF).to_bytes(4, "big")
WindowedPairs = Iterator[tuple[tuple[bytes, int], bytes]]


class InMemoryWindowStore(InMemoryTimedBytesStore):
    """Bytes window store in memory (restored from the changelog on start)."""

    def __init__(self, name: str, retention_ms: int, window_size_ms: int, retain_duplicates: bool) -> None:
        super().__init__(name, retention_ms)
        self.window_size_ms = window_size_ms
        self.retain_duplicates = retain_duplicates
        self._seqnum = 0

    def put(self, key: bytes, value: bytes | None, window_start: int) -> None:
        self._remove_expired()
        self.observed_stream_time = max(self.observed_stream_time, window_start)
        if window_start <= self.observed_stream_time - self.retention_ms:
            self.expired_records += 1
            return
        if value is not None:
            if self.retain_duplicates:
                self._seqnum = next_seqnum(self._seqnum)
                key = key + self._seqnum.to_bytes(4, "big")
            segment = self._by_time.get(window_start)
            if segment is None:
                segment = self._by_time[window_start] = SortedDict()
            segment[key] = value
        elif not self.retain_duplicates:
            segment = self._by_time.get(window_start)
            if segment is not None:
                segment.pop(key, None)
                if not segment:
                    del self._by_time[window_start]

    def fetch(self, key: bytes, window_start: int) -> bytes | None:
        self._remove_expired()
        if window_start <= self.observed_stream_time - self.retention_ms:
            return None
        segment = self._by_time.get(window_start)
        if segment is None:
            return None
        if self.retain_duplicates:
            for stored_key in segment.irange(key + SEQ_MIN, key + SEQ_MAX):
                return segment[stored_key]  # type: ignore[no-any-return]
            return None
        return segment.get(key)  # type: ignore[no-any-return]

    def _segment_range(self, time_from: int, time_to: int, forward: bool) -> list[tuple[int, Any]]:
        self._remove_expired()
        low = max(time_from, self.observed_stream_time - self.retention_ms + 1)
        if time_to < low:
            return []
        starts = list(self._by_time.irange(low, time_to, reverse=not forward))
        return [(start, self._by_time[start]) for start in starts]

    def _keys(self, segment: Any, key_from: bytes | None, key_to: bytes | None, forward: bool) -> list[bytes]:
        if self.retain_duplicates:
            lo = None if key_from is None else key_from + SEQ_MIN
            hi = None if key_to is None else key_to + SEQ_MAX
        else:
            lo, hi = key_from, key_to
        keys = list(segment.irange(lo, hi, reverse=not forward))
        if self.retain_duplicates and (key_from is not None or key_to is not None):
            keys = [k for k in keys if (key_from is None or k[:-4] >= key_from) and (key_to is None or k[:-4] <= key_to)]
        return keys

    def fetch_range(self, key: bytes, time_from: int, time_to: int, forward: bool = True) -> Iterator[tuple[int, bytes]]:
        """(window start, value) of one key in [time_from, time_to], by start (forward) or reversed."""
        for start, segment in self._segment_range(time_from, time_to, forward):
            if self.retain_duplicates:
                for stored_key in self._keys(segment, key, key, forward):
                    if stored_key[:-4] == key:
                        yield start, segment[stored_key]
            else:
                value = segment.get(key)
                if value is not None:
                    yield start, value

    def fetch_keys(self, key_from: bytes | None, key_to: bytes | None, time_from: int, time_to: int,
                   forward: bool = True) -> WindowedPairs:
        """((key, window start), value) for keys in [key_from, key_to] (None = unbounded), windows in range."""
        for start, segment in self._segment_range(time_from, time_to, forward):
            for stored_key in self._keys(segment, key_from, key_to, forward):
                key = stored_key[:-4] if self.retain_duplicates else stored_key
                yield (key, start), segment[stored_key]

    def fetch_all(self, time_from: int, time_to: int, forward: bool = True) -> WindowedPairs:
        return self.fetch_keys(None, None, time_from, time_to, forward)

    def all(self, forward: bool = True) -> WindowedPairs:
        return self.fetch_keys(None, None, 0, (1 << 63) - 1, forward)

    def restore_batch(self, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Replay changelog records (store key = key + start + seqnum)."""
        for store_key, value, _ts, _offset in records:
            key, start, _seq = split_store_key(store_key)
            self.put(key, value, start)
