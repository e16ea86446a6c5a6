"""Sparse segment indexes in Kafka's file formats, so kafka-dump-log reads them:

- `.index`: 8-byte entries (relative offset int32, file position int32), big-endian; an entry
  maps a batch's LAST offset to the file position where that batch starts.
- `.timeindex`: 12-byte entries (timestamp int64, relative offset int32); appended only when
  the segment's max timestamp grows.

Kafka preallocates both to segment.index.bytes and trims them on roll/close; we append entries
with write() instead (buffered up to 4 KiB), so the file is always exactly valid entries (what
Kafka leaves after a trim) and a SIGKILL can leave at most a partial last entry, which the
sanity check catches.
Entries are mirrored in compact arrays for binary search.
"""
from __future__ import annotations

import os
import struct
from array import array
from bisect import bisect_left, bisect_right
from pathlib import Path


class CorruptIndexError(Exception):
    """An index file is inconsistent; the segment's indexes are rebuilt from its .log."""


class _IndexFile:
    entry_size = 0

    def __init__(self, path: Path, base_offset: int, max_index_size: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.max_entries = max(1, max_index_size // self.entry_size)
        self._fd: int | None = None
        # entries not yet written: one write per 4 KiB instead of a syscall per entry. Losing
        # them to a crash is harmless: unclean recovery rebuilds the indexes of every segment
        # past the recovery point, and flush/roll/close write them first.
        self._pending = bytearray()

    def _write(self, data: bytes) -> None:
        self._pending += data
        if len(self._pending) >= 4096:
            self._drain()

    def _drain(self) -> None:
        if not self._pending:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        view = memoryview(self._pending)
        while view:
            view = view[os.write(self._fd, view):]
        view.release()
        self._pending.clear()

    def _read_all(self) -> bytes:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise CorruptIndexError(f"index file {self.path} is missing") from None
        if len(data) % self.entry_size:
            raise CorruptIndexError(f"index file {self.path} has size {len(data)}, not a "
                                    f"multiple of {self.entry_size}")
        return data

    def flush(self) -> None:
        self._drain()
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        self._drain()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def reset(self) -> None:
        """Empty the index (before a rebuild from the log)."""
        self._pending.clear()
        self.close()
        with open(self.path, "wb"):
            pass
        self._clear()

    def delete(self) -> None:
        self._pending.clear()
        self.close()
        self.path.unlink(missing_ok=True)

    def _clear(self) -> None:
        raise NotImplementedError


class OffsetIndex(_IndexFile):
    """offset -> position of the batch holding it, sparse (one entry per index.interval.bytes)."""

    entry_size = 8
    _ENTRY = struct.Struct(">ii")

    def __init__(self, path: Path, base_offset: int, max_index_size: int) -> None:
        super().__init__(path, base_offset, max_index_size)
        self.relative_offsets = array("i")
        self.positions = array("i")

    def _clear(self) -> None:
        self.relative_offsets = array("i")
        self.positions = array("i")

    def load(self, log_size: int) -> None:
        """Read and sanity-check the file against the segment's .log size."""
        data = self._read_all()
        offsets, positions = array("i"), array("i")
        last_rel = last_pos = -1
        for rel, pos in self._ENTRY.iter_unpack(data):
            if rel <= last_rel or pos <= last_pos or rel < 0 or pos >= log_size:
                raise CorruptIndexError(
                    f"index file {self.path}: entry (offset {self.base_offset + rel}, position "
                    f"{pos}) is out of order or beyond the log ({log_size} bytes)")
            offsets.append(rel)
            positions.append(pos)
            last_rel, last_pos = rel, pos
        self.relative_offsets, self.positions = offsets, positions

    def __len__(self) -> int:
        return len(self.relative_offsets)

    @property
    def is_full(self) -> bool:
        return len(self.relative_offsets) >= self.max_entries

    @property
    def last_offset(self) -> int:
        return self.base_offset + (self.relative_offsets[-1] if self.relative_offsets else 0)

    def append(self, offset: int, position: int) -> None:
        """Index the batch whose last offset is `offset`, starting at `position`."""
        rel = offset - self.base_offset
        if self.relative_offsets and rel <= self.relative_offsets[-1]:
            return  # Kafka refuses non-increasing entries; the index is only a hint
        self._write(self._ENTRY.pack(rel, position))
        self.relative_offsets.append(rel)
        self.positions.append(position)

    def lookup(self, offset: int) -> int:
        """File position to start scanning from for `offset`: the greatest indexed batch start
        whose last offset is <= offset (0 when none)."""
        i = bisect_right(self.relative_offsets, offset - self.base_offset)
        return self.positions[i - 1] if i else 0

    def floor_position(self, position: int) -> int:
        """The greatest indexed batch start <= `position` (0 when none): a batch boundary."""
        i = bisect_right(self.positions, position)
        return self.positions[i - 1] if i else 0


class TimeIndex(_IndexFile):
    """timestamp -> offset, entries only when the segment's max timestamp grows."""

    entry_size = 12
    _ENTRY = struct.Struct(">qi")

    def __init__(self, path: Path, base_offset: int, max_index_size: int) -> None:
        super().__init__(path, base_offset, max_index_size)
        self.timestamps = array("q")
        self.relative_offsets = array("i")

    def _clear(self) -> None:
        self.timestamps = array("q")
        self.relative_offsets = array("i")

    def load(self, next_offset: int | None = None) -> None:
        """Read and sanity-check: timestamps increase, offsets never go back or past the log."""
        data = self._read_all()
        stamps, offsets = array("q"), array("i")
        for ts, rel in self._ENTRY.iter_unpack(data):
            if (stamps and (ts <= stamps[-1] or rel < offsets[-1])) or rel < 0 or (
                    next_offset is not None and self.base_offset + rel >= next_offset):
                raise CorruptIndexError(f"time index file {self.path}: entry (timestamp {ts}, "
                                        f"offset {self.base_offset + rel}) is out of order")
            stamps.append(ts)
            offsets.append(rel)
        self.timestamps, self.relative_offsets = stamps, offsets

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def is_full(self) -> bool:
        return len(self.timestamps) >= self.max_entries

    def last_entry(self) -> tuple[int, int]:
        """(timestamp, offset) of the last entry, or (-1, base offset) when empty."""
        if not self.timestamps:
            return -1, self.base_offset
        return self.timestamps[-1], self.base_offset + self.relative_offsets[-1]

    def maybe_append(self, timestamp: int, offset: int, skip_full_check: bool = False) -> None:
        """Append when `timestamp` is larger than the last indexed one (Kafka's rule)."""
        if timestamp <= self.last_entry()[0]:
            return
        if not skip_full_check and self.is_full:
            return
        rel = offset - self.base_offset
        if self.relative_offsets and rel < self.relative_offsets[-1]:
            return
        self._write(self._ENTRY.pack(timestamp, rel))
        self.timestamps.append(timestamp)
        self.relative_offsets.append(rel)

    def lookup(self, timestamp: int) -> int:
        """An offset from which to scan for the first record with a timestamp >= `timestamp`:
        that of the last entry strictly below it (records before it are all older)."""
        i = bisect_left(self.timestamps, timestamp)
        return self.base_offset + self.relative_offsets[i - 1] if i else self.base_offset
