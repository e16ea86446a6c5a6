"""Kafka's SessionKeySchema: key bytes + 8-byte session end + 8-byte session start (store and changelog key)."""
from __future__ import annotations

import struct

_END_START = struct.Struct(">qq")


def to_session_key(key: bytes, start: int, end: int) -> bytes:
    return key + _END_START.pack(end, start)


def split_session_key(binary: bytes) -> tuple[bytes, int, int]:
    """(key bytes, start, end)."""
    n = len(binary) - 16
    if n < 0:
        raise ValueError(f"session key needs at least 16 bytes, got {len(binary)}")
    end, start = _END_START.unpack_from(binary, n)
    return binary[:n], start, end
