"""Kafka's built-in serdes with Java's exact byte formats (big-endian, UTF-8, UUID as its 36-char
text), so a Java Kafka Streams app and a pystreams app read each other's topics."""
from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from pystreams.serdes.base import Headers, Serde, SerializationError
from pystreams.serdes.java_text import decode_utf8, encode_utf8

_SHORT = struct.Struct(">h")
_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")
_FLOAT = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")
# Java's Double.doubleToLongBits folds every NaN into this one canonical bit pattern.
_CANONICAL_NAN = bytes.fromhex("7ff8000000000000")


def _encoding(configs: Mapping[str, Any], is_key: bool, kind: str) -> str | None:
    """Kafka's ``key.serializer.encoding`` / ``value.serializer.encoding`` / ``serializer.encoding``."""
    value = configs.get(f"{'key' if is_key else 'value'}.{kind}.encoding")
    if value is None:
        value = configs.get(f"{kind}.encoding")
    return value if isinstance(value, str) else None


class StringSerde(Serde[str]):
    """UTF-8 text (Kafka's StringSerde); the encoding follows ``*.serializer.encoding`` configs.

    Like Java's ``new String(bytes, UTF_8)`` / ``getBytes``, malformed input is replaced (U+FFFD
    when reading, ``?`` when writing a lone surrogate) rather than refused: a Java app and ours
    read the same text from the same bytes. ``errors="strict"`` refuses instead."""

    def __init__(self, encoding: str = "utf-8", errors: str = "replace") -> None:
        self._encoding = self._check(encoding)
        self._errors = errors
        self._java_utf8 = self._is_java_utf8()

    # encoding/errors are properties so the per-record check `_java_utf8` is computed once per change
    @property
    def encoding(self) -> str:
        return self._encoding

    @encoding.setter
    def encoding(self, value: str) -> None:
        self._encoding = value
        self._java_utf8 = self._is_java_utf8()

    @property
    def errors(self) -> str:
        return self._errors

    @errors.setter
    def errors(self, value: str) -> None:
        self._errors = value
        self._java_utf8 = self._is_java_utf8()

    def _is_java_utf8(self) -> bool:
        return self._errors == "replace" and self._encoding.lower().replace("_", "-") in ("utf-8", "utf8")

    @staticmethod
    def _check(encoding: str) -> str:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise SerializationError(f"Unsupported encoding {encoding}") from exc
        return encoding

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        found = _encoding(configs, is_key, "serializer") or _encoding(configs, is_key, "deserializer")
        if found:
            self.encoding = self._check(found)

    def serialize(self, topic: str, data: str | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        if not isinstance(data, str):
            raise SerializationError(f"StringSerde cannot serialize {type(data).__name__} "
                                     f"{data!r} for topic {topic!r}: it takes str")
        if self._java_utf8:
            return encode_utf8(data)
        try:
            return data.encode(self.encoding, self.errors)
        except UnicodeEncodeError as exc:
            raise SerializationError(f"cannot encode string for topic {topic!r} as "
                                     f"{self.encoding}: {exc}") from exc

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> str | None:
        if data is None:
            return None
        if self._java_utf8:
            return decode_utf8(bytes(data))
        try:
            return bytes(data).decode(self.encoding, self.errors)
        except UnicodeDecodeError as exc:
            raise SerializationError(f"bytes from topic {topic!r} are not valid "
                                     f"{self.encoding}: {exc}") from exc


class _BytesLike(Serde[bytes]):
    """Raw bytes unchanged; the serializer takes any bytes-like object."""

    def serialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        if isinstance(data, bytes):
            return data
        if isinstance(data, (bytearray, memoryview)):
            return bytes(data)
        raise SerializationError(f"{type(self).__name__} cannot serialize {type(data).__name__} "
                                 f"for topic {topic!r}: it takes bytes, bytearray or memoryview")

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        return data if isinstance(data, bytes) else bytes(data)


class BytesSerde(_BytesLike):
    """Kafka's BytesSerde. Java's ``Bytes`` wraps ``byte[]`` to be immutable, hashable and ordered;
    Python's ``bytes`` already is all three, so the value type is ``bytes``."""


class ByteArraySerde(_BytesLike):
    """Kafka's ByteArraySerde (``byte[]``): same wire bytes as BytesSerde; values come back as
    ``bytes`` so they can be dict and store keys (a ``bytearray`` could not)."""


class ByteBufferSerde(_BytesLike):
    """Kafka's ByteBufferSerde: the remaining bytes of the buffer; ``memoryview`` in, ``bytes`` out."""


N = TypeVar("N", int, float)


class _Fixed(Serde[N]):
    """A fixed-width big-endian number; Kafka rejects any other length with its message."""

    _struct: struct.Struct
    _java: str
    _message: str  # Kafka's exact error text for a wrong size

    def _wrong_size(self, topic: str, data: bytes) -> SerializationError:
        return SerializationError(f"{self._message} (topic {topic!r}, got {len(data)} bytes)")

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> N | None:
        if data is None:
            return None
        if len(data) != self._struct.size:
            raise self._wrong_size(topic, data)
        return self._struct.unpack(data)[0]  # type: ignore[no-any-return]


class _Integral(_Fixed[int]):
    _low: int
    _high: int

    def serialize(self, topic: str, data: int | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        if isinstance(data, bool) or not isinstance(data, int):
            raise SerializationError(f"{type(self).__name__} cannot serialize "
                                     f"{type(data).__name__} {data!r} for topic {topic!r}: "
                                     f"it takes int (Java {self._java})")
        if not self._low <= data <= self._high:
            raise SerializationError(f"{data} does not fit a Java {self._java} "
                                     f"[{self._low}, {self._high}] (topic {topic!r})")
        return self._struct.pack(data)


class ShortSerde(_Integral):
    """2-byte big-endian signed (Java ``short``)."""

    _struct, _java, _low, _high = _SHORT, "short", -(2**15), 2**15 - 1
    _message = "Size of data received by ShortDeserializer is not 2"


class IntegerSerde(_Integral):
    """4-byte big-endian signed (Java ``int``)."""

    _struct, _java, _low, _high = _INT, "int", -(2**31), 2**31 - 1
    _message = "Size of data received by IntegerDeserializer is not 4"


class LongSerde(_Integral):
    """8-byte big-endian signed (Java ``long``)."""

    _struct, _java, _low, _high = _LONG, "long", -(2**63), 2**63 - 1
    _message = "Size of data received by LongDeserializer is not 8"


class _Floating(_Fixed[float]):
    def _check(self, topic: str, data: object) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise SerializationError(f"{type(self).__name__} cannot serialize "
                                     f"{type(data).__name__} {data!r} for topic {topic!r}: "
                                     f"it takes float (Java {self._java})")
        return float(data)


class FloatSerde(_Floating):
    """4-byte IEEE 754 big-endian (Java ``Float.floatToRawIntBits``)."""

    _struct, _java = _FLOAT, "float"
    _message = "Size of data received by Deserializer is not 4"

    def serialize(self, topic: str, data: float | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        try:
            return self._struct.pack(self._check(topic, data))
        except OverflowError as exc:
            raise SerializationError(f"{data!r} is out of range for a Java float "
                                     f"(topic {topic!r})") from exc


class DoubleSerde(_Floating):
    """8-byte IEEE 754 big-endian (Java ``Double.doubleToLongBits``: one canonical NaN)."""

    _struct, _java = _DOUBLE, "double"
    _message = "Size of data received by Deserializer is not 8"

    def serialize(self, topic: str, data: float | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        value = self._check(topic, data)
        if math.isnan(value):
            return _CANONICAL_NAN
        return self._struct.pack(value)


class BooleanSerde(Serde[bool]):
    """One byte, 0x01 true / 0x00 false (Kafka's BooleanSerde)."""

    def serialize(self, topic: str, data: bool | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        if not isinstance(data, bool):
            raise SerializationError(f"BooleanSerde cannot serialize {type(data).__name__} "
                                     f"{data!r} for topic {topic!r}: it takes bool")
        return b"\x01" if data else b"\x00"

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> bool | None:
        if data is None:
            return None
        if len(data) != 1:
            raise SerializationError("Size of data received by BooleanDeserializer is not 1")
        if data[0] == 1:
            return True
        if data[0] == 0:
            return False
        signed = data[0] - 256 if data[0] > 127 else data[0]
        raise SerializationError(f"Unexpected byte received by BooleanDeserializer: {signed}")


class UUIDSerde(Serde[uuid.UUID]):
    """A UUID as its 36-character text in UTF-8 (Java ``UUID.toString()``), not 16 raw bytes."""

    def __init__(self, encoding: str = "utf-8") -> None:
        self.encoding = StringSerde._check(encoding)

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        found = _encoding(configs, is_key, "serializer") or _encoding(configs, is_key, "deserializer")
        if found:
            self.encoding = StringSerde._check(found)

    def serialize(self, topic: str, data: uuid.UUID | None,
                  headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        if not isinstance(data, uuid.UUID):
            raise SerializationError(f"UUIDSerde cannot serialize {type(data).__name__} "
                                     f"{data!r} for topic {topic!r}: it takes uuid.UUID")
        return str(data).encode(self.encoding)

    def deserialize(self, topic: str, data: bytes | None,
                    headers: Headers | None = None) -> uuid.UUID | None:
        if data is None:
            return None
        try:
            text = bytes(data).decode(self.encoding)
            return _java_uuid(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise SerializationError(f"Error parsing data into UUID (topic {topic!r}): "
                                     f"{bytes(data)[:64]!r}") from exc


def _java_uuid(text: str) -> uuid.UUID:
    """Java's ``UUID.fromString``: five dash-separated hex groups (Java also accepts short groups,
    e.g. ``1-2-3-4-5``); Python's UUID() alone would accept braces and URNs that Java refuses."""
    parts = text.split("-")
    if len(parts) != 5 or len(text) > 36:
        raise ValueError(f"Invalid UUID string: {text}")
    widths = (8, 4, 4, 4, 12)
    for part, width in zip(parts, widths):
        if not part or len(part) > width or any(c not in "0123456789abcdefABCDEF" for c in part):
            raise ValueError(f"Invalid UUID string: {text}")
    return uuid.UUID("".join(p.rjust(w, "0") for p, w in zip(parts, widths)))


class VoidSerde(Serde[None]):
    """Always ``None`` (Kafka's VoidSerde): for topics whose keys or values carry no data."""

    def serialize(self, topic: str, data: None, headers: Headers | None = None) -> bytes | None:
        if data is not None:
            raise SerializationError(f"VoidSerde serializes only None, got {type(data).__name__} "
                                     f"for topic {topic!r}")
        return None

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> None:
        if data is not None:
            raise SerializationError("Data should be null for a VoidDeserializer.")
        return None
