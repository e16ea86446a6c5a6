"""The shared outer-join store of left/outer stream-stream joins (Kafka's OuterStreamJoinStoreFactory).

Key TimestampedKeyAndJoinSide = 8-byte timestamp + 1 byte (1 = left side) + key bytes, so a scan runs in
time order; value LeftOrRightValue = 1 byte (1 = left) + value bytes. The bytes store is Kafka's
ListValueStore: put appends to the key's list (same timestamp, side and key keep every record),
put(key, None) deletes the key, put_if_absent(key, None) deletes it when present, and a scan yields every
list element. Values are lists in Kafka's ListSerializer VARIABLE_SIZE format.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Iterator

from pystreams.state.builder import StoreBuilder
from pystreams.state.internals.bytes_store import WrappedBytesStore
from pystreams.state.internals.change_logging import ChangeLoggingKeyValueBytesStore
from pystreams.state.internals.in_memory import InMemoryKeyValueStore
from pystreams.state.internals.metered import MeteredKeyValueStore
from pystreams.state.internals.rocksdb import RocksDBStore

_LONG = struct.Struct(">q")
_INT = struct.Struct(">i")


@dataclass(frozen=True, slots=True)
class TimestampedKeyAndJoinSide:
    key: Any
    timestamp: int
    left_side: bool


@dataclass(frozen=True, slots=True)
class LeftOrRightValue:
    left_value: Any = None
    right_value: Any = None


class TimestampedKeyAndJoinSideSerde:
    def __init__(self, key_serde: Any) -> None:
        self.key_serde = key_serde

    def serialize(self, topic: str, data: TimestampedKeyAndJoinSide | None, headers: Any = None) -> bytes | None:
        if data is None:
            return None
        return _LONG.pack(data.timestamp) + (b"\x01" if data.left_side else b"\x00") + \
            self.key_serde.serialize(topic, data.key)

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> TimestampedKeyAndJoinSide | None:
        if data is None:
            return None
        return TimestampedKeyAndJoinSide(self.key_serde.deserialize(topic, data[9:]), _LONG.unpack_from(data)[0],
                                         data[8] == 1)


class LeftOrRightValueSerde:
    def __init__(self, left_serde: Any, right_serde: Any) -> None:
        self.left_serde = left_serde
        self.right_serde = right_serde

    def serialize(self, topic: str, data: LeftOrRightValue | None, headers: Any = None) -> bytes | None:
        if data is None:
            return None
        if data.left_value is not None:
            raw = self.left_serde.serialize(topic, data.left_value)
            return None if raw is None else b"\x01" + raw
        raw = self.right_serde.serialize(topic, data.right_value)
        return None if raw is None else b"\x00" + raw

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> LeftOrRightValue | None:
        if data is None:
            return None
        if data[0] == 1:
            return LeftOrRightValue(self.left_serde.deserialize(topic, data[1:]), None)
        return LeftOrRightValue(None, self.right_serde.deserialize(topic, data[1:]))


def encode_list(items: list[bytes]) -> bytes:
    """Kafka's ListSerializer, VARIABLE_SIZE strategy: 1, count, then (length, bytes) per item."""
    return b"\x01" + _INT.pack(len(items)) + b"".join(_INT.pack(len(i)) + i for i in items)


def decode_list(data: bytes) -> list[bytes]:
    count = _INT.unpack_from(data, 1)[0]
    pos, out = 5, []
    for _ in range(count):
        n = _INT.unpack_from(data, pos)[0]
        pos += 4
        out.append(data[pos:pos + n])
        pos += n
    return out


class ListValueStore(WrappedBytesStore):
    """Kafka's ListValueStore over a bytes key-value store."""

    def put(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.wrapped.put(key, None)
        else:
            old = self.wrapped.get(key)
            self.wrapped.put(key, encode_list((decode_list(old) if old is not None else []) + [value]))

    def put_if_absent(self, key: bytes, value: bytes | None) -> bytes | None:
        old = self.wrapped.get(key)
        if old is not None:
            if value is None:
                self.wrapped.put(key, None)
            else:
                self.wrapped.put(key, encode_list(decode_list(old) + [value]))
        return None

    def _expand(self, pairs: Iterator[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, bytes]]:
        for key, value in pairs:
            for item in decode_list(value):
                yield key, item

    def all(self) -> Iterator[tuple[bytes, bytes]]:
        return self._expand(self.wrapped.all())

    def range(self, from_key: bytes | None, to_key: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        return self._expand(self.wrapped.range(from_key, to_key))

    def restore_batch(self, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        for key, value, _ts, _offset in records:
            self.put(key, value)


class OuterJoinStoreBuilder(StoreBuilder):
    """Builds Metered(ChangeLogging(ListValueStore(in-memory or RocksDB))) with the join's serdes."""

    def __init__(self, name: str, persistent: bool, key_serde: Any, left_serde: Any, right_serde: Any) -> None:
        both = left_serde is not None and right_serde is not None
        super().__init__(_Supplier(name, persistent), key_serde,
                         LeftOrRightValueSerde(left_serde, right_serde) if both else None)
        self.left_serde = left_serde
        self.right_serde = right_serde

    def build(self) -> Any:
        store: Any = ListValueStore(self.supplier.get())
        if self.logging_enabled:
            store = ChangeLoggingKeyValueBytesStore(store)
        return _OuterStore(store, self.supplier.metrics_scope, self.key_serde, self.left_serde, self.right_serde)


class _OuterStore(MeteredKeyValueStore):
    """The metered face: serdes for TimestampedKeyAndJoinSide / LeftOrRightValue made from the join's serdes
    (None = the app defaults, resolved at init)."""

    def __init__(self, wrapped: Any, scope: str, key_serde: Any, left_serde: Any, right_serde: Any) -> None:
        super().__init__(wrapped, scope, key_serde, None)
        self._left, self._right = left_serde, right_serde

    def init(self, context: Any, root: Any) -> None:
        key = self._key_serde if self._key_serde is not None else context.key_serde
        left = self._left if self._left is not None else context.value_serde
        right = self._right if self._right is not None else context.value_serde
        self._key_serde = TimestampedKeyAndJoinSideSerde(key)
        self._value_serde = LeftOrRightValueSerde(left, right)
        super().init(context, root)

    def _restore_callback(self) -> Any:
        inner = self.wrapped
        while not isinstance(inner, ListValueStore):
            inner = inner.wrapped
        return inner.restore_batch


class _Supplier:
    def __init__(self, name: str, persistent: bool) -> None:
        self.name = name
        self.persistent = persistent
        self.metrics_scope = "rocksdb" if persistent else "in-memory"

    def get(self) -> Any:
        return RocksDBStore(self.name) if self.persistent else InMemoryKeyValueStore(self.name)
