"""The suppression buffer's changelog value format (Kafka's InMemoryTimeOrderedKeyValueChangeBuffer, header
"v" = 3): the record context (ProcessorRecordContext.serialize), then prior, old and new value (4-byte length,
-1 for null; old = -2 when it equals prior), then the buffer time as 8 bytes. Big-endian like Java."""
from __future__ import annotations

import struct
from typing import Any

from pystreams.errors import StateStoreError

#: Kafka's CHANGELOG_HEADERS of the buffer: the format version of the value.
CHANGELOG_HEADERS = (("v", b"\x03"),)
_NULL, _OLD_IS_PRIOR = -1, -2


def _put(out: list[bytes], value: bytes | None) -> None:
    out.append(struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value)


def encode(timestamp: int, offset: int, topic: str | None, partition: int, headers: Any,
           prior: bytes | None, old: bytes | None, new: bytes | None, buffer_time: int) -> bytes:
    """One buffered entry as its changelog value."""
    topic_bytes = (topic or "").encode()
    out = [struct.pack(">qqi", timestamp, offset, len(topic_bytes)), topic_bytes, struct.pack(">i", partition)]
    hs = list(headers or ())
    out.append(struct.pack(">i", len(hs)))
    for key, value in hs:
        _put(out, key.encode() if isinstance(key, str) else bytes(key))
        _put(out, None if value is None else bytes(value))
    _put(out, prior)
    if old is None:
        out.append(struct.pack(">i", _NULL))
    elif old == prior:
        out.append(struct.pack(">i", _OLD_IS_PRIOR))
    else:
        _put(out, old)
    _put(out, new)
    out.append(struct.pack(">q", buffer_time))
    return b"".join(out)


class Decoded:
    """A changelog value read back: record context, the three values and the buffer time."""

    __slots__ = ("timestamp", "offset", "topic", "partition", "headers", "prior", "old", "new", "buffer_time")

    def __init__(self, data: bytes) -> None:
        try:
            self._read(memoryview(data))
        except (struct.error, ValueError, UnicodeDecodeError) as e:
            raise StateStoreError(f"a suppression buffer changelog value is not in Kafka's v3 format: {e}") from e

    def _read(self, buf: memoryview) -> None:
        pos = 0

        def take(n: int) -> bytes:
            nonlocal pos
            if pos + n > len(buf):
                raise ValueError("truncated value")
            pos += n
            return bytes(buf[pos - n:pos])

        def sized() -> bytes | None:
            n = struct.unpack(">i", take(4))[0]
            return None if n < 0 else take(n)

        self.timestamp, self.offset, tlen = struct.unpack(">qqi", take(20))
        self.topic = take(tlen).decode()
        self.partition, count = struct.unpack(">ii", take(8))
        headers = []
        for _ in range(max(count, 0)):
            key = sized()
            headers.append(((key or b"").decode(), sized()))
        self.headers = tuple(headers)
        self.prior = sized()
        n = struct.unpack(">i", take(4))[0]
        self.old = self.prior if n == _OLD_IS_PRIOR else None if n < 0 else take(n)
        self.new = sized()
        self.buffer_time = struct.unpack(">q", take(8))[0]
        if pos != len(buf):
            raise ValueError(f"{len(buf) - pos} bytes after the buffer time")
