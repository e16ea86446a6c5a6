"""Store interfaces (Kafka's StateStore, KeyValueStore, TimestampedKeyValueStore) and their value types."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Iterator, NamedTuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class KeyValue(NamedTuple, Generic[K, V]):
    """A (key, value) pair as iterators yield it; unpacks like a tuple."""

    key: Any
    value: Any


@dataclass(frozen=True, slots=True)
class ValueAndTimestamp(Generic[V]):
    """A value with the timestamp of the record that wrote it (Kafka's timestamped store value)."""

    value: V
    timestamp: int

    @staticmethod
    def make(value: V | None, timestamp: int) -> ValueAndTimestamp[V] | None:
        """None for a None value (a deleted entry), like Kafka's ValueAndTimestamp.make."""
        return None if value is None else ValueAndTimestamp(value, timestamp)

    @staticmethod
    def get_value_or_null(vat: ValueAndTimestamp[V] | None) -> V | None:
        """The plain value, or None."""
        return None if vat is None else vat.value


@dataclass(frozen=True, slots=True)
class Change(Generic[V]):
    """A KTable update: the new value and (when old values are sent) the previous one."""

    new_value: V | None
    old_value: V | None = None
    is_latest: bool = True


class KeyValueIterator(Iterator[KeyValue]):
    """Iterates KeyValue pairs of a range in key byte order; close() it when done early."""

    def __init__(self, pairs: Iterator[tuple[Any, Any]]) -> None:
        self._it = pairs
        self._peeked: tuple[Any, Any] | None = None
        self._closed = False

    def __iter__(self) -> KeyValueIterator:
        return self

    def __next__(self) -> KeyValue:
        if self._peeked is not None:
            kv, self._peeked = self._peeked, None
            return KeyValue(*kv)
        if self._closed:
            raise StopIteration
        return KeyValue(*next(self._it))

    def has_next(self) -> bool:
        """Whether another pair follows."""
        if self._peeked is None and not self._closed:
            try:
                self._peeked = next(self._it)
            except StopIteration:
                return False
        return self._peeked is not None

    def peek_next_key(self) -> Any:
        """The next key without consuming it."""
        if not self.has_next():
            raise StopIteration("no more entries")
        assert self._peeked is not None
        return self._peeked[0]

    def close(self) -> None:
        """Release the underlying cursor."""
        self._closed = True
        self._peeked = None
        close = getattr(self._it, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> KeyValueIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


RestoreCallback = Callable[[list[tuple[bytes, "bytes | None", int]]], None]
"""Writes a batch of changelog records (key, value-or-None, offset) into a store during restore."""


class StateStore(ABC):
    """Anything a task owns and flushes: named, opened by init(), flushed on commit, closed at the end."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The store name (also names its changelog topic)."""

    @property
    @abstractmethod
    def persistent(self) -> bool:
        """True when data survives a restart on local disk (RocksDB)."""

    @abstractmethod
    def init(self, context: Any, root: StateStore) -> None:
        """Open the store and register it (and its restore callback) with the context."""

    @abstractmethod
    def flush(self) -> None:
        """Make cached writes durable (caches forward, RocksDB flushes)."""

    @abstractmethod
    def close(self) -> None:
        """Release files and memory."""

    @abstractmethod
    def is_open(self) -> bool:
        """Whether init() ran and close() did not."""


class KeyValueStore(StateStore, Generic[K, V]):
    """A sorted key-value store; ranges iterate in serialized-key byte order (like RocksDB)."""

    @abstractmethod
    def get(self, key: K) -> V | None:
        """The value for key, or None."""

    @abstractmethod
    def put(self, key: K, value: V | None) -> None:
        """Insert or replace; a None value deletes."""

    @abstractmethod
    def put_if_absent(self, key: K, value: V | None) -> V | None:
        """Put only when no value exists; returns the previous value (None if it was put)."""

    @abstractmethod
    def put_all(self, entries: Iterable[tuple[K, V | None]]) -> None:
        """Put every pair in order."""

    @abstractmethod
    def delete(self, key: K) -> V | None:
        """Remove key; returns the old value."""

    @abstractmethod
    def range(self, from_key: K | None, to_key: K | None) -> KeyValueIterator:
        """Pairs with from_key <= key <= to_key (None = open end); empty if from > to."""

    @abstractmethod
    def reverse_range(self, from_key: K | None, to_key: K | None) -> KeyValueIterator:
        """range() in descending order."""

    @abstractmethod
    def all(self) -> KeyValueIterator:
        """Every pair in ascending key order."""

    @abstractmethod
    def reverse_all(self) -> KeyValueIterator:
        """Every pair in descending key order."""

    @abstractmethod
    def prefix_scan(self, prefix: Any, prefix_serializer: Any) -> KeyValueIterator:
        """Pairs whose serialized key starts with the serialized prefix."""

    @abstractmethod
    def approximate_num_entries(self) -> int:
        """An estimate of the number of entries (exact for in-memory stores)."""


class TimestampedKeyValueStore(KeyValueStore[K, ValueAndTimestamp[V]], Generic[K, V]):
    """A KeyValueStore whose values are ValueAndTimestamp (what KTables materialize into)."""
