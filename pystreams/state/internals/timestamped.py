"""Kafka's timestamped value format: 8-byte big-endian timestamp, then the serialized value."""
from __future__ import annotations

import struct
from typing import Any, Callable

_TS = struct.Struct(">q")


def join_timestamped(raw_value: bytes, timestamp: int) -> bytes:
    """The store value for (value bytes, timestamp)."""
    return _TS.pack(timestamp) + raw_value


def split_timestamped(stored: bytes) -> tuple[bytes, int]:
    """(value bytes, timestamp) of a stored timestamped value."""
    return stored[8:], _TS.unpack_from(stored)[0]


def timestamp_of(stored: bytes) -> int:
    """Just the timestamp of a stored timestamped value."""
    return int(_TS.unpack_from(stored)[0])


def timestamped_restore(restore: Callable[[list[Any]], None]) -> Callable[[list[Any]], None]:
    """Kafka's RecordConverters.rawValueToTimestampedValue: the changelog record timestamp joins the value."""
    def convert(records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        restore([(k, None if v is None else _TS.pack(ts) + v, ts, off) for k, v, ts, off in records])
    return convert
