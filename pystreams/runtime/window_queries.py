"""Interactive queries on window stores: Kafka's CompositeReadOnlyWindowStore, one read-only view over the same
window store in every local task.

Store types are matched by their Kafka name ("window_store", "timestamped_window_store"):
QueryableStoreTypes.window_store() / timestamped_window_store(). Like Kafka, window_store() over a timestamped window store (what the
DSL's windowed aggregations build) returns plain values; timestamped_window_store() returns ValueAndTimestamp.
A key lives in one partition, so fetch(key, ...) answers from the first task whose store has the key; fetch_all and
all concatenate the tasks (each task's part in time order, not merged across tasks, as in Kafka).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from pystreams.runtime.composite_view import CompositeView
from pystreams.state.api import KeyValueIterator, ValueAndTimestamp
from pystreams.state.queryable import QueryableStoreTypes
from pystreams.state.window.metered import MeteredTimestampedWindowStore, MeteredWindowStore

WINDOW_STORE_TYPES = ("window_store", "timestamped_window_store")
WINDOW_STORE = QueryableStoreTypes.window_store()
TIMESTAMPED_WINDOW_STORE = QueryableStoreTypes.timestamped_window_store()


def accepts_window(store_type_name: str, store: Any) -> bool:
    """window_store takes any window store; timestamped_window_store only a timestamped one."""
    if store_type_name == "timestamped_window_store":
        return isinstance(store, MeteredTimestampedWindowStore)
    return isinstance(store, MeteredWindowStore)


class CompositeReadOnlyWindowStore(CompositeView):
    """ReadOnlyWindowStore over the local tasks' stores: fetch, fetch_all, all and their backward variants."""

    def __init__(self, name: str, stores: Callable[[], list[Any]], plain_values: bool,
                 unavailable: Callable[[str], Exception]) -> None:
        super().__init__(name, stores, unavailable)
        self._plain = plain_values

    def _value(self, value: Any) -> Any:
        return ValueAndTimestamp.get_value_or_null(value) if self._plain else value

    def _values(self, pairs: Iterator[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
        value = self._value
        return ((k, value(v)) for k, v in pairs)

    def fetch(self, key: Any, time_from: int, time_to: int | None = None) -> Any:
        """fetch(key, window_start) -> the value or None; fetch(key, time_from, time_to) -> (window start, value)
        pairs of the windows starting in [time_from, time_to], oldest first."""
        for store in self._all_stores():
            if time_to is None:
                found = store.fetch(key, time_from)
                if found is not None:
                    return self._value(found)
                continue
            pairs = list(store.fetch(key, time_from, time_to))
            if pairs:
                return KeyValueIterator(self._values(iter(pairs)))
        return None if time_to is None else KeyValueIterator(iter(()))

    def backward_fetch(self, key: Any, time_from: int, time_to: int) -> KeyValueIterator:
        """fetch(key, time_from, time_to), newest window first."""
        for store in self._all_stores():
            pairs = list(store.backward_fetch(key, time_from, time_to))
            if pairs:
                return KeyValueIterator(self._values(iter(pairs)))
        return KeyValueIterator(iter(()))

    def _concat(self, call: Callable[[Any], Any]) -> KeyValueIterator:
        stores = self._all_stores()
        return KeyValueIterator(self._values(pair for store in stores for pair in call(store)))

    def fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        """(Windowed key, value) for keys in [key_from, key_to] (None: open) and windows in the time range."""
        return self._concat(lambda s: s.fetch_key_range(key_from, key_to, time_from, time_to))

    def backward_fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._concat(lambda s: s.backward_fetch_key_range(key_from, key_to, time_from, time_to))

    def fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        """(Windowed key, value) of every window starting in [time_from, time_to] in every local task."""
        return self._concat(lambda s: s.fetch_all(time_from, time_to))

    def backward_fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        return self._concat(lambda s: s.backward_fetch_all(time_from, time_to))

    def all(self) -> KeyValueIterator:
        return self._concat(lambda s: s.all())

    def backward_all(self) -> KeyValueIterator:
        return self._concat(lambda s: s.backward_all())

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return iter(self.all())
