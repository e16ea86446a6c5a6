"""In-memory bytes store: a sorted dict so ranges iterate in byte order, like RocksDB (Kafka's TreeMap)."""
from __future__ import annotations

from typing import Any, Iterable

from sortedcontainers import SortedDict

from pystreams.state.internals.bytes_store import BytesPairs, invalid_range


class InMemoryBase:
    """What Kafka's in-memory stores share: not persistent, open between init() and close(), nothing to flush,
    emptied on close (restored from the changelog on the next start)."""

    def __init__(self, name: str, contents: Any) -> None:
        self._name = name
        self._contents = contents  # the store's map, cleared in place on close
        self._open = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def persistent(self) -> bool:
        return False

    def init(self, context: Any, root: Any) -> None:
        self._open = True

    def is_open(self) -> bool:
        return self._open

    def flush(self) -> None:
        """Nothing to flush: memory is the storage."""

    def close(self) -> None:
        self._contents.clear()
        self._open = False


class InMemoryKeyValueStore(InMemoryBase):
    """Kafka's InMemoryKeyValueStore: not persistent, restored from its changelog on start."""

    def __init__(self, name: str) -> None:
        self._map: SortedDict = SortedDict()
        super().__init__(name, self._map)

    def get(self, key: bytes) -> bytes | None:
        return self._map.get(key)  # type: ignore[no-any-return]

    def put(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self._map.pop(key, None)
        else:
            self._map[key] = value

    def put_if_absent(self, key: bytes, value: bytes | None) -> bytes | None:
        old = self._map.get(key)
        if old is None:
            self.put(key, value)
        return old  # type: ignore[no-any-return]

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        for key, value in entries:
            self.put(key, value)

    def delete(self, key: bytes) -> bytes | None:
        return self._map.pop(key, None)  # type: ignore[no-any-return]

    def _iter(self, keys: list[bytes]) -> BytesPairs:
        # keys are a snapshot; entries deleted meanwhile are skipped (Kafka's iterator does the same)
        m = self._map
        for k in keys:
            v = m.get(k)
            if v is not None:
                yield k, v

    def range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        if invalid_range(from_key, to_key):
            return iter(())
        return self._iter(list(self._map.irange(from_key, to_key)))

    def reverse_range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        if invalid_range(from_key, to_key):
            return iter(())
        return self._iter(list(self._map.irange(from_key, to_key, reverse=True)))

    def all(self) -> BytesPairs:
        return self._iter(list(self._map.keys()))

    def reverse_all(self) -> BytesPairs:
        return self._iter(list(reversed(self._map.keys())))

    def prefix_scan(self, prefix: bytes) -> BytesPairs:
        keys = []
        for k in self._map.irange(minimum=prefix):
            if not k.startswith(prefix):
                break
            keys.append(k)
        return self._iter(keys)

    def approximate_num_entries(self) -> int:
        return len(self._map)

    def restore_batch(self, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Apply changelog records (key, value, timestamp, offset) in order."""
        for key, value, _ts, _offset in records:
            self.put(key, value)
