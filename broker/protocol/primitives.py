"""Runtime helpers the compiled encoders/decoders call: unsigned varints, UUID bytes and the
records-buffer normalisation that keeps record bytes out of the codec's own buffers."""
from __future__ import annotations

import uuid
from typing import Any

from .errors import CorruptMessageError

Buffer = bytes | bytearray | memoryview
_ZERO = bytes(16)


def read_uvarint(buf: memoryview, o: int) -> tuple[int, int]:
    """Decode an unsigned varint (at most 5 bytes, i.e. 32 bits) at `o`; returns (value, new offset)."""
    value = 0
    shift = 0
    for i in range(5):
        byte = buf[o + i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, o + i + 1
        shift += 7
    raise CorruptMessageError("unsigned varint longer than 5 bytes")


def uvarint_bytes(value: int) -> bytes:
    """Encode an unsigned varint (Kafka's compact lengths and tagged-field headers)."""
    if value < 0 or value > 0xFFFFFFFF:
        raise ValueError(f"unsigned varint out of range: {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def uuid_bytes(value: Any) -> bytes:
    """A Kafka UUID field value (uuid.UUID, 16 raw bytes, or None for the zero UUID, Kafka's
    "unset") as its 16 wire bytes."""
    if isinstance(value, uuid.UUID):
        return value.bytes
    if value is None:
        return _ZERO
    raw = bytes(value)
    if len(raw) != 16:
        raise ValueError(f"a UUID is 16 bytes, got {len(raw)}")
    return raw


def records_parts(value: Any) -> tuple[list[Buffer], int]:
    """Normalise a records value (bytes, bytearray, memoryview, an object with an int `nbytes`
    such as a server's file region, or a list of those) to a list of non-empty items and their
    total size in bytes, without copying any of them."""
    if isinstance(value, (bytes, bytearray)):
        return ([value] if value else []), len(value)
    if isinstance(value, memoryview):
        if value.format != "B" or value.ndim != 1:
            value = value.cast("B")
        return ([value] if value.nbytes else []), value.nbytes
    if isinstance(getattr(value, "nbytes", None), int):
        # not a buffer but sized: e.g. a file region the server writes with os.sendfile
        return ([value] if value.nbytes else []), value.nbytes
    parts: list[Buffer] = []
    total = 0
    for item in value:
        sub, size = records_parts(item)
        parts += sub
        total += size
    return parts, total
