"""Kafka's WindowKeySchema store/changelog key: key bytes + 8-byte big-endian window start + 4-byte seqnum."""
from __future__ import annotations

import struct

_TS_SEQ = struct.Struct(">qi")
SUFFIX = _TS_SEQ.size  # 12


def to_store_key(key: bytes, window_start: int, seqnum: int = 0) -> bytes:
    """The key a window store writes to RocksDB and to its changelog."""
    return key + _TS_SEQ.pack(window_start, seqnum)


def split_store_key(store_key: bytes) -> tuple[bytes, int, int]:
    """(key bytes, window start, seqnum) of a store key."""
    n = len(store_key) - SUFFIX
    if n < 0:
        raise ValueError(f"window store key needs at least {SUFFIX} bytes, got {len(store_key)}")
    start, seq = _TS_SEQ.unpack_from(store_key, n)
    return store_key[:n], start, seq


def next_seqnum(seqnum: int) -> int:
    """Kafka's seqnum for duplicates: increments and wraps at Integer.MAX_VALUE."""
    return (seqnum + 1) & 0x7FFFFFFF
