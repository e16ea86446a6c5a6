"""Log compaction for cleanup.policy=compact (Kafka's LogCleaner, one synchronous pass):
keep only the latest record of every key below the active segment, so changelogs and
`__consumer_offsets` stay bounded and restore fast.

A pass: find the cleanable range [first dirty offset, first uncleanable offset) (the active
segment and segments younger than min.compaction.lag.ms are uncleanable), map each key to its
latest offset in that range, then rewrite every segment below the first uncleanable offset:
a batch whose records all survive is copied byte for byte; a batch that lost some is rebuilt
with the survivors at their original offsets (Kafka's filterTo); an emptied batch is dropped.
Tombstones (null values) go once their segment is older than delete.retention.ms. Nothing at
or above the last stable offset is cleanable (open transactions stay whole); below it,
committed transactional records are compacted like any others and aborted ones are removed
(Kafka's cleaner does both); control batches (markers) and batches in codecs we cannot decode
(snappy/lz4/zstd) are kept as they are and do not enter the key map, so compaction never
drops a record it cannot prove superseded. A rewritten segment replaces the old one by rename
(index files removed first, then rebuilt), so a crash leaves either file, never a mix.

Background use (the broker's cleaner task): `prepare` (event loop, cheap) picks the range and
the segments; `build` (a worker thread: only preads of inactive segments and writes of
`.cleaned` files) computes the survivors; `finish` (event loop) swaps the files in. Produce and
fetch never wait for a pass.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pystreams.broker.protocol.record_batch import (GZIP, LOG_APPEND_TIME, BatchError,
                                                    BatchHeader, Record, build_batch,
                                                    read_records)

from .segment import LogSegment

if TYPE_CHECKING:
    from .partition_log import PartitionLog


@dataclass(frozen=True, slots=True)
class CleanResult:
    """What one compaction pass did."""

    segments_cleaned: int
    bytes_before: int
    bytes_after: int
    first_dirty_offset: int  # where the next pass starts building its key map


def cleanable_range(log: PartitionLog, first_dirty: int, now_ms: int) -> tuple[int, int]:
    """[first dirty, first uncleanable): never the active segment, nor the segment holding the
    last stable offset (open transactions) or any after it, nor a segment with records newer
    than min.compaction.lag.ms."""
    first_dirty = max(first_dirty, log.log_start_offset)
    uncleanable = log.active_segment.base_offset
    lag = log.config.min_compaction_lag_ms
    lso = log.last_stable_offset
    for seg in log.segments[:-1]:
        nxt_base = seg.next_offset
        if lso < nxt_base:  # this segment holds the LSO: it and everything after stay
            uncleanable = min(uncleanable, seg.base_offset)
            break
        if seg.base_offset >= first_dirty and lag > 0 and seg.max_timestamp > now_ms - lag:
            uncleanable = seg.base_offset
            break
    return min(first_dirty, uncleanable), uncleanable


def dirty_ratio(log: PartitionLog, first_dirty: int, uncleanable: int) -> float:
    """Dirty bytes / cleanable bytes (min.cleanable.dirty.ratio compares against it)."""
    dirty = clean = 0
    for seg in log.segments:
        if seg.base_offset >= uncleanable:
            break
        if seg.base_offset >= first_dirty:
            dirty += seg.size
        clean += seg.size
    return dirty / clean if clean else 0.0


@dataclass
class CleanJob:
    """One planned pass: the range, the inactive segments below its end, and what to drop."""

    start: int
    end: int
    size_before: int
    segments: list[LogSegment]
    drop_tombstones: list[bool]
    aborted: dict[int, list[tuple[int, int]]]  # producer id -> aborted [first, last] ranges
    last_batch_of: dict[int, int]  # producer id -> last offset of its last batch (kept)


def prepare(log: PartitionLog, first_dirty: int, now_ms: int, *,
            force: bool = False) -> CleanJob | CleanResult:
    """Plan a pass (event loop; cheap). A CleanResult means there is nothing to do: the dirty
    ratio is below min.cleanable.dirty.ratio (unless `force`, which also sweeps expired
    tombstones from an already clean log)."""
    start, end = cleanable_range(log, first_dirty, now_ms)
    size = log.size_bytes
    if not force and (end <= start or dirty_ratio(log, start, end)
                      < log.config.min_cleanable_dirty_ratio):
        return CleanResult(0, size, size, start)
    segments = [s for s in log.segments if s.base_offset < end and s is not log.active_segment]
    aborted: dict[int, list[tuple[int, int]]] = {}
    for e in log.aborted:
        aborted.setdefault(e.producer_id, []).append((e.first_offset, e.last_offset))
    last = {pid: entry.last_offset for pid, entry in log.producer_state.producers.items()}
    return CleanJob(start, end, size, segments,
                    [s.largest_timestamp < now_ms - log.config.delete_retention_ms
                     for s in segments], aborted, last)


def build(job: CleanJob) -> list[tuple[LogSegment, Path]]:
    """The heavy part, safe off the event loop: key map, then each segment that loses records
    written to `<segment>.log.cleaned`. Returns (segment, cleaned file) pairs to swap in."""
    latest = _key_map(job)
    out = []
    for seg, drop_tombstones in zip(job.segments, job.drop_tombstones):
        data = _clean_segment(job, seg, latest, drop_tombstones)
        if data is not None:
            cleaned = seg.log_path.with_name(seg.log_path.name + ".cleaned")
            with open(cleaned, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            out.append((seg, cleaned))
    return out


def finish(log: PartitionLog, job: CleanJob, built: list[tuple[LogSegment, Path]],
           now_ms: int) -> CleanResult:
    """Swap the cleaned files in (event loop). A segment deleted meanwhile (retention) is
    skipped and its cleaned file removed."""
    cleaned = 0
    for seg, path in built:
        if seg not in log.segments or log.closed:
            path.unlink(missing_ok=True)
            continue
        _swap(log, seg, path, now_ms)
        cleaned += 1
    return CleanResult(cleaned, job.size_before, log.size_bytes, job.end)


def compact(log: PartitionLog, first_dirty: int, now_ms: int, *, force: bool = False) -> CleanResult:
    """One synchronous pass over `log` (prepare, build, finish in a row)."""
    job = prepare(log, first_dirty, now_ms, force=force)
    if isinstance(job, CleanResult):
        return job
    return finish(log, job, build(job), now_ms)


def _batches(seg: LogSegment) -> list[tuple[BatchHeader, bytes]]:
    data = os.pread(seg.fd, seg.size, 0)
    return [(h, data[pos:pos + h.size]) for pos, h in seg.iter_headers(0, len(data))]


def _is_aborted(job: CleanJob, h: BatchHeader) -> bool:
    return h.is_transactional and any(first <= h.base_offset <= last
                                      for first, last in job.aborted.get(h.producer_id, ()))


def _readable(job: CleanJob, h: BatchHeader, raw: bytes) -> list[Record] | None:
    """The batch's records when compaction may filter them; None to keep the batch as is."""
    if h.is_control or h.base_offset >= job.end or _is_aborted(job, h):
        return None
    try:
        return read_records(raw)
    except BatchError:
        return None


def _key_map(job: CleanJob) -> dict[bytes, int]:
    start, end = job.start, job.end
    latest: dict[bytes, int] = {}
    for seg in job.segments:
        if seg.base_offset >= end:
            break
        if seg.next_offset <= start:
            continue
        for h, raw in _batches(seg):
            if h.last_offset < start or h.base_offset >= end:
                continue
            for r in _readable(job, h, raw) or ():
                if r.key is not None and start <= r.offset < end:
                    latest[r.key] = r.offset
    return latest


def _clean_segment(job: CleanJob, seg: LogSegment, latest: dict[bytes, int],
                   drop_tombstones: bool) -> bytes | None:
    """The segment's new bytes when it holds superseded or aborted records, else None."""
    out: list[bytes] = []
    changed = False
    for h, raw in _batches(seg):
        if _is_aborted(job, h) and h.base_offset < job.end and not _last_of_producer(job, h):
            changed = True  # an aborted transaction's records: consumers never see them
            continue
        records = _readable(job, h, raw)
        if records is None:
            out.append(raw)
            continue
        keep = [r for r in records
                if not (r.key is not None and latest.get(r.key, -1) > r.offset)
                and not (drop_tombstones and r.value is None)]
        if len(keep) == len(records) or (not keep and _last_of_producer(job, h)):
            out.append(raw)  # a producer's last batch stays: its sequence state lives there
        elif keep:
            out.append(_rebuild(h, keep))
            changed = True
        else:
            changed = True
    return b"".join(out) if changed else None


def _last_of_producer(job: CleanJob, h: BatchHeader) -> bool:
    return h.producer_id >= 0 and job.last_batch_of.get(h.producer_id) == h.last_offset


def _rebuild(h: BatchHeader, keep: list[Record]) -> bytes:
    """The survivors in a new batch with the original base and last offsets, producer fields and
    transactional flag (Kafka's filterTo keeps the last offset so the producer's last sequence stays)."""
    log_append = h.timestamp_type == LOG_APPEND_TIME
    return build_batch([(r.key, r.value, r.headers) for r in keep], base_offset=h.base_offset,
                       offsets=[r.offset for r in keep], last_offset=h.last_offset,
                       timestamps=[r.timestamp for r in keep],
                       max_timestamp=h.max_timestamp if log_append else None,
                       compression=GZIP if h.compression == GZIP else 0,
                       producer_id=h.producer_id, producer_epoch=h.producer_epoch,
                       base_sequence=h.base_sequence, transactional=h.is_transactional,
                       partition_leader_epoch=h.partition_leader_epoch,
                       timestamp_type=h.timestamp_type)


def _swap(log: PartitionLog, old: LogSegment, cleaned: Path, now_ms: int) -> None:
    old.release_index_fds()
    old.index_path.unlink(missing_ok=True)      # no stale index may outlive the old .log
    old.timeindex_path.unlink(missing_ok=True)
    os.replace(cleaned, old.log_path)
    i = log.segments.index(old)
    new = LogSegment(log.dir, old.base_offset, index_interval_bytes=log.config.index_interval_bytes,
                     max_index_size=log.config.segment_index_bytes, created_ms=old.created_ms)
    new.recover()
    new.next_offset = log.segments[i + 1].base_offset
    new.release_index_fds()
    # the old inode stays open for in-flight fetches until file.delete.delay.ms
    log.retire_file(old.file, now_ms)
    if new.size == 0 and i > 0:
        log.segments.pop(i)
        new.delete_files().close()
    else:
        log.segments[i] = new
