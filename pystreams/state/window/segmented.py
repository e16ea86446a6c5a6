"""Kafka's RocksDB window store: time segments of segment_interval ms, kept as logical segments (key ranges) of
one RocksDB per store (pystreams.state.window.logical_segments); segments older than stream time - retention are
range deleted whole (Kafka's AbstractSegments.cleanupExpiredSegments)."""
from __future__ import annotations

import struct
from typing import Any, Iterator

from rocksdict import WriteBatch

from pystreams.state.internals.bytes_store import FlushedWrite
from pystreams.state.window.keys import SUFFIX, next_seqnum, split_store_key, to_store_key
from pystreams.state.window.logical_segments import LogicalSegmentedStore

LONG_MAX = (1 << 63) - 1
_START = struct.Struct(">q")
_START_SEQ = struct.Struct(">qi")  # window start + seqnum: the store key suffix (keys.py)
WindowedPairs = Iterator[tuple[tuple[bytes, int], bytes]]


class RocksDBSegmentedWindowStore(LogicalSegmentedStore):
    """Persistent bytes window store; keys inside a segment are Kafka's key + start(8) + seqnum(4)."""

    def __init__(self, name: str, retention_ms: int, segment_interval_ms: int, window_size_ms: int,
                 retain_duplicates: bool, time_ordered: bool = False) -> None:
        super().__init__(name, retention_ms, segment_interval_ms)
        self.time_ordered = time_ordered  # Kafka's time-ordered store (emit-final): scans go by window start
        self.window_size_ms = window_size_ms
        self.retain_duplicates = retain_duplicates
        self._seqnum = 0

    def put(self, key: bytes, value: bytes | None, window_start: int) -> None:
        if value is None and self.retain_duplicates:
            return  # deleting one duplicate is meaningless (Kafka skips it too)
        if self.retain_duplicates:
            self._seqnum = next_seqnum(self._seqnum)
        self._put_raw(to_store_key(key, window_start, self._seqnum if self.retain_duplicates else 0), value,
                      window_start)

    def _put_raw(self, store_key: bytes, value: bytes | None, window_start: int) -> None:
        self._put_segmented(store_key, window_start, value)

    def write_flushed(self, entries: list[FlushedWrite]) -> None:
        """A cache flush of (store key, value, record timestamp), as put() one by one would write it (stream time
        advanced and expiry checked entry by entry) but with one RocksDB WriteBatch per segment."""
        if self.retain_duplicates:  # every put takes a new seqnum: keep put()'s path
            for store_key, value, _ts in entries:
                key, start, _seq = split_store_key(store_key)
                self.put(key, value, start)
            return
        start_at = _START.unpack_from  # the window start: the 8 bytes before the 4-byte seqnum
        self._put_segmented_batch([(store_key, start_at(store_key, len(store_key) - SUFFIX)[0], value)
                                   for store_key, value, _ts in entries])

    def write_flushed_entries(self, store_keys: list[bytes], entries: list[tuple[bytes, Any]]) -> None:
        """write_flushed() of a cache flush as the cache hands it over (store keys, (cache key, entry) pairs): the
        same writes, expiry and stream time, put straight into one RocksDB WriteBatch per segment."""
        if self.retain_duplicates:
            self.write_flushed([(key, entry.value, entry.timestamp) for key, (_ck, entry) in zip(store_keys, entries)])
            return
        # _put_segmented_keys(store keys, window starts, values) in one pass over the entries, without the two
        # lists: stream time advances write by write, writes to segments expired by then are counted and skipped
        start_at = _START.unpack_from  # the window start: the 8 bytes before the 4-byte seqnum
        batch = WriteBatch(raw_mode=True)
        put, delete = batch.put, batch.delete
        segments = self._segments
        interval, retention = self.segment_interval_ms, self.retention_ms
        stream_time = self.observed_stream_time
        min_live = (stream_time - retention) // interval
        expired = 0
        last_sid, last_prefix = None, b""
        for store_key, (_ck, entry) in zip(store_keys, entries):
            timestamp = start_at(store_key, len(store_key) - SUFFIX)[0]
            if timestamp > stream_time:
                stream_time = timestamp
                min_live = (stream_time - retention) // interval
            sid = timestamp // interval
            if sid < min_live:
                expired += 1
                continue
            if sid != last_sid:
                last_sid = sid
                last_prefix = segments.get(sid) or self._live_prefix(sid)
            value = entry.value
            if value is None:
                delete(last_prefix + store_key)
            else:
                put(last_prefix + store_key, value)
        self._finish_batch(batch, stream_time, min_live, expired)

    def _actual_from(self, time_from: int) -> int:
        return max(time_from, self.observed_stream_time - self.retention_ms + 1)

    def fetch(self, key: bytes, window_start: int) -> bytes | None:
        # on the aggregation path once per cache miss: _actual_from, segment_id and _get written out
        if window_start < 0 or window_start <= self.observed_stream_time - self.retention_ms:
            return None
        segment_id = window_start // self.segment_interval_ms
        if self.retain_duplicates:
            for _stored_key, value in self._scan(segment_id, to_store_key(key, window_start, 0),
                                                 to_store_key(key, window_start, 0x7FFFFFFF), True):
                return value
            return None
        prefix = self._segments.get(segment_id)
        if prefix is None:
            return None
        return self._require().get(prefix + key + _START_SEQ.pack(window_start, 0))

    def _search(self, time_from: int, time_to: int, forward: bool) -> tuple[int, list[int]]:
        """(lowest live window start, ids of the live segments that may hold [time_from, time_to], scan order)."""
        low = self._actual_from(time_from)
        if time_to < low:
            return low, []
        return low, self._live_ids(self.segment_id(low), self.segment_id(time_to), forward)

    def fetch_range(self, key: bytes, time_from: int, time_to: int, forward: bool = True) -> Iterator[tuple[int, bytes]]:
        low, segment_ids = self._search(time_from, time_to, forward)
        lo, hi = to_store_key(key, max(0, low), 0), to_store_key(key, time_to, 0x7FFFFFFF)
        for segment_id in segment_ids:
            for stored_key, value in self._scan(segment_id, lo, hi, forward):
                k, start, _seq = split_store_key(stored_key)
                if k == key and low <= start <= time_to:
                    yield start, value

    def fetch_keys(self, key_from: bytes | None, key_to: bytes | None, time_from: int, time_to: int,
                   forward: bool = True) -> WindowedPairs:
        low, segment_ids = self._search(time_from, time_to, forward)
        lo = None if key_from is None else to_store_key(key_from, max(0, low), 0)
        hi = None if key_to is None else to_store_key(key_to, time_to, 0x7FFFFFFF)
        for segment_id in segment_ids:
            for stored_key, value in self._scan(segment_id, lo, hi, forward):
                k, start, _seq = split_store_key(stored_key)
                if (low <= start <= time_to and (key_from is None or k >= key_from)
                        and (key_to is None or k <= key_to)):
                    yield (k, start), value

    def fetch_all(self, time_from: int, time_to: int, forward: bool = True) -> WindowedPairs:
        pairs = self.fetch_keys(None, None, time_from, time_to, forward)
        if not self.time_ordered:
            return pairs
        return iter(sorted(pairs, key=lambda kv: (kv[0][1], kv[0][0]), reverse=not forward))

    def all(self, forward: bool = True) -> WindowedPairs:
        return self.fetch_keys(None, None, 0, LONG_MAX, forward)

    def restore_batch(self, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Replay changelog records; the changelog key is already the store key. Written as put() one by one
        would (stream time and expiry record by record) with one WriteBatch per segment."""
        self._put_segmented_batch([(store_key, split_store_key(store_key)[1], value)
                                   for store_key, value, _ts, _offset in records])
