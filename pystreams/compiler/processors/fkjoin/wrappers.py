"""The foreign-key join's wire formats (Kafka's foreignkeyjoin.SubscriptionWrapper(Serde),
SubscriptionResponseWrapper(Serde), CombinedKeySchema), byte for byte.

Subscription (version 1): {1 bit hash-is-null, 7 bits version}{instruction}{16-byte hash, optional}
{primary key bytes}{4-byte primary partition}. Response (version 0): {1 bit hash-is-null, 7 bits version}
{16-byte hash, optional}{foreign value bytes, optional}. Combined key: {4-byte fk length}{fk bytes}{pk bytes}.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pystreams.errors import SerdeError

SUBSCRIPTION_VERSION = 1
RESPONSE_VERSION = 0


class Instruction(IntEnum):
    """What the foreign side does with a subscription (Kafka's SubscriptionWrapper.Instruction)."""

    DELETE_KEY_NO_PROPAGATE = 0
    DELETE_KEY_AND_PROPAGATE = 1
    PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE = 2
    PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE = 3




@dataclass(frozen=True)
class SubscriptionWrapper:
    """A left-side row subscribing to (or leaving) a foreign key: hash of its value, instruction, its key."""

    hash: tuple[int, int] | None
    instruction: Instruction
    primary_key: Any
    primary_partition: int | None = None
    version: int = SUBSCRIPTION_VERSION


@dataclass(frozen=True)
class SubscriptionResponseWrapper:
    """The foreign value sent back to a subscriber, with the subscriber's value hash at subscription time."""

    original_value_hash: tuple[int, int] | None
    foreign_value: Any
    primary_partition: int | None = None
    version: int = RESPONSE_VERSION


def _serde(serde: Any, what: str) -> Any:
    if serde is None:
        raise SerdeError(f"The foreign-key join has no {what} serde: set default serdes or pass them "
                         "(Consumed/Materialized) to both tables.")
    return serde


class SubscriptionWrapperSerde:
    """Serde of the subscription topic's values and of the subscription store (primary key serde inside)."""

    def __init__(self, primary_key_serde: Any = None, pk_topic: str = "") -> None:
        self.primary_key_serde = primary_key_serde
        self.pk_topic = pk_topic

    def serializer(self) -> SubscriptionWrapperSerde:
        return self

    def deserializer(self) -> SubscriptionWrapperSerde:
        return self

    def set_if_unset(self, default_key_serde: Any, default_value_serde: Any) -> None:
        """The primary key serde defaults to default.key.serde, as Kafka's setIfUnset."""
        if self.primary_key_serde is None:
            self.primary_key_serde = default_key_serde

    def configure(self, configs: Any, is_key: bool = False) -> None:
        return None

    def serialize(self, topic: str, data: SubscriptionWrapper | None, headers: Any = None) -> bytes | None:
        if data is None:
            return None
        if not 0 <= data.version <= 0x7F:
            raise SerdeError("SubscriptionWrapper version is larger than maximum supported 0x7F")
        if data.version not in (0, 1):
            raise SerdeError(f"Unsupported SubscriptionWrapper version {data.version}")
        pk = _serde(self.primary_key_serde, "primary key").serialize(self.pk_topic, data.primary_key) or b""
        head = bytes([data.version if data.hash is not None else data.version | 0x80, int(data.instruction)])
        hash_bytes = struct.pack(">qq", *data.hash) if data.hash is not None else b""
        tail = struct.pack(">i", data.primary_partition if data.primary_partition is not None else -1) \
            if data.version >= 1 else b""
        return head + hash_bytes + pk + tail

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> SubscriptionWrapper | None:
        if data is None:
            return None
        version, hash_null = data[0] & 0x7F, bool(data[0] & 0x80)
        instruction = Instruction(data[1])
        pos = 2
        hash_value = None
        if not hash_null:
            hash_value = struct.unpack_from(">qq", data, pos)
            pos += 16
        end = len(data) - 4 if version > 0 else len(data)
        pk = _serde(self.primary_key_serde, "primary key").deserialize(self.pk_topic, bytes(data[pos:end]))
        partition = struct.unpack_from(">i", data, end)[0] if version > 0 else None
        return SubscriptionWrapper(hash_value, instruction, pk, partition, version)


class SubscriptionResponseWrapperSerde:
    """Serde of the response topic's values (the foreign table's value serde inside)."""

    def __init__(self, foreign_value_serde: Any = None) -> None:
        self.foreign_value_serde = foreign_value_serde

    def serializer(self) -> SubscriptionResponseWrapperSerde:
        return self

    def deserializer(self) -> SubscriptionResponseWrapperSerde:
        return self

    def set_if_unset(self, default_key_serde: Any, default_value_serde: Any) -> None:
        """The foreign value serde defaults to default.value.serde, as Kafka's setIfUnset."""
        if self.foreign_value_serde is None:
            self.foreign_value_serde = default_value_serde

    def configure(self, configs: Any, is_key: bool = False) -> None:
        return None

    def serialize(self, topic: str, data: SubscriptionResponseWrapper | None,
                  headers: Any = None) -> bytes | None:
        if data is None:
            return None
        if data.version < 0:
            raise SerdeError("SubscriptionResponseWrapper version cannot be negative")
        value = b""
        if data.foreign_value is not None:
            value = _serde(self.foreign_value_serde, "foreign value").serialize(topic, data.foreign_value) or b""
        if data.original_value_hash is None:
            return bytes([data.version | 0x80]) + value
        return bytes([data.version]) + struct.pack(">qq", *data.original_value_hash) + value

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> SubscriptionResponseWrapper | None:
        if data is None:
            return None
        version, hash_null = data[0] & 0x7F, bool(data[0] & 0x80)
        pos = 1
        hash_value = None
        if not hash_null:
            hash_value = struct.unpack_from(">qq", data, pos)
            pos += 16
        value = None
        if len(data) > pos:
            value = _serde(self.foreign_value_serde, "foreign value").deserialize(topic, bytes(data[pos:]))
        return SubscriptionResponseWrapper(hash_value, value, None, version)


class CombinedKeySchema:
    """Subscription store keys: {4-byte fk length}{fk}{pk}, so all subscribers of one fk are a prefix range."""

    def __init__(self, foreign_key_serde: Any, primary_key_serde: Any, fk_topic: str = "",
                 pk_topic: str = "") -> None:
        self.fk_serde, self.pk_serde = foreign_key_serde, primary_key_serde
        self.fk_topic, self.pk_topic = fk_topic, pk_topic

    def init(self, context: Any) -> None:
        """Missing serdes default to the context's key serde (Kafka's CombinedKeySchema.init)."""
        if self.fk_serde is None:
            self.fk_serde = context.key_serde
        if self.pk_serde is None:
            self.pk_serde = context.key_serde

    def prefix_bytes(self, foreign_key: Any) -> bytes:
        fk = _serde(self.fk_serde, "foreign key").serialize(self.fk_topic, foreign_key) or b""
        return struct.pack(">i", len(fk)) + fk

    def to_bytes(self, foreign_key: Any, primary_key: Any) -> bytes:
        pk = _serde(self.pk_serde, "primary key").serialize(self.pk_topic, primary_key) or b""
        return self.prefix_bytes(foreign_key) + pk

    def from_bytes(self, data: bytes) -> tuple[Any, Any]:
        """(foreign key, primary key)."""
        n = struct.unpack_from(">i", data, 0)[0]
        fk = _serde(self.fk_serde, "foreign key").deserialize(self.fk_topic, bytes(data[4:4 + n]))
        pk = _serde(self.pk_serde, "primary key").deserialize(self.pk_topic, bytes(data[4 + n:]))
        return fk, pk


def increment(prefix: bytes) -> bytes | None:
    """Kafka's Bytes.increment: the smallest key greater than every key starting with `prefix` (None if none)."""
    data = bytearray(prefix)
    for i in range(len(data) - 1, -1, -1):
        if data[i] != 0xFF:
            data[i] += 1
            return bytes(data[:i + 1]) + bytes(len(data) - i - 1)
        data[i] = 0
    return None
