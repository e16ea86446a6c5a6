"""Retention for PartitionLog: DeleteRecords, retention.ms/bytes, and the delayed close of deleted segments'
files (Kafka's file.delete.delay.ms). A mixin so partition_log.py keeps to appends, reads and lifecycle."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .config import LogConfig
from .errors import OffsetOutOfRangeError
from .producer_snapshot import list_snapshots, snapshot_path
from .producer_state import ProducerStateManager
from .segment import LogSegment
from .transactions import AbortedTxn


class RetentionMixin:
    """Age segments out of a PartitionLog (the attributes below are PartitionLog's)."""

    dir: Path
    config: LogConfig
    segments: list[LogSegment]
    producer_state: ProducerStateManager
    aborted: list[AbortedTxn]
    _log_start_offset: int
    _graveyard: list[tuple[int, BinaryIO]]

    @property
    def high_watermark(self) -> int:
        raise NotImplementedError

    @property
    def size_bytes(self) -> int:
        raise NotImplementedError

    def roll(self, now_ms: int | None = None) -> LogSegment:
        raise NotImplementedError

    def _now_ms(self) -> int:
        raise NotImplementedError

    def _set_log_start_offset(self, offset: int) -> None:
        raise NotImplementedError

    def delete_records(self, before_offset: int) -> int:
        """DeleteRecords: move the log start offset up to `before_offset` (-1: the high
        watermark) and delete segments wholly below it. Returns the new log start offset."""
        if before_offset == -1:
            before_offset = self.high_watermark
        if before_offset < 0 or before_offset > self.high_watermark:
            raise OffsetOutOfRangeError(
                f"cannot delete records before {before_offset}: the high watermark is "
                f"{self.high_watermark}")
        if before_offset > self._log_start_offset:
            self._set_log_start_offset(before_offset)
            self._delete_oldest(lambda seg, nxt: nxt is not None
                                and nxt.base_offset <= self._log_start_offset)
        return self._log_start_offset

    def enforce_retention(self, now_ms: int) -> int:
        """Delete old segments by log start offset, retention.bytes and retention.ms (by each
        segment's largest timestamp), oldest first; returns how many were deleted."""
        deleted = self._delete_oldest(lambda seg, nxt: nxt is not None
                                      and nxt.base_offset <= self._log_start_offset)
        if self.config.delete:
            if self.config.retention_bytes >= 0:
                excess = [self.size_bytes - self.config.retention_bytes]

                def over_size(seg: LogSegment, nxt: LogSegment | None) -> bool:
                    if excess[0] - seg.size >= 0:
                        excess[0] -= seg.size
                        return True
                    return False
                deleted += self._delete_oldest(over_size)
            if self.config.retention_ms >= 0:
                deleted += self._delete_oldest(
                    lambda seg, nxt: now_ms - seg.largest_timestamp > self.config.retention_ms)
        self.producer_state.remove_expired(now_ms, self.config.producer_id_expiration_ms,
                                           self._log_start_offset)
        self._reap(now_ms)
        return deleted

    def _delete_oldest(self, predicate: Callable[[LogSegment, LogSegment | None], bool]) -> int:
        doomed: list[LogSegment] = []
        for i, seg in enumerate(self.segments):
            nxt = self.segments[i + 1] if i + 1 < len(self.segments) else None
            if nxt is None and seg.size == 0:
                break
            if not predicate(seg, nxt):
                break
            doomed.append(seg)
        if not doomed:
            return 0
        if len(doomed) == len(self.segments):
            self.roll()  # Kafka rolls first: the active segment is never deleted in place
        now = self._now_ms()
        for seg in doomed:
            self.segments.remove(seg)
            seg.on_become_inactive()
            self.retire_file(seg.delete_files(), now)
        if self.segments[0].base_offset > self._log_start_offset:
            self._set_log_start_offset(self.segments[0].base_offset)
        snapshots = list_snapshots(self.dir)  # keep those of live segments, and the newest
        for offset in snapshots[:-1]:
            if offset < self.segments[0].base_offset:
                snapshot_path(self.dir, offset).unlink(missing_ok=True)
        self.aborted = [e for e in self.aborted if e.last_offset >= self.segments[0].base_offset]
        return len(doomed)

    def retire_file(self, file: BinaryIO, now_ms: int) -> None:
        """Close a replaced/deleted segment's file only after file.delete.delay.ms, so fetch
        slices already handed out stay sendable."""
        self._graveyard.append((now_ms + self.config.file_delete_delay_ms, file))

    def _reap(self, now_ms: int, force: bool = False) -> None:
        keep = []
        for deadline, f in self._graveyard:
            if force or deadline <= now_ms:
                f.close()
            else:
                keep.append((deadline, f))
        self._graveyard = keep
