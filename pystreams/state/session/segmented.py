"""Kafka's RocksDB session store: segments by session end time (interval max(retention / 2, 60 s)), one
RocksDB per segment at `<task dir>/<store>/<store>.<segment start>`, dropped whole when expired; keys are
SessionKeySchema's key + end + start."""
from __future__ import annotations

from typing import Iterator

from pystreams.state.session.keys import split_session_key, to_session_key
from pystreams.state.window.segments import SegmentedRocksDBStore

SessionPairs = Iterator[tuple[tuple[bytes, int, int], bytes]]


class RocksDBSegmentedSessionStore(SegmentedRocksDBStore):
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
        segment = self._segments.get(self.segment_id(end))
        return None if segment is None else segment.get(to_session_key(key, start, end))

    def find_sessions(self, key_from: bytes | None, key_to: bytes | None, earliest_end: int, latest_start: int,
                      forward: bool = True) -> SessionPairs:
        low = self._min_end(earliest_end)
        out = []
        for segment_id in sorted(s for s in self._segments if s >= self.segment_id(low)):
            segment = self._segments[segment_id]
            lo = None if key_from is None else to_session_key(key_from, 0, max(0, low))
            hi = None if key_to is None else to_session_key(key_to, (1 << 63) - 1, (1 << 63) - 1)
            pairs = segment.all() if lo is None and hi is None else segment.range(lo, hi)
            for binary, value in pairs:
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
            for binary, value in self._segments[segment_id].all():
                key, start, end = split_session_key(binary)
                if earliest_end <= end <= latest_end:
                    found.append(((key, start, end), value))
        return iter(sorted(found, key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])))

    def restore_batch(self, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Replay changelog records as put() one by one would, with one WriteBatch per segment."""
        self._put_segmented_batch([(binary, split_session_key(binary)[2], value)
                                   for binary, value, _ts, _offset in records])
