"""One log segment: `<20-digit base offset>.log` holding batches back to back exactly as on the
wire, with its sparse `.index` and `.timeindex` (Kafka's LogSegment)."""
from __future__ import annotations

import io
import mmap
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from crc32c import crc32c

from pystreams.broker.protocol.record_batch import (ATTRIBUTES_OFFSET, HEADER_SIZE,
                                                    LOG_OVERHEAD, MAGIC, BatchHeader,
                                                    parse_header)

from .index import CorruptIndexError, OffsetIndex, TimeIndex

INT32_MAX = 2**31 - 1
_IOV_MAX = 1024


def segment_name(base_offset: int) -> str:
    """Kafka's file name stem: the base offset zero-padded to 20 digits."""
    return f"{base_offset:020d}"


class LogSegment:
    """A .log file plus its indexes; appends go through writev, reads through pread."""

    def __init__(self, directory: Path, base_offset: int, *, index_interval_bytes: int,
                 max_index_size: int, created_ms: int | None = None) -> None:
        self.base_offset = base_offset
        stem = directory / segment_name(base_offset)
        self.log_path = stem.with_suffix(".log")
        self.index_path = stem.with_suffix(".index")
        self.timeindex_path = stem.with_suffix(".timeindex")
        self.txnindex_path = stem.with_suffix(".txnindex")
        self.index_interval_bytes = index_interval_bytes
        self.file: io.FileIO = open(self.log_path, "a+b", buffering=0)  # noqa: SIM115
        self.fd = self.file.fileno()
        self.size = os.fstat(self.fd).st_size
        self.offset_index = OffsetIndex(self.index_path, base_offset, max_index_size)
        self.time_index = TimeIndex(self.timeindex_path, base_offset, max_index_size)
        self.created_ms = int(time.time() * 1000) if created_ms is None else created_ms
        self.max_timestamp = -1
        self.offset_of_max_timestamp = base_offset
        self.rolling_based_timestamp: int | None = None  # max timestamp of the first batch
        self.bytes_since_last_index_entry = 0
        self.next_offset = base_offset  # valid for the active segment (and after load_tail)

    # ---- create / load ------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, base_offset: int, *, index_interval_bytes: int,
               max_index_size: int, created_ms: int | None = None) -> LogSegment:
        """A fresh, empty segment with empty index files (so tools and loaders find them)."""
        seg = cls(directory, base_offset, index_interval_bytes=index_interval_bytes,
                  max_index_size=max_index_size, created_ms=created_ms)
        seg.offset_index.reset()
        seg.time_index.reset()
        return seg

    def load_indexes(self) -> None:
        """Load and sanity-check both indexes; CorruptIndexError means rebuild with recover()."""
        self.offset_index.load(self.size)
        self.time_index.load()
        if len(self.time_index):
            self.max_timestamp, self.offset_of_max_timestamp = self.time_index.last_entry()

    def load_tail(self) -> int:
        """After a clean shutdown: walk batch headers from the last index entry to the end to
        learn the next offset, the max timestamp and the index interval state; a torn tail (sizes
        only, no CRC) is cut off. Returns bytes truncated."""
        pos = self.offset_index.positions[-1] if len(self.offset_index) else 0
        valid = pos
        for pos, h in self.iter_headers(pos, self.size, strict=False):
            self._observe(h, pos, index=False)
            valid = pos + h.size
        if len(self.offset_index) and (valid == self.offset_index.positions[-1]
                                       or self.next_offset <= self.offset_index.last_offset):
            # the last entry points at no whole batch (a torn one): the index cannot be trusted
            raise CorruptIndexError(f"{self.index_path}: last entry points past the valid data")
        self.bytes_since_last_index_entry = valid - (
            self.offset_index.positions[-1] if len(self.offset_index) else 0)
        self.rolling_based_timestamp = self._first_batch_max_timestamp()
        return self.truncate_to_size(valid)

    def recover(self) -> int:
        """Rebuild both indexes from the .log, validating every batch (size, magic, CRC-32C,
        offsets), and cut the file at the first invalid byte. Returns bytes truncated."""
        self.offset_index.reset()
        self.time_index.reset()
        self.max_timestamp, self.offset_of_max_timestamp = -1, self.base_offset
        self.next_offset = self.base_offset
        self.bytes_since_last_index_entry = 0
        valid = 0
        if self.size:
            with mmap.mmap(self.fd, self.size, access=mmap.ACCESS_READ) as mm:
                valid = self._scan_valid(memoryview(mm))
        truncated = self.truncate_to_size(valid)
        self.bytes_since_last_index_entry = valid - self._last_index_position()
        self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp, True)
        self.rolling_based_timestamp = self._first_batch_max_timestamp()
        return truncated

    def _scan_valid(self, mv: memoryview) -> int:
        pos, end = 0, len(mv)
        try:
            while end - pos >= HEADER_SIZE:
                h = parse_header(mv, pos)
                size = h.batch_length + LOG_OVERHEAD
                if (size < HEADER_SIZE or pos + size > end or h.magic != MAGIC
                        or h.base_offset < self.next_offset or h.last_offset_delta < 0
                        or h.last_offset - self.base_offset > INT32_MAX
                        or crc32c(mv[pos + ATTRIBUTES_OFFSET:pos + size]) != h.crc):
                    break
                self._observe(h, pos, index=True)
                pos += size
        finally:
            mv.release()
        return pos

    def _observe(self, h: BatchHeader, pos: int, *, index: bool) -> None:
        """Account for a batch already in the file at `pos` (load/recover)."""
        if h.max_timestamp > self.max_timestamp:
            self.max_timestamp, self.offset_of_max_timestamp = h.max_timestamp, h.last_offset
        if index:
            if pos - self._last_index_position() > self.index_interval_bytes:
                self.offset_index.append(h.last_offset, pos)
                self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
        self.next_offset = h.last_offset + 1

    def _last_index_position(self) -> int:
        return self.offset_index.positions[-1] if len(self.offset_index) else 0

    def _first_batch_max_timestamp(self) -> int | None:
        h = self.read_header(0)
        return h.max_timestamp if h is not None else None

    def truncate_to_size(self, size: int) -> int:
        """Cut the .log at `size` (a batch boundary); returns the bytes removed."""
        removed = self.size - size
        if removed > 0:
            os.ftruncate(self.fd, size)
            self.size = size
        return max(removed, 0)

    # ---- append -------------------------------------------------------------------------

    def append(self, buffers: Sequence[bytes | memoryview],
               batches: Sequence[tuple[int, int, int]]) -> None:
        """Write the re-headered batches (one writev per 1024 buffers) and index them.

        `batches` holds (last_offset, size, max_timestamp) per batch, in order."""
        start = self.size
        total = sum(size for _, size, _ in batches)
        try:
            _writev_all(self.fd, buffers, total)
        except OSError:
            os.ftruncate(self.fd, start)  # never leave half a produce behind
            raise
        if start == 0 and batches:
            self.rolling_based_timestamp = batches[0][2]
        pos = start
        for last_offset, size, max_ts in batches:
            if max_ts > self.max_timestamp:
                self.max_timestamp, self.offset_of_max_timestamp = max_ts, last_offset
            if self.bytes_since_last_index_entry > self.index_interval_bytes:
                self.offset_index.append(last_offset, pos)
                self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
                self.bytes_since_last_index_entry = 0
            self.bytes_since_last_index_entry += size
            pos += size
            self.next_offset = last_offset + 1
        self.size = pos

    # ---- read ---------------------------------------------------------------------------

    def read_header(self, pos: int) -> BatchHeader | None:
        """The batch header at `pos`, or None at (or past) the end / on a torn header."""
        if pos + HEADER_SIZE > self.size:
            return None
        data = os.pread(self.fd, HEADER_SIZE, pos)
        return parse_header(data) if len(data) == HEADER_SIZE else None

    def iter_headers(self, start: int, end: int,
                     strict: bool = True) -> Iterator[tuple[int, BatchHeader]]:
        """(position, header) of each whole batch in [start, end): a forward scan."""
        pos = start
        while pos < end:
            h = self.read_header(pos)
            if h is None or h.size < HEADER_SIZE or pos + h.size > self.size or h.magic != MAGIC:
                if strict:
                    raise CorruptIndexError(f"{self.log_path}: no valid batch at {pos}")
                return
            yield pos, h
            pos += h.size

    def translate_offset(self, offset: int, start_position: int = 0
                         ) -> tuple[int, BatchHeader] | None:
        """(position, header) of the first batch whose last offset is >= `offset`, found via the
        sparse index and a short forward scan; None when the segment has no such batch."""
        pos = max(self.offset_index.lookup(offset), start_position)
        for pos, h in self.iter_headers(pos, self.size):
            if h.last_offset >= offset:
                return pos, h
        return None

    def find_timestamp(self, timestamp: int, start_offset: int) -> tuple[int, BatchHeader] | None:
        """(position, header) of the first batch with max timestamp >= `timestamp` (and last
        offset >= start_offset), starting from the time index's hint."""
        hint = max(self.time_index.lookup(timestamp), start_offset)
        for pos, h in self.iter_headers(self.offset_index.lookup(hint), self.size):
            if h.max_timestamp >= timestamp and h.last_offset >= start_offset:
                return pos, h
        return None

    def all_headers(self) -> list[tuple[int, BatchHeader]]:
        """(position, header) of every batch, by one mmap walk (producer-state rebuild)."""
        if not self.size:
            return []
        out = []
        with mmap.mmap(self.fd, self.size, access=mmap.ACCESS_READ) as mm:
            pos = 0
            while pos + HEADER_SIZE <= self.size:
                h = parse_header(mm, pos)
                if h.size < HEADER_SIZE or pos + h.size > self.size:
                    break
                out.append((pos, h))
                pos += h.size
        return out

    @property
    def largest_timestamp(self) -> int:
        """For retention.ms: the max timestamp, or the file's mtime when no batch has one."""
        if self.max_timestamp >= 0:
            return self.max_timestamp
        return int(os.fstat(self.fd).st_mtime * 1000)

    # ---- roll / flush / close / delete ---------------------------------------------------

    def on_become_inactive(self) -> None:
        """On roll: record the max timestamp as the time index's last entry (as Kafka does), so a
        reopened segment knows its largest timestamp without scanning."""
        self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp, True)
        self.release_index_fds()

    def release_index_fds(self) -> None:
        """Close the index files' append fds (reopened on demand): an inactive segment keeps
        only its .log open."""
        self.offset_index.close()
        self.time_index.close()

    def flush(self) -> None:
        os.fsync(self.fd)
        self.offset_index.flush()
        self.time_index.flush()

    def close(self) -> None:
        if self.max_timestamp >= 0:
            self.on_become_inactive()
        self.offset_index.close()
        self.time_index.close()
        self.file.close()

    def delete_files(self) -> io.FileIO:
        """Unlink the files; the open .log stays readable for in-flight fetches until the caller
        closes the returned file (after file.delete.delay.ms, as Kafka delays deletion)."""
        self.offset_index.delete()
        self.time_index.delete()
        self.txnindex_path.unlink(missing_ok=True)
        self.log_path.unlink(missing_ok=True)
        return self.file


def _writev_all(fd: int, buffers: Sequence[bytes | memoryview], total: int) -> None:
    """writev until every byte is written (regular files rarely write short, but can)."""
    bufs = list(buffers)
    written = 0
    while bufs:
        n = os.writev(fd, bufs[:_IOV_MAX])
        written += n
        if written >= total:
            return
        # drop fully written buffers, trim a partially written one
        while bufs and n >= len(bufs[0]):
            n -= len(bufs[0])
            bufs.pop(0)
        if n and bufs:
            bufs[0] = memoryview(bufs[0])[n:]
