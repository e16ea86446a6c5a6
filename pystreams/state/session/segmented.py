"""Kafka's RocksDB session store: segments by session end time (interval max(retention / 2, 60 s)), one
RocksDB per segment at `<task dir>/<store>/<store>.<segment start>`, dropped whole when expired; keys are
SessionKeySchema's key + end + start."""
from __future__ import annotations

import os
import shutil
from typing import Any, Iterator

from pystreams.state.internals.rocksdb import RocksDBStore
from pystreams.state.session.keys import split_session_key, to_session_key

SessionPairs = Iterator[tuple[tuple[bytes, int, int], bytes]]


class RocksDBSegmentedSessionStore:
    def __init__(self, name: str, retention_ms: int, segment_interval_ms: int) -> None:
        self._name = name
        self.retention_ms = retention_ms
        self.segment_interval_ms = segment_interval_ms
        self.observed_stream_time = -1
        self.expired_records = 0
        self._segments: dict[int, RocksDBStore] = {}
        self._dir: str | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def persistent(self) -> bool:
        return True

    @property
    def directory(self) -> str | None:
        return self._dir

    def _segment_id(self, ts: int) -> int:
        return ts // self.segment_interval_ms

    def _segment_name(self, segment_id: int) -> str:
        return f"{self._name}.{segment_id * self.segment_interval_ms}"

    def init(self, context: Any, root: Any) -> None:
        self._dir = os.path.join(context.state_dir, self._name)
        os.makedirs(self._dir, exist_ok=True)
        prefix = self._name + "."
        for entry in sorted(os.listdir(self._dir)):
            if entry.startswith(prefix) and entry[len(prefix):].isdigit():
                self._open_segment(int(entry[len(prefix):]) // self.segment_interval_ms)

    def _open_segment(self, segment_id: int) -> RocksDBStore:
        segment = self._segments.get(segment_id)
        if segment is None:
            assert self._dir is not None
            segment = RocksDBStore(self._segment_name(segment_id))
            segment.open(os.path.join(self._dir, self._segment_name(segment_id)))
            self._segments[segment_id] = segment
        return segment

    def is_open(self) -> bool:
        return self._dir is not None

    def flush(self) -> None:
        for segment in self._segments.values():
            segment.flush()

    def close(self) -> None:
        for segment in self._segments.values():
            segment.close()
        self._segments.clear()
        self._dir = None

    def _cleanup(self) -> None:
        min_live = self._segment_id(self.observed_stream_time - self.retention_ms)
        for segment_id in sorted(s for s in self._segments if s < min_live):
            segment = self._segments.pop(segment_id)
            path = segment.path
            segment.close()
            if path:
                shutil.rmtree(path, ignore_errors=True)

    def put(self, key: bytes, start: int, end: int, value: bytes | None) -> None:
        self._put_raw(to_session_key(key, start, end), end, value)

    def _put_raw(self, binary: bytes, end: int, value: bytes | None) -> None:
        self.observed_stream_time = max(self.observed_stream_time, end)
        segment_id = self._segment_id(end)
        if segment_id < self._segment_id(self.observed_stream_time - self.retention_ms):
            self.expired_records += 1
            return
        segment = self._open_segment(segment_id)
        self._cleanup()
        segment.put(binary, value)

    def _min_end(self, earliest_end: int) -> int:
        return max(earliest_end, self.observed_stream_time - self.retention_ms + 1)

    def fetch_session(self, key: bytes, start: int, end: int) -> bytes | None:
        if end < self._min_end(0):
            return None
        segment = self._segments.get(self._segment_id(end))
        return None if segment is None else segment.get(to_session_key(key, start, end))

    def find_sessions(self, key_from: bytes | None, key_to: bytes | None, earliest_end: int, latest_start: int,
                      forward: bool = True) -> SessionPairs:
        low = self._min_end(earliest_end)
        out = []
        for segment_id in sorted(s for s in self._segments if s >= self._segment_id(low)):
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
        for binary, value, _ts, _offset in records:
            _key, _start, end = split_session_key(binary)
            self._put_raw(binary, end, value)
