"""ListOffsets by time over a PartitionLog: the time index narrows to a batch, then the batch's
records (read, never re-encoded; uncompressed or gzip) give the exact record, as Kafka answers."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from pystreams.broker.protocol.record_batch import (LOG_APPEND_TIME, BatchError, BatchHeader,
                                                    Record, read_records)

from .segment import LogSegment

if TYPE_CHECKING:
    from .partition_log import PartitionLog


def offset_for_timestamp(log: PartitionLog, timestamp: int) -> tuple[int, int] | None:
    """(offset, timestamp) of the first record at or after `timestamp` and the log start."""
    start = log.log_start_offset
    for seg in log.segments:
        if seg.max_timestamp < timestamp or seg.next_offset <= start:
            continue
        found = seg.find_timestamp(timestamp, start)
        if found is None:
            continue
        pos, h = found
        return record_at_or_after(seg, pos, h, start, lambda r: r.timestamp >= timestamp)
    return None


def max_timestamp_and_offset(log: PartitionLog) -> tuple[int, int]:
    """(max timestamp, offset of the record carrying it); (-1, -1) when there is none."""
    best = max(log.segments, key=lambda s: s.max_timestamp)
    if best.max_timestamp < 0:
        return -1, -1
    ts, offset = best.max_timestamp, best.offset_of_max_timestamp
    found = best.translate_offset(offset)
    if found is not None:
        offset, _ = record_at_or_after(best, found[0], found[1], log.log_start_offset,
                                       lambda r: r.timestamp == ts)
    return ts, offset


def record_at_or_after(seg: LogSegment, pos: int, h: BatchHeader, floor: int,
                       match: Callable[[Record], bool]) -> tuple[int, int]:
    """Narrow a batch to its first matching record at or above `floor`; for codecs we cannot
    decode (and LogAppendTime, where every record has the batch's time), the batch's first
    offset and max timestamp."""
    if h.timestamp_type != LOG_APPEND_TIME:
        try:
            for r in read_records(os.pread(seg.fd, h.size, pos)):
                if r.offset >= floor and match(r):
                    return r.offset, r.timestamp
        except BatchError:
            pass
    return max(h.base_offset, floor), h.max_timestamp
