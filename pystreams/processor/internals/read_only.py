"""Read-only views of global stores for regular processors: only the global processor may write (Kafka)."""
from __future__ import annotations

from typing import Any, Iterable, NoReturn

from pystreams.errors import StateStoreError
from pystreams.state.api import KeyValueIterator, KeyValueStore, StateStore, TimestampedKeyValueStore


class _ReadOnly:
    """Reads pass through; writes and lifecycle calls are refused with a message saying where writes belong."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _refuse(self, what: str) -> NoReturn:
        raise StateStoreError(f"Global store {self._inner.name} is read-only for regular processors ({what}() "
                              "refused): only the processor of add_global_store() writes it, from its topic.")

    @property
    def name(self) -> str:
        return str(self._inner.name)

    @property
    def persistent(self) -> bool:
        return bool(self._inner.persistent)

    def is_open(self) -> bool:
        return bool(self._inner.is_open())

    def init(self, context: Any, root: StateStore) -> None:
        self._refuse("init")

    def flush(self) -> None:
        self._refuse("flush")

    def close(self) -> None:
        self._refuse("close")

    def get(self, key: Any) -> Any:
        return self._inner.get(key)

    def range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        return self._inner.range(from_key, to_key)  # type: ignore[no-any-return]

    def reverse_range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        return self._inner.reverse_range(from_key, to_key)  # type: ignore[no-any-return]

    def all(self) -> KeyValueIterator:
        return self._inner.all()  # type: ignore[no-any-return]

    def reverse_all(self) -> KeyValueIterator:
        return self._inner.reverse_all()  # type: ignore[no-any-return]

    def prefix_scan(self, prefix: Any, prefix_serializer: Any) -> KeyValueIterator:
        return self._inner.prefix_scan(prefix, prefix_serializer)  # type: ignore[no-any-return]

    def approximate_num_entries(self) -> int:
        return int(self._inner.approximate_num_entries())

    def put(self, key: Any, value: Any) -> None:
        self._refuse("put")

    def put_if_absent(self, key: Any, value: Any) -> Any:
        self._refuse("put_if_absent")

    def put_all(self, entries: Iterable[tuple[Any, Any]]) -> None:
        self._refuse("put_all")

    def delete(self, key: Any) -> Any:
        self._refuse("delete")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inner!r})"


class ReadOnlyKeyValueStore(_ReadOnly, KeyValueStore[Any, Any]):
    """A global KeyValueStore as regular processors see it."""


class ReadOnlyTimestampedKeyValueStore(_ReadOnly, TimestampedKeyValueStore[Any, Any]):
    """A global TimestampedKeyValueStore as regular processors see it."""


def read_only(store: Any) -> Any:
    """The read-only view matching the store's kind (so isinstance checks still tell them apart)."""
    if isinstance(store, TimestampedKeyValueStore):
        return ReadOnlyTimestampedKeyValueStore(store)
    if isinstance(store, KeyValueStore):
        return ReadOnlyKeyValueStore(store)
    return store  # other kinds (issue 5's window/session stores) get their own views when they exist
