"""Kafka's RocksDB session store: segments by session end time (interval max(retention / 2, 60 s)), kept as
logical segments (key ranges) of one RocksDB per store (pystreams.state.window.logical_segments), range deleted
whole when expired; keys are SessionKeySchema's key + end + start."""
from __future__ import annotations

from typing import Iterator

from pystreams.state.session.keys import split_session_key, to_session_key
from pystreams.state.window.logical_segments import LogicalSegmentedStore

SessionPairs = Iterator[tuple[tuple[bytes, int, int], bytes]]


class RocksDBSegmentedSessionStore(LogicalSegmentedStore):
    """Persistent bytes session store; keys inside a segment are SessionKeySchema's key + end + start."""

    def put(self, key: bytes, start: int, end: int, value: bytes | None) -> None:
        self._put_raw(to_session_key(key, start, end), end, value)

    def _put_raw(self, binary: bytes, end: int, value: bytes | None) -> None:
        self._put_segmented(binary, end, value)

    def _min_end(self, earliest_end: int) -> int:
        return max(earliest_end, self.observed_stream_time - self.retention_ms + 1)

    def fetch_session(self, key: bytes, start: int, end: int) -> bytes | None:
        if end < self._min_end(0):
            return None
        return self._get(self.segment_id(end), to_session_key(key, start, end))

    def find_sessions(self, key_from: bytes | None, key_to: bytes | None, earliest_end: int, latest_start: int,
                      forward: bool = True) -> SessionPairs:
        low = self._min_end(earliest_end)
        out = []
        lo = None if key_from is None else to_session_key(key_from, 0, max(0, low))
        hi = None if key_to is None else to_session_key(key_to, (1 << 63) - 1, (1 << 63) - 1)
        for segment_id in self._live_ids(self.segment_id(low), 1 << 62, True):
            for binary, value in self._scan(segment_id, lo, hi, True):
                key, start, end = split_session_key(binary)
                if (end >= low and start <= latest_start and (key_from is None or key >= key_from)
                        and (key_to is None or key <= key_to)):
                    out.append(((key, start, end), value))
        return iter(out if forward else out[::-1])

    def find_sessions_by_end(self, earliest_end: int, latest_end: int) -> SessionPairs:
        """Every key's sessions ending in [earliest_end, latest_end], in time order (as Kafka's time-ordered
        session store, which it uses for emit-final); sessions past retention are returned until their segment is
        dropped, as Kafka's are (an emit-final scan only ever asks for sessions that are past retention)."""
        # like Kafka's time-ordered store, no retention cut here: whatever the live segments still hold
        found = []
        for segment_id in sorted(self._segments):
            for binary, value in self._scan(segment_id, None, None, True):
                key, start, end = split_session_key(binary)
                if earliest_end <= end <= latest_end:
                    found.append(((key, start, end), value))
        return iter(sorted(found, key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])))

    def restore_batch(self, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Replay changelog records as put() one by one would, with one WriteBatch per segment."""
        self._put_segmented_batch([(binary, split_session_key(binary)[2], value)
                                   for binary, value, _ts, _offset in records])
