"""Records as processors see them: immutable (key, value, timestamp, headers), like Kafka's Record."""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Sequence, TypeVar

from pystreams.processor.errors import StreamsException

K = TypeVar("K")
V = TypeVar("V")
K2 = TypeVar("K2")
V2 = TypeVar("V2")

Headers = Sequence[tuple[str, "bytes | None"]]
"""Kafka-like headers: (key, value) pairs in order, duplicates allowed."""

EMPTY_HEADERS: tuple[tuple[str, bytes | None], ...] = ()


class _RecordBase(tuple):  # type: ignore[type-arg]
    """Immutable (key, value, timestamp, headers): a tuple underneath, because records are created for every
    hop of every message and a tuple is built ~4x faster than a frozen dataclass."""

    __slots__ = ()

    key: Any = property(itemgetter(0), doc="The record key.")
    value: Any = property(itemgetter(1), doc="The record value.")
    timestamp: int = property(itemgetter(2), doc="Event time in ms.")  # type: ignore[assignment]
    headers: Headers = property(itemgetter(3), doc="(key, value) header pairs.")  # type: ignore[assignment]

    def __new__(cls, key: Any, value: Any, timestamp: int = 0, headers: Headers = EMPTY_HEADERS) -> Any:
        # the runtime's per-record paths build records with tuple.__new__ (timestamps already checked on input)
        if timestamp < 0:
            _negative_timestamp(timestamp)
        return tuple.__new__(cls, (key, value, timestamp, headers))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(key={self[0]!r}, value={self[1]!r}, timestamp={self[2]!r}, "
                f"headers={self[3]!r})")

    def with_value(self, value: Any) -> Any:
        """A copy with another value."""
        return tuple.__new__(type(self), (self[0], value, self[2], self[3]))

    def with_timestamp(self, timestamp: int) -> Any:
        """A copy with another timestamp; negative timestamps are refused like Kafka does."""
        if timestamp < 0:
            _negative_timestamp(timestamp)
        return tuple.__new__(type(self), (self[0], self[1], timestamp, self[3]))

    def with_headers(self, headers: Headers) -> Any:
        """A copy with other headers."""
        return tuple.__new__(type(self), (self[0], self[1], self[2], tuple(headers)))


def _negative_timestamp(timestamp: int) -> NoReturn:
    """Kafka's Record / FixedKeyRecord check: StreamsException("Malformed Record") caused by an
    IllegalArgumentException."""
    cause = ValueError(f"Timestamp may not be negative. Got: {timestamp}")
    raise StreamsException(f"Malformed Record: {cause} (a record timestamp is milliseconds since the epoch, 0 or "
                           "more: use the input record's timestamp or a real time)") from cause


class Record(_RecordBase, Generic[K, V]):
    """One record passed between processors; with_* return copies so a forwarded record is never mutated."""

    __slots__ = ()

    if TYPE_CHECKING:
        key: K
        value: V

        def __new__(cls, key: K, value: V, timestamp: int = 0, headers: Headers = EMPTY_HEADERS
                    ) -> Record[K, V]: ...

        def with_value(self, value: V2) -> Record[K, V2]: ...

        def with_timestamp(self, timestamp: int) -> Record[K, V]: ...

        def with_headers(self, headers: Headers) -> Record[K, V]: ...

    def with_key(self, key: K2) -> Record[K2, V]:
        """A copy with another key (Kafka's Record#withKey)."""
        return tuple.__new__(Record, (key, self[1], self[2], self[3]))


class FixedKeyRecord(_RecordBase, Generic[K, V]):
    """A record whose key a processor may not change (process_values): no with_key, so no repartition."""

    __slots__ = ()

    if TYPE_CHECKING:
        key: K
        value: V

        def __new__(cls, key: K, value: V, timestamp: int = 0, headers: Headers = EMPTY_HEADERS
                    ) -> FixedKeyRecord[K, V]: ...

        def with_value(self, value: V2) -> FixedKeyRecord[K, V2]: ...

        def with_timestamp(self, timestamp: int) -> FixedKeyRecord[K, V]: ...

        def with_headers(self, headers: Headers) -> FixedKeyRecord[K, V]: ...


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where the record being processed came from (topic, partition, offset); None fields in punctuators."""

    topic: str | None
    partition: int
    offset: int


def record_repr(record: Any) -> str:
    """Short text of a record for error messages."""
    return f"<{record.key!r}:{record.value!r}@{record.timestamp}>"
