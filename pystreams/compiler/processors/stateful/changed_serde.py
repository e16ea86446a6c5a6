"""The value format of a table group_by repartition topic: a Change in Kafka's ChangedSerializer bytes.

    {old bytes}{0x00}                          only an old value (a subtract)
    {new bytes}{0x01}                          only a new value (an add)
    {zigzag varint len(new)}{new}{old}{0x02}   both (same new key; Kafka >= 3.5)
    flags 3/4/5 = 0/1/2 with an is-latest byte before the flag (versioned tables; read only)

Byte-for-byte Kafka's, so a Java Kafka Streams app reads our repartition topics and we read its.
"""
from __future__ import annotations

from typing import Any

from pystreams.compiler.processors.stateful._state_types import change
from pystreams.compiler.processors.stateful.table_repartition_map import is_upgrade_from_old_change_format
from pystreams.errors import SerdeError
from pystreams.serdes import Serde


def write_varint(value: int) -> bytes:
    """Kafka's ByteUtils.writeVarint: zigzag-encoded 32-bit int, 7 bits per byte, low bits first."""
    encoded = ((value << 1) ^ (value >> 31)) & 0xFFFFFFFF
    out = bytearray()
    while encoded & ~0x7F:
        out.append((encoded & 0x7F) | 0x80)
        encoded >>= 7
    out.append(encoded)
    return bytes(out)


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """Kafka's ByteUtils.readVarint: (value, offset after it)."""
    raw = 0
    shift = 0
    while True:
        if offset >= len(data):
            raise SerdeError("ChangedDeserializer: truncated varint length")
        byte = data[offset]
        offset += 1
        raw |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 28:
            raise SerdeError("ChangedDeserializer: varint is longer than 5 bytes")
    return (raw >> 1) ^ -(raw & 1), offset


class ChangedSerializer:
    """Serializes a Change with the inner value serializer (None = the app's default.value.serde, set later)."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner
        self.is_upgrade = False

    def set_if_unset(self, default_key_serde: Any, default_value_serde: Any) -> None:
        """Fill the inner serializer from default.value.serde (Kafka's WrappingNullableSerializer.setIfUnset)."""
        if self.inner is None:
            self.inner = default_value_serde

    def configure(self, configs: Any, is_key: bool = False) -> None:
        """Read `upgrade.from`: before 3.5 both values in one record are refused, as in Kafka."""
        self.is_upgrade = is_upgrade_from_old_change_format(configs)

    def serialize(self, topic: str, data: Any, headers: Any = None) -> bytes | None:
        if data is None:
            return None
        inner = self._inner()
        new_value, old_value = data.new_value, data.old_value
        new_bytes = inner.serialize(topic, new_value, headers) if new_value is not None else None
        old_bytes = inner.serialize(topic, old_value, headers) if old_value is not None else None
        new_bytes = b"" if new_value is not None and new_bytes is None else new_bytes
        old_bytes = b"" if old_value is not None and old_bytes is None else old_bytes
        if new_bytes is not None and old_bytes is not None:
            if self.is_upgrade:
                raise SerdeError(f"Both old and new values are not null ({old_value} : {new_value}) in "
                                 "ChangeSerializer, which is not allowed unless upgrading.")
            return write_varint(len(new_bytes)) + new_bytes + old_bytes + b"\x02"
        if new_bytes is not None:
            return new_bytes + b"\x01"
        if old_bytes is not None:
            return old_bytes + b"\x00"
        raise SerdeError("Both old and new values are null in ChangeSerializer, which is not allowed.")

    def _inner(self) -> Any:
        if self.inner is None:
            raise SerdeError("ChangedSerializer has no value serializer: set a value serde on Grouped or "
                             "configure default.value.serde")
        return self.inner


class ChangedDeserializer:
    """Reads every Change encoding Kafka writes (flags 0-5)."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner

    def set_if_unset(self, default_key_serde: Any, default_value_serde: Any) -> None:
        """Fill the inner deserializer from default.value.serde."""
        if self.inner is None:
            self.inner = default_value_serde

    def configure(self, configs: Any, is_key: bool = False) -> None:
        """Nothing to configure (kept for symmetry with Kafka)."""

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> Any:
        if data is None:
            return None
        if len(data) == 0:
            raise SerdeError("ChangedDeserializer: empty value (no encoding flag)")
        flag = data[-1]
        latest = True
        if flag in (3, 4, 5):
            if len(data) < 2 or data[-2] not in (0, 1):
                raise SerdeError(f"Encountered unexpected byte value `{data[-2] if len(data) > 1 else None}` "
                                 "for isLatestFlag in ChangedDeserializer.")
            latest = data[-2] == 1
            body, flag = data[:-2], flag - 3
        else:
            body = data[:-1]
        if flag == 0:
            new_bytes, old_bytes = None, body
        elif flag == 1:
            new_bytes, old_bytes = body, None
        elif flag == 2:
            length, start = read_varint(body, 0)
            if length < 0 or start + length > len(body):
                raise SerdeError("ChangedDeserializer: new-value length exceeds the record")
            new_bytes, old_bytes = body[start:start + length], body[start + length:]
        else:
            raise SerdeError(f"Encountered unknown byte value `{flag}` for encodingFlag in ChangedDeserializer.")
        inner = self._inner()
        return change(inner.deserialize(topic, new_bytes, headers) if new_bytes is not None else None,
                      inner.deserialize(topic, old_bytes, headers) if old_bytes is not None else None,
                      latest)

    def _inner(self) -> Any:
        if self.inner is None:
            raise SerdeError("ChangedDeserializer has no value deserializer: set a value serde on Grouped or "
                             "configure default.value.serde")
        return self.inner


class ChangedSerde(Serde[Any]):
    """Serde of Change values for a table group_by repartition topic (the sink serializes, the source reads)."""

    def __init__(self, inner: Any = None) -> None:
        self._serializer = ChangedSerializer(inner)
        self._deserializer = ChangedDeserializer(inner)

    @property
    def inner(self) -> Any:
        """The wrapped value serde (None until set from default.value.serde)."""
        return self._serializer.inner

    def serializer(self) -> Any:
        return self._serializer

    def deserializer(self) -> Any:
        return self._deserializer

    def set_if_unset(self, default_key_serde: Any, default_value_serde: Any) -> None:
        """Fill the inner serde from the app defaults when the DSL had none."""
        self._serializer.set_if_unset(default_key_serde, default_value_serde)
        self._deserializer.set_if_unset(default_key_serde, default_value_serde)

    def configure(self, configs: Any, is_key: bool = False) -> None:
        """Pass `upgrade.from` to the serializer."""
        self._serializer.configure(configs, is_key)

    def serialize(self, topic: str, data: Any, headers: Any = None) -> bytes | None:
        return self._serializer.serialize(topic, data, headers)

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> Any:
        return self._deserializer.deserialize(topic, data, headers)

    def __repr__(self) -> str:
        return f"ChangedSerde({self.inner!r})"
