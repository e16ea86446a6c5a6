"""What append and read hand back to the server: offsets assigned, and file ranges to send."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import BinaryIO


@dataclass(frozen=True, slots=True)
class AppendInfo:
    """The outcome of one produce append (what a ProduceResponse partition reports)."""

    base_offset: int
    last_offset: int
    log_append_time: int      # -1 unless the topic uses LogAppendTime
    log_start_offset: int
    record_count: int
    max_timestamp: int = -1
    valid_bytes: int = 0


@dataclass(slots=True)
class FetchSlice:
    """Whole stored batches as file ranges, to send with os.sendfile or os.pread, never decoded.

    Each chunk is (file, position, length); `file.fileno()` is the fd. Do not rely on the file's
    own position (shared by every reader): always pass `position` explicitly. A deleted segment's
    file stays open for file.delete.delay.ms, so a slice stays sendable for that long."""

    chunks: list[tuple[BinaryIO, int, int]] = field(default_factory=list)
    size: int = 0
    first_offset: int = -1       # base offset of the first batch, -1 when empty
    next_offset: int = -1        # offset after the last whole batch included

    def to_bytes(self) -> bytes:
        """Materialize the bytes (tests, and transports that cannot sendfile, such as TLS)."""
        return b"".join(self.buffers())

    def buffers(self) -> list[bytes]:
        """One bytes object per chunk, read with pread."""
        out = []
        for f, pos, length in self.chunks:
            data = os.pread(f.fileno(), length, pos)
            while len(data) < length:  # pread may return short on some filesystems
                more = os.pread(f.fileno(), length - len(data), pos + len(data))
                if not more:
                    raise EOFError(f"segment file shrank under a fetch at {pos}")
                data += more
            out.append(data)
        return out
