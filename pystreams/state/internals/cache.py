"""Kafka Streams' record cache (ThreadCache + NamedCache): one byte budget shared by the caching stores.

Writes stay in the cache as dirty entries; a key written again replaces its entry (dedup) and moves to the
end of the dirty order. A flush (commit, or eviction of a dirty entry when the budget is exceeded) hands every
dirty entry, in order of last update, to the store's listener, which writes them down and forwards them.
"""
from __future__ import annotations

from collections import OrderedDict, deque
from itertools import repeat
from operator import attrgetter
from typing import Any, Callable, Iterator

from pystreams.errors import StateStoreError

Headers = tuple[tuple[str, "bytes | None"], ...]


NO_TYPED: Any = object()
"""CacheEntry.typed when the entry holds no deserialized value (the bytes are always the truth)."""


class CacheEntry:
    """A cached value with the record context of the write (replayed when the entry is flushed).

    `typed` may hold the value the metered layer put or read, when the value bytes round-trip to an equal
    immutable object (ints with an integral serde): a read then skips the deserializer. In a timestamped key-value
    store's cache it may also be a (value, timestamp) tuple (the stream aggregate's updater, kv_aggregate.py),
    which the metered layer's get() turns into a ValueAndTimestamp."""

    __slots__ = ("value", "dirty", "timestamp", "offset", "topic", "partition", "headers", "size", "typed")

    def __init__(self, value: bytes | None, dirty: bool = False, timestamp: int = -1, offset: int = -1,
                 topic: str | None = None, partition: int = -1, headers: Headers = (),
                 typed: Any = NO_TYPED) -> None:
        self.value = value
        self.dirty = dirty
        self.timestamp = timestamp
        self.offset = offset
        self.topic = topic
        self.partition = partition
        self.headers = headers
        self.typed = typed
        self.size = entry_size(value, topic, headers)


def entry_size(value: bytes | None, topic: str | None, headers: Headers) -> int:
    """Kafka's LRUCacheEntry.size(): value + dirty flag + partition + offset + timestamp + topic + headers."""
    size = 21 + (len(value) if value is not None else 0) + (len(topic) if topic else 0)
    if headers:
        for hk, hv in headers:
            size += len(hk) + (len(hv) if hv is not None else 0)
    return size


DirtyEntry = tuple[bytes, CacheEntry]
FlushListener = Callable[[list[DirtyEntry]], None]

_NODE_OVERHEAD = 24  # Kafka's LRUNode.size(): key + 3 references
_VALUE = attrgetter("value")
_NEW = object.__new__
_consume = deque  # deque(iterator, 0): runs an iterator in C, keeping nothing


class NamedCache:
    """The cache of one store of one task (namespace `<task>-<store>`)."""

    __slots__ = ("name", "entries", "dirty", "size", "listener", "owner", "pinned", "evicting", "flushing",
                 "flushed_deletes")

    def __init__(self, name: str, owner: ThreadCache | None = None) -> None:
        self.name = name
        self.owner = owner
        self.entries: OrderedDict[bytes, CacheEntry] = OrderedDict()  # LRU order: eldest first
        self.dirty: dict[bytes, None] = {}  # insertion-ordered set, order of last dirty write
        self.size = 0
        self.listener: FlushListener | None = None
        self.pinned = 0  # flushes and range iterators in progress: their entries must not change (see write())
        # dirty entries evicted and still being written down: a reader on another thread (an interactive query)
        # looks here between `entries` and the store, so it never finds an evicted key in neither
        self.evicting: dict[bytes, CacheEntry] = {}
        # while the listener runs: the list it was handed and how many of its entries are deletes (value None), so
        # the listener need not look at every entry again to choose its path
        self.flushing: list[DirtyEntry] | None = None
        self.flushed_deletes = 0

    def get(self, key: bytes) -> CacheEntry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def _grow(self, delta: int) -> None:
        self.size += delta
        if self.owner is not None:
            self.owner.total += delta

    def put(self, key: bytes, entry: CacheEntry) -> None:
        entries = self.entries
        old = entries.get(key)
        if old is not None:
            delta = entry.size - old.size
            entries.move_to_end(key)
        else:
            delta = len(key) + _NODE_OVERHEAD + entry.size
        entries[key] = entry
        self.size += delta
        owner = self.owner
        if owner is not None:
            owner.total += delta
        if entry.dirty:
            dirty = self.dirty
            if key in dirty:
                del dirty[key]  # moves to the end of the dirty order
            dirty[key] = None

    def write(self, key: bytes, value: bytes | None, rc: Any, typed: Any) -> None:
        """A dirty write of key stamped with record context rc (timestamp, offset, topic, partition, headers).

        The same as put(key, CacheEntry(value, True, ...)), but a key already cached has its entry rewritten in
        place instead of a new entry per write (the common case: a count updates the same keys again and again).
        Not while a flush or a range iterator holds this cache's entries (`pinned`): a write made from a forwarded
        update, or while iterating, must not change an entry they still read (Kafka replaces the node's entry
        object, so they see the value they took)."""
        entries = self.entries
        entry = entries.get(key)
        if entry is None or self.pinned:
            self.put(key, CacheEntry(value, True, rc.timestamp, rc.offset, rc.topic, rc.partition, rc.headers,
                                     typed))
            return
        topic, headers = rc.topic, rc.headers
        old_value = entry.value
        # the size only changes with the value's length, the topic or the headers (a count's next write: none)
        if (topic is not entry.topic or headers is not entry.headers or value is None or old_value is None
                or len(value) != len(old_value)):
            self.resize(entry, value, topic, headers)
        entry.value = value
        entry.dirty = True
        entry.timestamp = rc.timestamp
        entry.offset = rc.offset
        entry.partition = rc.partition
        entry.typed = typed
        entries.move_to_end(key)
        dirty = self.dirty
        dirty.pop(key, None)  # moves to the end of the dirty order
        dirty[key] = None

    def add_dirty(self, key: bytes, value: bytes | None, rc: Any, typed: Any) -> None:
        """write() of a key this cache does not hold (the caller has just looked): its new entry goes straight to
        the end of the LRU and dirty orders, without write()'s and put()'s lookups of the key."""
        # CacheEntry(value, True, rc...) without its __init__ and entry_size() frames (one per new window or key)
        entry = _NEW(CacheEntry)
        entry.value = value
        entry.dirty = True
        entry.timestamp = rc.timestamp
        entry.offset = rc.offset
        entry.topic = topic = rc.topic
        entry.partition = rc.partition
        entry.headers = headers = rc.headers
        entry.typed = typed
        if headers:
            size = entry_size(value, topic, headers)
        else:
            size = 21 + (len(value) if value is not None else 0) + (len(topic) if topic else 0)
        entry.size = size
        self.entries[key] = entry
        delta = len(key) + _NODE_OVERHEAD + size
        self.size += delta
        owner = self.owner
        if owner is not None:
            owner.total += delta
        self.dirty[key] = None

    def resize(self, entry: CacheEntry, value: bytes | None, topic: str | None, headers: Headers) -> None:
        """Part of an in-place rewrite of entry (write()): its size and the byte totals for the new value, topic
        and headers; sets topic and headers, the caller the rest."""
        size = entry_size(value, topic, headers)
        delta = size - entry.size
        entry.size = size
        entry.topic = topic
        entry.headers = headers
        if delta:
            self.size += delta
            owner = self.owner
            if owner is not None:
                owner.total += delta

    def flush(self, evicted: DirtyEntry | None = None) -> None:
        if not self.dirty:
            return
        flushed: list[DirtyEntry] = []
        deleted: list[bytes] = []
        evicted_deletes = 0
        if evicted is not None:
            flushed.append(evicted)
            self.dirty.pop(evicted[0], None)
            if evicted[1].value is None:
                evicted_deletes = 1
        entries = self.entries
        keys = list(self.dirty)
        try:  # in C: the entries in dirty order, their dirty flags cleared, their values (None: a delete)
            dirty_entries = list(map(entries.__getitem__, keys))
        except KeyError:
            missing = next(key for key in keys if key not in entries)
            raise StateStoreError(f"Key {missing!r} found in dirty key set of cache {self.name}, but entry is null"
                                  ) from None
        _consume(map(setattr, dirty_entries, repeat("dirty"), repeat(False)), 0)
        if evicted is None:
            flushed = list(zip(keys, dirty_entries))
        else:
            flushed.extend(zip(keys, dirty_entries))
        values = list(map(_VALUE, dirty_entries))
        if values.count(None):
            deleted = [key for key, value in zip(keys, values) if value is None]
        self.dirty = {}  # cleared before the listener: it may write to this cache again
        if self.listener is None:
            raise StateStoreError(f"No flush listener registered for cache {self.name}")
        self.pinned += 1
        self.flushing = flushed
        self.flushed_deletes = len(deleted) + evicted_deletes
        try:
            self.listener(flushed)
        finally:
            self.pinned -= 1
            self.flushing = None
        for key in deleted:
            self.delete(key)

    def evict(self) -> None:
        entries = self.entries
        if not entries:
            return
        key = next(iter(entries))
        entry = entries[key]
        dirty = entry.dirty
        if dirty:
            evicting = self.evicting
            evicting[key] = entry  # before it leaves `entries` (see __init__)
        del entries[key]
        delta = len(key) + _NODE_OVERHEAD + entry.size
        self.size -= delta
        owner = self.owner
        if owner is not None:
            owner.total -= delta
        if dirty:
            try:
                self.flush((key, entry))
            finally:
                if evicting.get(key) is entry:  # a nested eviction of the key may have put a newer entry
                    del evicting[key]

    def delete(self, key: bytes) -> CacheEntry | None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self._grow(-(len(key) + _NODE_OVERHEAD + entry.size))
            self.dirty.pop(key, None)
        return entry

    def keys_in_range(self, from_key: bytes | None, to_key: bytes | None, prefix: bytes | None = None,
                      reverse: bool = False) -> list[bytes]:
        """Snapshot of cached keys in the range, sorted (Kafka's NamedCache keeps a TreeMap)."""
        keys = [k for k in self.entries
                if (from_key is None or k >= from_key) and (to_key is None or k <= to_key)
                and (prefix is None or k.startswith(prefix))]
        keys.sort(reverse=reverse)
        return keys


class ThreadCache:
    """All named caches of a stream thread sharing `statestore.cache.max.bytes`."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise StateStoreError(f"statestore.cache.max.bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.caches: dict[str, NamedCache] = {}
        self.total = 0  # bytes over all named caches, kept up to date by the caches

    @staticmethod
    def name_space(task_id: object, store_name: str) -> str:
        """Kafka's cache namespace: `<task id>-<store name>`."""
        return f"{task_id}-{store_name}"

    def add_dirty_entry_flush_listener(self, namespace: str, listener: FlushListener) -> None:
        self._cache(namespace).listener = listener

    def named_cache(self, namespace: str) -> NamedCache:
        """The cache of one store (created on first use): a caching layer keeps it to skip the namespace lookup
        per record, and calls maybe_evict(it) after each put."""
        return self._cache(namespace)

    def _cache(self, namespace: str) -> NamedCache:
        cache = self.caches.get(namespace)
        if cache is None:
            cache = self.caches[namespace] = NamedCache(namespace, self)
        return cache

    def size_bytes(self) -> int:
        return self.total

    def get(self, namespace: str, key: bytes) -> CacheEntry | None:
        cache = self.caches.get(namespace)
        return None if cache is None else cache.get(key)

    def put(self, namespace: str, key: bytes, entry: CacheEntry) -> None:
        cache = self._cache(namespace)
        cache.put(key, entry)
        self.maybe_evict(cache)

    def maybe_evict(self, cache: NamedCache) -> None:
        """Evict (flushing dirty entries) from the cache just written until the budget holds again."""
        # like Kafka: only the cache just written is evicted from, even if others hold more
        while self.total > self.max_bytes:
            if not cache.entries:
                return
            cache.evict()

    def delete(self, namespace: str, key: bytes) -> CacheEntry | None:
        cache = self.caches.get(namespace)
        return None if cache is None else cache.delete(key)

    def flush(self, namespace: str) -> None:
        cache = self.caches.get(namespace)
        if cache is not None:
            cache.flush()

    def close(self, namespace: str) -> None:
        cache = self.caches.pop(namespace, None)
        if cache is not None:
            self.total -= cache.size

    def range(self, namespace: str, from_key: bytes | None, to_key: bytes | None, prefix: bytes | None = None,
              reverse: bool = False) -> Iterator[DirtyEntry]:
        """Cached (key, entry) pairs in key order; entries removed meanwhile are skipped."""
        cache = self.caches.get(namespace)
        if cache is None:
            return
        cache.pinned += 1  # until the iterator ends or is dropped
        try:
            for key in cache.keys_in_range(from_key, to_key, prefix, reverse):
                entry = cache.entries.get(key)
                if entry is not None:
                    yield key, entry
        finally:
            cache.pinned -= 1
