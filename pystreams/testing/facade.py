"""KeyValueStoreFacade: a timestamped store seen as a plain KeyValueStore (Kafka's driver does the same)."""
from __future__ import annotations

from typing import Any, Iterable

from pystreams.state.api import KeyValueIterator, ValueAndTimestamp

NO_TIMESTAMP = -1


class KeyValueStoreFacade:
    """Plain values in and out; writes get timestamp -1 (Kafka's ConsumerRecord.NO_TIMESTAMP)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return str(self.inner.name)

    def is_open(self) -> bool:
        return bool(self.inner.is_open())

    def get(self, key: Any) -> Any:
        return ValueAndTimestamp.get_value_or_null(self.inner.get(key))

    def put(self, key: Any, value: Any) -> None:
        self.inner.put(key, ValueAndTimestamp.make(value, NO_TIMESTAMP))

    def put_if_absent(self, key: Any, value: Any) -> Any:
        return ValueAndTimestamp.get_value_or_null(
            self.inner.put_if_absent(key, ValueAndTimestamp.make(value, NO_TIMESTAMP)))

    def put_all(self, entries: Iterable[tuple[Any, Any]]) -> None:
        self.inner.put_all([(k, ValueAndTimestamp.make(v, NO_TIMESTAMP)) for k, v in entries])

    def delete(self, key: Any) -> Any:
        return ValueAndTimestamp.get_value_or_null(self.inner.delete(key))

    @staticmethod
    def _plain(it: KeyValueIterator) -> KeyValueIterator:
        return KeyValueIterator((kv.key, ValueAndTimestamp.get_value_or_null(kv.value)) for kv in it)

    def range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        return self._plain(self.inner.range(from_key, to_key))

    def reverse_range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        return self._plain(self.inner.reverse_range(from_key, to_key))

    def all(self) -> KeyValueIterator:
        return self._plain(self.inner.all())

    def reverse_all(self) -> KeyValueIterator:
        return self._plain(self.inner.reverse_all())

    def prefix_scan(self, prefix: Any, prefix_serializer: Any) -> KeyValueIterator:
        return self._plain(self.inner.prefix_scan(prefix, prefix_serializer))

    def approximate_num_entries(self) -> int:
        return int(self.inner.approximate_num_entries())

    def __repr__(self) -> str:
        return f"KeyValueStoreFacade({self.name!r})"
