"""What every bytes-level layer offers: KeyValueStore over bytes keys/values, plus restore for the innermost."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from pystreams.errors import StateStoreError

BytesPairs = Iterator[tuple[bytes, bytes]]
FlushedWrite = tuple[bytes, "bytes | None", int]
"""(key, value or None for a delete, timestamp of the write's record): one entry of a cache flush."""


class Layer:
    """A store layer over another: its name, persistence and open state are the wrapped store's, and init, flush
    and close go down the stack (subclasses add what their layer does)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    @property
    def name(self) -> str:
        return str(self.wrapped.name)

    @property
    def persistent(self) -> bool:
        return bool(self.wrapped.persistent)

    def init(self, context: Any, root: Any) -> None:
        self.wrapped.init(context, root)

    def is_open(self) -> bool:
        return bool(self.wrapped.is_open())

    def flush(self) -> None:
        self.wrapped.flush()

    def close(self) -> None:
        self.wrapped.close()


class WrappedBytesStore(Layer):
    """A layer that delegates everything to the store it wraps; subclasses override what they change."""

    def get(self, key: bytes) -> bytes | None:
        return self.wrapped.get(key)  # type: ignore[no-any-return]

    def put(self, key: bytes, value: bytes | None) -> None:
        self.wrapped.put(key, value)

    def put_if_absent(self, key: bytes, value: bytes | None) -> bytes | None:
        return self.wrapped.put_if_absent(key, value)  # type: ignore[no-any-return]

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        self.wrapped.put_all(entries)

    def delete(self, key: bytes) -> bytes | None:
        return self.wrapped.delete(key)  # type: ignore[no-any-return]

    def write_flushed(self, entries: list[FlushedWrite]) -> None:
        """Write a cache flush's entries down in one call (see write_flushed())."""
        write_flushed(self.wrapped, entries)

    def range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        return self.wrapped.range(from_key, to_key)  # type: ignore[no-any-return]

    def reverse_range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        return self.wrapped.reverse_range(from_key, to_key)  # type: ignore[no-any-return]

    def all(self) -> BytesPairs:
        return self.wrapped.all()  # type: ignore[no-any-return]

    def reverse_all(self) -> BytesPairs:
        return self.wrapped.reverse_all()  # type: ignore[no-any-return]

    def prefix_scan(self, prefix: bytes) -> BytesPairs:
        return self.wrapped.prefix_scan(prefix)  # type: ignore[no-any-return]

    def approximate_num_entries(self) -> int:
        return int(self.wrapped.approximate_num_entries())

    def innermost(self) -> Any:
        """The storage layer at the bottom (restore writes there directly, like Kafka)."""
        inner = self.wrapped
        while isinstance(inner, WrappedBytesStore):
            inner = inner.wrapped
        return inner


def write_flushed(store: Any, entries: list[FlushedWrite]) -> None:
    """Write a cache flush in one call: logging layers log each entry with its own timestamp, the storage at the
    bottom takes them as one put_all (RocksDB: one WriteBatch instead of a put per key)."""
    batch = getattr(store, "write_flushed", None)
    if batch is not None:
        batch(entries)
    else:
        store.put_all([(key, value) for key, value, _ts in entries])


def invalid_range(from_key: bytes | None, to_key: bytes | None) -> bool:
    """Kafka returns an empty iterator (and logs) when from > to."""
    return from_key is not None and to_key is not None and from_key > to_key


def check_open(store: Any) -> None:
    """Refuse use of a closed store with a message that says what to do."""
    if not store.is_open():
        raise StateStoreError(f"State store {store.name} is not open: it was closed or never initialized "
                              "(use it from a processor between init() and close())")
