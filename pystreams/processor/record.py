"""Records as processors see them: immutable (key, value, timestamp, headers), like Kafka's Record."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

K = TypeVar("K")
V = TypeVar("V")
K2 = TypeVar("K2")
V2 = TypeVar("V2")

Headers = Sequence[tuple[str, "bytes | None"]]
"""Kafka-like headers: (key, value) pairs in order, duplicates allowed."""

EMPTY_HEADERS: tuple[tuple[str, bytes | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Record(Generic[K, V]):
    """One record passed between processors; with_* return copies so a forwarded record is never mutated."""

    key: K
    value: V
    timestamp: int = 0
    headers: Headers = EMPTY_HEADERS

    def with_key(self, key: K2) -> Record[K2, V]:
        """A copy with another key (Kafka's Record#withKey)."""
        return Record(key, self.value, self.timestamp, self.headers)

    def with_value(self, value: V2) -> Record[K, V2]:
        """A copy with another value (Kafka's Record#withValue)."""
        return Record(self.key, value, self.timestamp, self.headers)

    def with_timestamp(self, timestamp: int) -> Record[K, V]:
        """A copy with another timestamp; negative timestamps are refused like Kafka does."""
        if timestamp < 0:
            raise ValueError(f"Timestamp must be a positive long, got {timestamp}")
        return Record(self.key, self.value, timestamp, self.headers)

    def with_headers(self, headers: Headers) -> Record[K, V]:
        """A copy with other headers (Kafka's Record#withHeaders)."""
        return Record(self.key, self.value, self.timestamp, tuple(headers))


@dataclass(frozen=True, slots=True)
class FixedKeyRecord(Generic[K, V]):
    """A record whose key a processor may not change (process_values): no with_key, so no repartition."""

    key: K
    value: V
    timestamp: int = 0
    headers: Headers = EMPTY_HEADERS

    def with_value(self, value: V2) -> FixedKeyRecord[K, V2]:
        """A copy with another value."""
        return FixedKeyRecord(self.key, value, self.timestamp, self.headers)

    def with_timestamp(self, timestamp: int) -> FixedKeyRecord[K, V]:
        """A copy with another timestamp."""
        if timestamp < 0:
            raise ValueError(f"Timestamp must be a positive long, got {timestamp}")
        return FixedKeyRecord(self.key, self.value, timestamp, self.headers)

    def with_headers(self, headers: Headers) -> FixedKeyRecord[K, V]:
        """A copy with other headers."""
        return FixedKeyRecord(self.key, self.value, self.timestamp, tuple(headers))


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where the record being processed came from (topic, partition, offset); None fields in punctuators."""

    topic: str | None
    partition: int
    offset: int


def record_repr(record: Any) -> str:
    """Short text of a record for error messages."""
    return f"<{record.key!r}:{record.value!r}@{record.timestamp}>"
