"""Kafka's timestamped value format: 8-byte big-endian timestamp, then the serialized value."""
from __future__ import annotations

import struct
from typing import Any, Callable

from pystreams.errors import StateStoreError
from pystreams.serdes.primitives import LongSerde
from pystreams.state.api import ValueAndTimestamp

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


_TS_LONG = TS_LONG = struct.Struct(">qq")
"""A Long value stored with its timestamp: both packed in one struct call."""
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
LONG_RANGE = range(_LONG_MIN, _LONG_MAX + 1)
"""Java long's range: `n in LONG_RANGE` is one C-level test."""

# ValueAndTimestamp(value, timestamp) in three C calls, for per-record store updates: the frozen dataclass'
# generated __init__ (two object.__setattr__ calls from Python) is ~2x the cost; the object is the same
VAT_NEW = object.__new__
VAT_SET_VALUE = ValueAndTimestamp.__dict__["value"].__set__
VAT_SET_TIMESTAMP = ValueAndTimestamp.__dict__["timestamp"].__set__


class TimestampedValues:
    """Values as ValueAndTimestamp, stored as 8-byte timestamp + serialized value (Kafka's format), for the
    metered timestamped stores; a Long value is encoded and decoded with its timestamp in one struct call."""

    _kind: str
    name: str
    _topic: str
    _vs: Any

    def _raw_value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, ValueAndTimestamp):
            raise StateStoreError(f"{self._kind} {self.name} is timestamped: it takes ValueAndTimestamp values, "
                                  f"got {type(value).__name__} {value!r}: wrap it with "
                                  "ValueAndTimestamp.make(value, timestamp)")
        plain = value.value
        if type(plain) is int and type(self._vs) is LongSerde and _LONG_MIN <= plain <= _LONG_MAX:
            return _TS_LONG.pack(value.timestamp, plain)
        raw = self._vs.serialize(self._topic, plain)
        return None if raw is None else _TS.pack(value.timestamp) + raw

    def _value_parts(self, raw: bytes) -> tuple[Any, int]:
        """(value, timestamp) of a stored timestamped value: _value() without the ValueAndTimestamp."""
        if len(raw) == 16 and type(self._vs) is LongSerde:
            timestamp, plain = _TS_LONG.unpack(raw)
            return plain, timestamp
        return self._vs.deserialize(self._topic, raw[8:]), _TS.unpack_from(raw)[0]

    def _value(self, raw: bytes | None) -> Any:
        if raw is None:
            return None
        if len(raw) == 16 and type(self._vs) is LongSerde:
            timestamp, plain = _TS_LONG.unpack(raw)
            return ValueAndTimestamp(plain, timestamp)
        return ValueAndTimestamp(self._vs.deserialize(self._topic, raw[8:]), _TS.unpack_from(raw)[0])
