"""KeyValueStoreFacade, WindowStoreFacade: a timestamped store seen with plain values (as in Kafka's driver)."""
from __future__ import annotations

from typing import Any, Iterable

from pystreams.state.api import KeyValueIterator, ValueAndTimestamp

NO_TIMESTAMP = -1
_plain_value = ValueAndTimestamp.get_value_or_null


def _stamped(value: Any) -> Any:
    """A plain value as written through a facade: timestamp -1 (Kafka's ConsumerRecord.NO_TIMESTAMP)."""
    return ValueAndTimestamp.make(value, NO_TIMESTAMP)


class _Facade:
    """The inner timestamped store's name and state; its iterators with the timestamps dropped."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return str(self.inner.name)

    def is_open(self) -> bool:
        return bool(self.inner.is_open())

    @staticmethod
    def _plain(it: KeyValueIterator) -> KeyValueIterator:
        return KeyValueIterator((kv.key, _plain_value(kv.value)) for kv in it)

    def all(self) -> KeyValueIterator:
        return self._plain(self.inner.all())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class KeyValueStoreFacade(_Facade):
    """Plain values in and out; writes get timestamp -1 (Kafka's ConsumerRecord.NO_TIMESTAMP)."""

    def get(self, key: Any) -> Any:
        return _plain_value(self.inner.get(key))

    def put(self, key: Any, value: Any) -> None:
        self.inner.put(key, _stamped(value))

    def put_if_absent(self, key: Any, value: Any) -> Any:
        return _plain_value(self.inner.put_if_absent(key, _stamped(value)))

    def put_all(self, entries: Iterable[tuple[Any, Any]]) -> None:
        self.inner.put_all([(k, _stamped(v)) for k, v in entries])

    def delete(self, key: Any) -> Any:
        return _plain_value(self.inner.delete(key))

    def range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        return self._plain(self.inner.range(from_key, to_key))

    def reverse_range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        return self._plain(self.inner.reverse_range(from_key, to_key))

    def reverse_all(self) -> KeyValueIterator:
        return self._plain(self.inner.reverse_all())

    def prefix_scan(self, prefix: Any, prefix_serializer: Any) -> KeyValueIterator:
        return self._plain(self.inner.prefix_scan(prefix, prefix_serializer))

    def approximate_num_entries(self) -> int:
        return int(self.inner.approximate_num_entries())


class WindowStoreFacade(_Facade):
    """A timestamped window store as a plain WindowStore (Kafka's driver: WindowStoreFacade); writes get timestamp
    -1."""

    def put(self, key: Any, value: Any, window_start: int) -> None:
        self.inner.put(key, _stamped(value), window_start)

    def fetch(self, key: Any, time_from: int, time_to: int | None = None) -> Any:
        """fetch(key, window_start) -> the value or None; fetch(key, time_from, time_to) -> (window start, value)."""
        if time_to is None:
            return _plain_value(self.inner.fetch(key, time_from))
        return self._plain(self.inner.fetch(key, time_from, time_to))

    def backward_fetch(self, key: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._plain(self.inner.backward_fetch(key, time_from, time_to))

    def fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._plain(self.inner.fetch_key_range(key_from, key_to, time_from, time_to))

    def backward_fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._plain(self.inner.backward_fetch_key_range(key_from, key_to, time_from, time_to))

    def fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        return self._plain(self.inner.fetch_all(time_from, time_to))

    def backward_fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        return self._plain(self.inner.backward_fetch_all(time_from, time_to))

    def backward_all(self) -> KeyValueIterator:
        return self._plain(self.inner.backward_all())
