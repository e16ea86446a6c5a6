"""Kafka's ListSerde: a list of values of one inner serde, in Java's byte format, so list-valued
topics and stores are shared with Java apps.

    strategy byte (0 CONSTANT_SIZE for Short/Integer/Long/Float/Double/UUID inner serdes, else 1)
    CONSTANT_SIZE: int null count, int index of each null, int size, the fixed-size entries
    VARIABLE_SIZE: int size, then per entry int length (-1 for null) and the bytes

Like Kafka's ListDeserializer, a list whose last entry is empty (b"" / "") cannot be read back
(Java's stream read returns -1 at the end): both refuse the same bytes.
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pystreams.errors import ConfigError
from pystreams.serdes import primitives as p
from pystreams.serdes.base import Headers, Serde, SerializationError

T = TypeVar("T")
_INT = struct.Struct(">i")
CONSTANT_SIZE, VARIABLE_SIZE = 0, 1
NULL_ENTRY_VALUE = -1
#: inner serde -> fixed entry size (Kafka's FIXED_LENGTH_DESERIALIZERS)
_FIXED: dict[type, int] = {p.ShortSerde: 2, p.IntegerSerde: 4, p.FloatSerde: 4, p.LongSerde: 8,
                           p.DoubleSerde: 8, p.UUIDSerde: 36}


class ListSerde(Serde[list[Any]], Generic[T]):
    """``Serdes.ListSerde(inner)``; without ``inner`` it is read from the Kafka config keys
    ``default.list.key.serde.inner`` / ``default.list.value.serde.inner``."""

    def __init__(self, inner: Serde[T] | None = None) -> None:
        self.inner = inner

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        if self.inner is None:
            key = f"default.list.{'key' if is_key else 'value'}.serde.inner"
            value = configs.get(key)
            if value is None:
                raise ConfigError(f"ListSerde needs its inner serde: set {key}")
            from pystreams.serdes.resolve import resolve_serde

            self.inner = resolve_serde(value, configs, is_key)
        else:
            self.inner.configure(configs, is_key)

    def _inner(self) -> Serde[Any]:
        if self.inner is None:
            raise SerializationError("ListSerde has no inner serde: pass one or configure "
                                     "default.list.key.serde.inner / default.list.value.serde.inner")
        return self.inner

    def serialize(self, topic: str, data: list[Any] | None,
                  headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        inner = self._inner()
        fixed = type(inner) in _FIXED
        out = bytearray([CONSTANT_SIZE if fixed else VARIABLE_SIZE])
        if fixed:
            nulls = [i for i, v in enumerate(data) if v is None]
            out += _INT.pack(len(nulls))
            for i in nulls:
                out += _INT.pack(i)
        out += _INT.pack(len(data))
        for entry in data:
            if entry is None:
                if not fixed:
                    out += _INT.pack(NULL_ENTRY_VALUE)
                continue
            encoded = inner.serialize(topic, entry, headers)
            if encoded is None:
                raise SerializationError(f"ListSerde: inner serde wrote null for {entry!r}")
            if not fixed:
                out += _INT.pack(len(encoded))
            out += encoded
        return bytes(out)

    def deserialize(self, topic: str, data: bytes | None,
                    headers: Headers | None = None) -> list[Any] | None:
        if data is None:
            return None
        inner = self._inner()
        try:
            return self._read(topic, memoryview(data), inner, headers)
        except (struct.error, IndexError) as exc:
            raise SerializationError("End of the stream was reached prematurely "
                                     f"(ListSerde, topic {topic!r})") from exc

    def _read(self, topic: str, view: memoryview, inner: Serde[Any],
              headers: Headers | None) -> list[Any]:
        strategy = view[0]
        pos = 1
        nulls: set[int] = set()
        size = 0
        if strategy == CONSTANT_SIZE:
            fixed = _FIXED.get(type(inner))
            if fixed is None:
                raise SerializationError(f"ListSerde: CONSTANT_SIZE data needs a fixed-size inner "
                                         f"serde, not {type(inner).__name__}")
            size = fixed
            (count,), pos = _INT.unpack_from(view, pos), pos + 4
            for _ in range(count):
                nulls.add(_INT.unpack_from(view, pos)[0])
                pos += 4
        elif strategy != VARIABLE_SIZE:
            raise SerializationError("Invalid serialization strategy flag value")
        (length,), pos = _INT.unpack_from(view, pos), pos + 4
        out: list[Any] = []
        for i in range(length):
            entry: int = size if strategy == CONSTANT_SIZE else _INT.unpack_from(view, pos)[0]
            if strategy == VARIABLE_SIZE:
                pos += 4
            if entry == NULL_ENTRY_VALUE or i in nulls:
                out.append(None)
                continue
            if entry < 0:
                raise SerializationError(f"ListSerde: negative entry size {entry}")
            if pos >= len(view):  # Java: read() at the end of the stream gives -1
                raise SerializationError("End of the stream was reached prematurely")
            chunk = bytes(view[pos:pos + entry])
            if len(chunk) < entry:  # Java reads what is left into a zero-filled array
                chunk += bytes(entry - len(chunk))
            pos += entry
            out.append(inner.deserialize(topic, chunk, headers))
        return out

    def __repr__(self) -> str:
        return f"ListSerde({self.inner!r})"
