"""Kafka's LogicalKeyValueSegments: every time segment of a segmented store in ONE RocksDB, at
`<task dir>/<store>/<store>.segments`, each segment a key range: the segment id as an 8-byte big-endian prefix (sign
bit flipped, see segment_prefix), then the store's own key. An expired segment is one range delete of its prefixes (RocksDB range tombstone), not a
database closed and removed from disk: a store whose stream time crosses a segment every minute no longer opens,
closes and deletes a RocksDB per minute (~5 ms + ~2 ms CPU each). Directories of the older physical layout (one
RocksDB per segment, `<store>.<segment start>`) are copied in on open and removed."""
from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator, KeysView, Sequence
from typing import Any

from rocksdict import Rdict, WriteBatch

from pystreams.errors import StateStoreError
from pystreams.state.internals.rocksdb import Cursor, OpenIterators, closed_iterator_error
from pystreams.state.internals.rocksdb_options import StoreOptions, store_options
from pystreams.state.window.segments import SegmentDB

_PREFIX = struct.Struct(">Q")
PREFIX_LEN = _PREFIX.size  # 8
_SIGN = 1 << 63
Pairs = Iterator[tuple[bytes, bytes]]


def segment_prefix(segment_id: int) -> bytes:
    """The key prefix of a segment in the physical store: the segment id as a big-endian long, as Kafka's, but with
    the sign bit flipped so that byte order is id order for negative ids too (a range delete over several expired
    segments must not come out reversed when one of them was written with a negative timestamp)."""
    return _PREFIX.pack(segment_id + _SIGN)


def segment_id_of(physical_key: bytes) -> int:
    """The segment id a key of the physical store belongs to."""
    return int(_PREFIX.unpack_from(physical_key)[0]) - _SIGN


def _open_physical(name: str, path: str, opened: StoreOptions) -> Rdict:
    os.makedirs(path, exist_ok=True)
    try:
        return Rdict(path, opened.options)
    except Exception as e:  # rocksdict raises plain Exception
        opened.close()
        raise StateStoreError(f"Cannot open RocksDB for segmented store {name} at {path}: {e} "
                              "(is another instance using the same state.dir?)") from e


class LogicalSegmentedStore:
    """The segment bookkeeping the segmented window and session stores share: stream time, expiry and the one
    physical RocksDB. `_segments` maps each live segment id to its key prefix."""

    def __init__(self, name: str, retention_ms: int, segment_interval_ms: int) -> None:
        self._name = name
        self.retention_ms = retention_ms
        self.segment_interval_ms = segment_interval_ms
        self.observed_stream_time = -1
        self.expired_records = 0
        self._segments: dict[int, bytes] = {}
        self._dir: str | None = None
        self._db: Rdict | None = None
        self._options: StoreOptions | None = None  # rocksdb.config.setter's, closed with the store
        self._iterators = OpenIterators()  # the fetches being read, closed with the store
        self._min_live = -(1 << 62)  # segments below this id are gone (range deleted)

    @property
    def name(self) -> str:
        return self._name

    @property
    def persistent(self) -> bool:
        return True

    @property
    def directory(self) -> str | None:
        """The store's directory (the physical RocksDB is `<directory>/<store>.segments`)."""
        return self._dir

    def segment_id(self, timestamp: int) -> int:
        return timestamp // self.segment_interval_ms

    def init(self, context: Any, root: Any) -> None:
        self._dir = os.path.join(context.state_dir, self._name)
        opened = store_options(self._name, getattr(context, "configs", None))
        self._db = _open_physical(self._name, os.path.join(self._dir, self._name + ".segments"), opened)
        self._options = opened
        self._min_live = -(1 << 62)
        self._migrate_physical_segments()
        # the same dict from construction on, filled in place: live_segment_ids() hands out a live view of it
        self._segments.clear()
        self._segments.update((sid, segment_prefix(sid)) for sid in self._stored_segment_ids())

    def live_segment_ids(self) -> KeysView[int]:
        """The ids of the segments this store holds, as a live view: it follows every segment written, expired,
        restored or reopened for the store's whole life (the dict behind it is never replaced, only changed in
        place). A segment id not in it holds nothing, so a reader may skip the RocksDB read (the window count's
        cache-miss path does, per record)."""
        return self._segments.keys()

    def _stored_segment_ids(self) -> list[int]:
        """The segment ids present in the physical store: one seek per segment, not a scan of its keys."""
        ids = []
        it = self._require().iter()
        it.seek_to_first()
        while it.valid():
            sid = segment_id_of(it.key())
            ids.append(sid)
            it.seek(segment_prefix(sid + 1))
        return ids

    def _migrate_physical_segments(self) -> None:
        """Copy segments of the one-RocksDB-per-segment layout into the physical store, then remove them (a
        crash in between copies the same keys again on the next open)."""
        assert self._dir is not None
        prefix = self._name + "."
        for entry in sorted(os.listdir(self._dir)):
            if not (entry.startswith(prefix) and entry[len(prefix):].isdigit()):
                continue
            path = os.path.join(self._dir, entry)
            sid = self.segment_id(int(entry[len(prefix):]))
            old = SegmentDB(entry)
            old.open(path)
            try:
                batch = WriteBatch(raw_mode=True)
                head = segment_prefix(sid)
                for key, value in old.all():
                    batch.put(head + key, value)
                self._require().write(batch)
            finally:
                old.close()
            shutil.rmtree(path, ignore_errors=True)

    def is_open(self) -> bool:
        return self._db is not None

    def _require(self) -> Rdict:
        db = self._db
        if db is None:
            raise StateStoreError(f"RocksDB segmented store {self._name} is not open")
        return db

    def flush(self) -> None:
        """Nothing per commit: writes go through RocksDB's WAL (as RocksDBStore.flush)."""

    def close(self) -> None:
        self._iterators.close_all(self._name)
        if self._db is not None:
            db, self._db = self._db, None
            db.close()
        opened, self._options = self._options, None
        if opened is not None:
            opened.close()  # rocksdb.config.setter's close(store_name, options), after the DB closed
        self._segments.clear()
        self._dir = None

    # ------------------------------------------------------------------ writes and expiry
    def _expire(self, min_live: int, batch: WriteBatch | None) -> None:
        """Drop the segments below min_live: one range delete over their prefixes (into `batch` when given, so
        it commits with the writes before it)."""
        self._min_live = min_live
        dead = [sid for sid in self._segments if sid < min_live]
        if not dead:
            return
        for sid in dead:
            del self._segments[sid]
        begin, end = segment_prefix(min(dead)), segment_prefix(max(dead) + 1)
        if batch is None:
            self._require().delete_range(begin, end)
        else:
            batch.delete_range(begin, end)

    def _live_prefix(self, segment_id: int) -> bytes:
        prefix = self._segments.get(segment_id)
        if prefix is None:
            prefix = self._segments[segment_id] = segment_prefix(segment_id)
        return prefix

    def _put_segmented(self, store_key: bytes, timestamp: int, value: bytes | None) -> None:
        """Advance stream time to `timestamp`, drop (and count) a record already expired, else write it."""
        self.observed_stream_time = max(self.observed_stream_time, timestamp)
        segment_id = self.segment_id(timestamp)
        min_live = self.segment_id(self.observed_stream_time - self.retention_ms)
        if segment_id < min_live:
            self.expired_records += 1
            return
        key = self._live_prefix(segment_id) + store_key
        db = self._require()
        if value is None:
            db.delete(key)
        else:
            db.put(key, value)
        if min_live > self._min_live:
            self._expire(min_live, None)

    def _put_segmented_keys(self, keys: Sequence[bytes], timestamps: Sequence[int],
                            values: Sequence[bytes | None]) -> None:
        """Each write, in order, into one WriteBatch: stream time advances write by write, writes to segments
        expired by then are counted and skipped, and segments expired by the end are range deleted in the same
        batch (after the writes, so a segment that expires within the batch is deleted with what it got)."""
        batch = WriteBatch(raw_mode=True)
        put, delete = batch.put, batch.delete
        segments = self._segments
        interval, retention = self.segment_interval_ms, self.retention_ms
        stream_time = self.observed_stream_time
        min_live = (stream_time - retention) // interval  # segment_id(stream time - retention), kept up to date
        expired = 0
        last_sid, last_prefix = None, b""
        for store_key, timestamp, value in zip(keys, timestamps, values):
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
            if value is None:
                delete(last_prefix + store_key)
            else:
                put(last_prefix + store_key, value)
        self._finish_batch(batch, stream_time, min_live, expired)

    def _finish_batch(self, batch: WriteBatch, stream_time: int, min_live: int, expired: int) -> None:
        """After a batch of writes: the stream time and expired count they reached, segments expired by then
        range deleted in the same batch (after the writes), and the batch written."""
        self.observed_stream_time = stream_time
        self.expired_records += expired
        if min_live > self._min_live:
            self._expire(min_live, batch)
        if not batch.is_empty():
            self._require().write(batch)

    def _put_segmented_batch(self, writes: list[tuple[bytes, int, bytes | None]]) -> None:
        """_put_segmented for each (store key, timestamp, value) in order, in one WriteBatch."""
        keys, timestamps, values = zip(*writes) if writes else ((), (), ())
        self._put_segmented_keys(keys, timestamps, values)

    # ------------------------------------------------------------------ reads
    def _get(self, segment_id: int, store_key: bytes) -> bytes | None:
        prefix = self._segments.get(segment_id)
        return None if prefix is None else self._require().get(prefix + store_key)

    def _live_ids(self, low_id: int, high_id: int, forward: bool) -> list[int]:
        """Live segment ids in [low_id, high_id], in scan order. Copied first (in one C call): an interactive query
        on another thread must not iterate the dict while the stream thread adds or expires a segment."""
        return sorted((s for s in list(self._segments) if low_id <= s <= high_id), reverse=not forward)

    def _scan(self, segment_id: int, lo: bytes | None, hi: bytes | None, forward: bool) -> Pairs:
        """One segment's (store key, value) pairs with lo <= store key <= hi (None: open), prefix stripped."""
        prefix = self._segments.get(segment_id)
        if prefix is None or (lo is not None and hi is not None and lo > hi):
            return
        start = prefix if lo is None else prefix + lo
        end = segment_prefix(segment_id + 1) if hi is None else prefix + hi  # exclusive if hi is None
        end_inclusive = hi is not None
        # the RocksDB iterator is held only between two yields (see OpenIterators)
        cursor = self._iterators.open(self._require())
        try:
            it = cursor.it
            if forward:
                it.seek(start)
                while it.valid():
                    k = it.key()
                    if k > end or (k == end and not end_inclusive):
                        return
                    v, it = it.value(), None
                    yield k[PREFIX_LEN:], v
                    it = self._resume(cursor)
                    it.next()
            else:
                it.seek_for_prev(end)
                while it.valid():
                    k = it.key()
                    if k == end and not end_inclusive:
                        it.prev()
                        continue
                    if k < start:
                        return
                    v, it = it.value(), None
                    yield k[PREFIX_LEN:], v
                    it = self._resume(cursor)
                    it.prev()
        finally:
            self._iterators.done(cursor)

    def _resume(self, cursor: Cursor) -> Any:
        """The cursor's RocksDB iterator again after a yield; Kafka's InvalidStateStoreException when the store
        closed meanwhile."""
        it = cursor.it
        if self._db is None or it is None:
            raise closed_iterator_error(self._name)
        return it
