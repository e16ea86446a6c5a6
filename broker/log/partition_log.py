"""PartitionLog: one topic-partition's segmented log (Kafka's UnifiedLog/LocalLog on one node).

Synchronous and not thread-safe: the server calls it from its event loop. Appends validate
batches at header level and writev them with new offsets; reads return file ranges."""
from __future__ import annotations

import logging
import os
import random
import time
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from pystreams.broker.protocol.record_batch import CREATE_TIME, LOG_APPEND_TIME, BatchHeader

from . import lookups
from .cleaner import CleanResult, compact
from .config import LONG_MAX, LogConfig
from .errors import KafkaStorageIOError, OffsetOutOfRangeError
from .index import CorruptIndexError
from .loader import load_segments
from .producer_snapshot import list_snapshots, read_snapshot, snapshot_path, write_snapshot
from .producer_state import ProducerStateManager
from .retention import RetentionMixin
from .segment import INT32_MAX, LogSegment
from .transactions import (AbortedTxn, append_txn_index, marker_type, read_txn_index,
                           write_txn_index)
from .types import AppendInfo, FetchSlice
from .validator import validate_batches

log = logging.getLogger(__name__)


class PartitionLog(RetentionMixin):
    """Append batches, read them back by offset or timestamp, and age them out."""

    def __init__(self, directory: Path, config: LogConfig, segments: list[LogSegment], *,
                 log_start_offset: int, recovery_point: int,
                 clock: Callable[[], float]) -> None:
        self.dir = directory
        self.config = config
        self.clock = clock
        self.segments = segments
        self._log_start_offset = log_start_offset
        self.recovery_point = recovery_point
        self._last_flush_ms = self._now_ms()
        self._base_cache: list[int] = []
        self._dir_dirty = True  # a segment file was created since the last directory fsync
        #: compaction resumes building its key map here (Kafka's cleaner-offset-checkpoint)
        self.first_dirty_offset = log_start_offset
        self.producer_state = ProducerStateManager()
        self.aborted: list[AbortedTxn] = []  # aborted transactions, in marker order
        self._load_producer_state()
        self._graveyard: list[tuple[int, BinaryIO]] = []  # deleted .log files kept open a while
        #: called with the new log start offset whenever it moves (checkpointing)
        self.on_log_start_offset_change: Callable[[int], None] | None = None
        self.closed = False

    @classmethod
    def open(cls, directory: Path, config: LogConfig, *, clock: Callable[[], float] = time.time,
             recovery_point: int | None = None, log_start_offset: int | None = None,
             had_clean_shutdown: bool = False) -> PartitionLog:
        """Create the directory, or load it; unless `had_clean_shutdown`, segments from
        `recovery_point` (default 0: all) are validated and repaired first."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        now_ms = int(clock() * 1000)
        segments, truncated = load_segments(directory, config, recovery_point=recovery_point,
                                            had_clean_shutdown=had_clean_shutdown, now_ms=now_ms)
        if not segments:
            base = log_start_offset or 0
            segments = [LogSegment.create(directory, base, created_ms=now_ms,
                                          index_interval_bytes=config.index_interval_bytes,
                                          max_index_size=config.segment_index_bytes)]
        leo = segments[-1].next_offset
        start = max(segments[0].base_offset, min(log_start_offset or 0, leo))
        plog = cls(directory, config, segments, log_start_offset=start,
                   recovery_point=min(recovery_point or 0, leo), clock=clock)
        if not had_clean_shutdown or truncated:
            plog.flush()  # what recovery validated (and repaired) is now on disk
        else:
            plog.recovery_point = leo
        return plog

    # ---- offsets ------------------------------------------------------------------------

    @property
    def active_segment(self) -> LogSegment:
        return self.segments[-1]

    @property
    def log_start_offset(self) -> int:
        return self._log_start_offset

    @property
    def log_end_offset(self) -> int:
        """The next offset to assign."""
        return self.segments[-1].next_offset

    @property
    def high_watermark(self) -> int:
        """On a single node every appended record is committed: HW == LEO."""
        return self.log_end_offset

    @property
    def size_bytes(self) -> int:
        return sum(s.size for s in self.segments)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # ---- append -------------------------------------------------------------------------

    def append(self, records: memoryview | bytes, *, now_ms: int, leader_epoch: int = 0,
               origin: str = "client") -> AppendInfo:
        """Validate every batch of a Produce partition payload and append it with offsets
        assigned (and LogAppendTime stamped when the topic asks); all or nothing.

        `origin` "client" refuses control batches; "coordinator" (transaction markers, offsets
        topic) may write them. An empty payload appends nothing (base_offset -1)."""
        mv = memoryview(records)
        if mv.format != "B" or mv.ndim != 1:
            mv = mv.cast("B")
        views = validate_batches(mv, self.config, now_ms, allow_control=origin != "client",
                                 require_keys=self.config.compact and origin == "client")
        if not views:
            return AppendInfo(-1, -1, -1, self._log_start_offset, 0)
        headers = [v.header for v in views]
        if origin == "client" and any(h.producer_id >= 0 for h in headers):
            duplicate = self.producer_state.find_duplicate(headers)
            if duplicate is not None:  # a retry: answer with the first write's offsets
                return AppendInfo(duplicate.first_offset, duplicate.last_offset, -1,
                                  self._log_start_offset, 0)
            self.producer_state.check(headers)
        log_append = self.config.log_append_time
        max_ts_in = now_ms if log_append else max(v.header.max_timestamp for v in views)
        offset = self.log_end_offset
        count = sum(v.header.last_offset_delta + 1 for v in views)
        self._maybe_roll(len(mv), max_ts_in, offset + count - 1, now_ms)
        buffers: list[bytes | memoryview] = []
        metas: list[tuple[int, int, int]] = []
        records_count = 0
        for v in views:
            h = v.header
            if log_append:
                buffers += v.with_header(offset, leader_epoch, max_timestamp=now_ms,
                                         timestamp_type=LOG_APPEND_TIME)
                max_ts = now_ms
            elif h.timestamp_type == LOG_APPEND_TIME:  # CreateTime topic: clear the bit
                buffers += v.with_header(offset, leader_epoch, timestamp_type=CREATE_TIME)
                max_ts = h.max_timestamp
            else:
                buffers += v.with_header(offset, leader_epoch)
                max_ts = h.max_timestamp
            last = offset + h.last_offset_delta
            metas.append((last, v.size, max_ts))
            records_count += h.records_count
            offset = last + 1
        first = self.log_end_offset
        try:
            self.active_segment.append(buffers, metas)
        except OSError as e:  # disk full, I/O error: the segment was cut back to before it
            raise KafkaStorageIOError(f"cannot append to {self.active_segment.log_path}: "
                                      f"{e.strerror or e}") from e
        first_offset = first
        for v, (last, _, max_ts) in zip(views, metas):
            if v.header.producer_id >= 0:
                marker = marker_type(v.buf) if v.header.is_control else None
                self._track_producer(v.header, first_offset, last, max_ts, marker,
                                     self.active_segment, write=True)
            first_offset = last + 1
        self._apply_flush_policy(now_ms)
        return AppendInfo(first, offset - 1, now_ms if log_append else -1,
                          self._log_start_offset, records_count, max_ts_in, len(mv))

    def _maybe_roll(self, size: int, max_timestamp: int, last_offset: int, now_ms: int) -> None:
        """Roll before an append that would overflow segment.bytes, after segment.ms, when an
        index is full, or when offsets would not fit the indexes' int32 (Kafka's shouldRoll)."""
        seg = self.active_segment
        if seg.size == 0:
            return
        if seg.rolling_based_timestamp is not None and seg.rolling_based_timestamp >= 0:
            waited = max_timestamp - seg.rolling_based_timestamp
        else:
            waited = now_ms - seg.created_ms
        if (seg.size > self.config.segment_bytes - size
                or waited > self.config.segment_ms - self._roll_jitter_ms(seg)
                or seg.offset_index.is_full or seg.time_index.is_full
                or last_offset - seg.base_offset > INT32_MAX):
            self.roll(now_ms)

    def _roll_jitter_ms(self, seg: LogSegment) -> int:
        """Kafka's per-segment random jitter in [0, segment.jitter.ms), so segments of many
        partitions do not all roll at once; stable for a segment (seeded by its base)."""
        jitter = self.config.segment_jitter_ms
        return 0 if jitter <= 0 else random.Random(seg.base_offset).randrange(jitter)

    def roll(self, now_ms: int | None = None) -> LogSegment:
        """Start a new active segment at the log end offset (no-op when the active one is empty)."""
        old = self.active_segment
        if old.size == 0:
            return old
        old.on_become_inactive()
        new = LogSegment.create(self.dir, self.log_end_offset,
                                index_interval_bytes=self.config.index_interval_bytes,
                                max_index_size=self.config.segment_index_bytes,
                                created_ms=self._now_ms() if now_ms is None else now_ms)
        self.segments.append(new)
        self._dir_dirty = True
        write_snapshot(self.dir, new.base_offset, self.producer_state)  # as Kafka does at roll
        return new

    # ---- flush --------------------------------------------------------------------------

    def _apply_flush_policy(self, now_ms: int) -> None:
        if self.log_end_offset - self.recovery_point >= self.config.flush_messages:
            self.flush(now_ms)
        else:
            self.maybe_flush(now_ms)

    def maybe_flush(self, now_ms: int) -> bool:
        """Flush when flush.ms has passed since the last flush (call from a timer too)."""
        if self.config.flush_ms != LONG_MAX and now_ms - self._last_flush_ms >= self.config.flush_ms:
            if self.log_end_offset > self.recovery_point:
                self.flush(now_ms)
                return True
            self._last_flush_ms = now_ms
        return False

    def flush(self, now_ms: int | None = None) -> None:
        """fsync every segment holding offsets at or past the recovery point (and the directory
        when segments were created since, so their names survive a power loss too, as Kafka's
        LocalLog.flush does); advance the recovery point."""
        i = max(bisect_right(self._bases(), self.recovery_point) - 1, 0)
        for seg in self.segments[i:]:
            seg.flush()
        if self._dir_dirty:
            fd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._dir_dirty = False
        self.recovery_point = self.log_end_offset
        self._last_flush_ms = self._now_ms() if now_ms is None else now_ms

    # ---- read ---------------------------------------------------------------------------

    def _bases(self) -> list[int]:
        """Base offsets of the segments (cached: rebuilt only when segments change)."""
        if len(self._base_cache) != len(self.segments) or (
                self.segments and self._base_cache[0] != self.segments[0].base_offset):
            self._base_cache = [s.base_offset for s in self.segments]
        return self._base_cache

    def _check_offset(self, offset: int) -> None:
        if offset < self._log_start_offset or offset > self.log_end_offset:
            raise OffsetOutOfRangeError(
                f"offset {offset} is out of range for {self.dir.name}: log start offset "
                f"{self._log_start_offset}, log end offset {self.log_end_offset}")

    def _translate(self, seg: LogSegment, offset: int) -> tuple[int, BatchHeader] | None:
        try:
            return seg.translate_offset(offset)
        except CorruptIndexError as e:  # an index entry points at no batch: rebuild, retry
            log.warning("rebuilding indexes of %s: %s", seg.log_path, e)
            seg.recover()
            return seg.translate_offset(offset)

    def read(self, fetch_offset: int, max_bytes: int, *, upper_bound: int | None = None,
             min_one_batch: bool = True) -> FetchSlice:
        """Whole batches from the one holding `fetch_offset`, at most `max_bytes` (but at least
        one batch when `min_one_batch`, as Kafka does), ending before `upper_bound` (default
        the high watermark). Raises OffsetOutOfRangeError outside [log start, log end]."""
        self._check_offset(fetch_offset)
        bound = self.high_watermark if upper_bound is None else min(upper_bound, self.high_watermark)
        out = FetchSlice()
        if fetch_offset >= bound:
            return out
        bases = self._bases()
        i = max(bisect_right(bases, fetch_offset) - 1, 0)
        offset = fetch_offset
        while i < len(self.segments):
            seg = self.segments[i]
            seg_next = bases[i + 1] if i + 1 < len(bases) else seg.next_offset
            found = self._translate(seg, offset)
            if found is None:
                i, offset = i + 1, seg_next
                continue
            start, h = found
            if h.last_offset >= bound:
                break
            if h.size > max_bytes - out.size and (out.chunks or not min_one_batch):
                break
            limit = seg.size
            if bound < seg_next:  # the bound falls inside this segment
                at_bound = self._translate(seg, bound)
                limit = at_bound[0] if at_bound is not None else seg.size
            end = start + h.size
            limit = min(limit, start + max(max_bytes - out.size, h.size))
            jump = seg.offset_index.floor_position(limit)  # a batch boundary: whole batches
            if jump > end:
                end = jump
            for pos, nh in seg.iter_headers(end, limit, strict=False):
                if pos + nh.size > limit:
                    break
                end = pos + nh.size
            if out.first_offset < 0:
                out.first_offset = h.base_offset
            out.chunks.append((seg.file, start, end - start))
            out.size += end - start
            if end < seg.size or seg_next >= bound:
                nxt = seg.read_header(end) if end < seg.size else None
                out.next_offset = nxt.base_offset if nxt is not None else seg_next
                break
            i, offset = i + 1, seg_next
            out.next_offset = seg_next
        return out

    # ---- timestamps ---------------------------------------------------------------------

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record with timestamp >= `timestamp` (ListOffsets by
        time), found via the time index; None when every record is older."""
        return lookups.offset_for_timestamp(self, timestamp)

    def max_timestamp_and_offset(self) -> tuple[int, int]:
        """(max timestamp, offset of its record) over the log (ListOffsets MAX_TIMESTAMP);
        (-1, -1) when no record has a timestamp."""
        return lookups.max_timestamp_and_offset(self)

    # ---- transactions -------------------------------------------------------------------

    @property
    def last_stable_offset(self) -> int:
        """The first offset of the oldest open transaction, or the high watermark: where a
        read_committed fetch must stop (FetchResponse last_stable_offset)."""
        unstable = self.producer_state.first_unstable_offset()
        return self.high_watermark if unstable is None else min(unstable, self.high_watermark)

    def aborted_transactions(self, fetch_offset: int, upper_bound: int) -> list[tuple[int, int]]:
        """(producer id, first offset) of aborted transactions overlapping [fetch_offset,
        upper_bound): the AbortedTransactions of a read_committed FetchResponse."""
        return [(e.producer_id, e.first_offset) for e in self.aborted
                if e.last_offset >= fetch_offset and e.first_offset < upper_bound]

    def _track_producer(self, h: BatchHeader, first: int, last: int, max_ts: int,
                        marker: int | None, segment: LogSegment, *, write: bool) -> None:
        aborted = self.producer_state.update(h, first, last, max_ts, marker)
        if aborted is None:
            return
        unstable = self.producer_state.first_unstable_offset()
        entry = AbortedTxn(h.producer_id, aborted[0], aborted[1],
                           aborted[1] + 1 if unstable is None else unstable)
        self.aborted.append(entry)
        if write:
            append_txn_index(segment.txnindex_path, entry)

    def _load_producer_state(self) -> None:
        """Rebuild producer and transaction state from the batch headers, and each segment's
        .txnindex from what the log says (repairing one a crash left behind); then add the
        producers of the newest readable snapshot at or below the log end whose batches are
        all gone (retention deleted them; Kafka keeps them until they expire). A snapshot past
        a truncated tail is removed."""
        leo = self.log_end_offset
        snapshot = None
        for offset in reversed(list_snapshots(self.dir)):
            if offset > leo:
                snapshot_path(self.dir, offset).unlink(missing_ok=True)
                continue
            snapshot = read_snapshot(self.dir, offset)
            if snapshot is not None:
                break
        for seg in self.segments:
            before = len(self.aborted)
            for pos, h in seg.all_headers():
                if h.producer_id < 0:
                    continue
                marker = marker_type(os.pread(seg.fd, h.size, pos)) if h.is_control else None
                self._track_producer(h, h.base_offset, h.last_offset, h.max_timestamp, marker,
                                     seg, write=False)
            found = self.aborted[before:]
            if read_txn_index(seg.txnindex_path) != found:
                write_txn_index(seg.txnindex_path, found)
        if snapshot is not None:
            for pid, entry in snapshot.producers.items():
                self.producer_state.producers.setdefault(pid, entry)

    # ---- compaction ---------------------------------------------------------------------

    def compact(self, now_ms: int, *, force: bool = False) -> CleanResult:
        """One compaction pass (cleanup.policy=compact; see cleaner.py); a no-op for
        delete-only topics. Advances `first_dirty_offset`."""
        if not self.config.compact:
            size = self.size_bytes
            return CleanResult(0, size, size, self.first_dirty_offset)
        result = compact(self, self.first_dirty_offset, now_ms, force=force)
        self.first_dirty_offset = result.first_dirty_offset
        self._reap(now_ms)
        return result

    def _set_log_start_offset(self, offset: int) -> None:
        self._log_start_offset = offset
        if self.on_log_start_offset_change is not None:
            self.on_log_start_offset_change(offset)

    # ---- lifecycle ----------------------------------------------------------------------

    def update_config(self, config: LogConfig) -> None:
        """Apply an AlterConfigs change; takes effect from the next append/roll/retention run."""
        self.config = config
        for seg in self.segments:
            seg.index_interval_bytes = config.index_interval_bytes

    def close(self) -> None:
        """Flush and close every file; the next open needs no recovery if told it was clean."""
        if self.closed:
            return
        self.flush()
        if self.dir.exists() and self.log_end_offset not in list_snapshots(self.dir):
            write_snapshot(self.dir, self.log_end_offset, self.producer_state)
        for seg in self.segments:
            seg.close()
        self._reap(0, force=True)
        self.closed = True

    def delete(self) -> None:
        """Close and remove every segment file (DeleteTopics)."""
        for seg in self.segments:
            seg.delete_files().close()
        for offset in list_snapshots(self.dir):
            snapshot_path(self.dir, offset).unlink(missing_ok=True)
        self.segments = []
        self._reap(0, force=True)
        self.closed = True
