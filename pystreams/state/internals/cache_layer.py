"""What Kafka's caching stores (key-value, window, session) share: their named cache in the thread's record cache,
the flush listener, writes as dirty cache entries stamped with the record context, forwarding flushed entries
under the context of the write that produced them, and flush/close that empty the cache first.

Threads: the record cache belongs to the stream thread that initialized the store (Kafka's CachingKeyValueStore
saves it in init). Only that thread fills the cache on a miss, moves entries in the LRU order, evicts or flushes
("we don't want other threads to trigger an eviction/flush"). Any other thread, an interactive query, reads with
foreign_entry / foreign_items: plain dict reads and snapshots taken in one C call each, which leave the cache as it
was and never meet "mutated during iteration". No lock (Kafka's read/write lock and synchronized caches): an
uncontended acquire/release costs ~150 ns, paid by every record; the thread check here ~30 ns, and only in get() /
fetch() calls, not per record in the fused count and window updaters (kv_aggregate.py: on a cache miss only).
This relies on the GIL (CPython 3.11): a dict get or list(dict.items()) runs without another thread in between.
"""
from __future__ import annotations

from threading import get_ident
from typing import Any, Callable

from pystreams.state.internals.bytes_store import Layer
from pystreams.state.internals.cache import NO_TYPED, CacheEntry, NamedCache, ThreadCache

_NEW = object.__new__

_SNAPSHOT_TRIES = 100  # list(items()) fails only if a finalizer run inside it let the stream thread in

BytesFlushListener = Callable[[bytes, "bytes | None", "bytes | None", int, Any], None]
"""(store key, new bytes, old bytes or None, timestamp, headers) per flushed entry."""


class CacheLayer(Layer):
    """The record-cache half of a caching store; subclasses say how entries are keyed and written down."""

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._context: Any = None
        self._cache: ThreadCache | None = None
        self._named: NamedCache | None = None
        self._ns = ""
        self._listener: BytesFlushListener | None = None
        self._send_old_values = False
        self._owner: int | None = None  # thread id of the stream thread (set by init)

    def init(self, context: Any, root: Any) -> None:
        self.wrapped.init(context, root)
        self._context = context
        cache = context.cache
        if cache is None:  # a context without a cache (e.g. bare tests): a zero-byte cache writes through
            cache = ThreadCache(0)
        self._cache = cache
        self._ns = ThreadCache.name_space(context.task_id, self.name)
        cache.add_dirty_entry_flush_listener(self._ns, self._flush_entries)
        self._named = cache.named_cache(self._ns)
        self._owner = get_ident()  # the stream thread, as Kafka's init saves Thread.currentThread()

    def set_flush_listener(self, listener: BytesFlushListener, send_old_values: bool) -> bool:
        """Forward (key, new, old, ts, headers) for each flushed entry; True: caching is on."""
        self._listener = listener
        self._send_old_values = send_old_values
        return True

    def _flush_entries(self, entries: list[tuple[bytes, CacheEntry]]) -> None:
        raise NotImplementedError

    def foreign_thread(self) -> bool:
        """True on any thread but the stream thread that owns this store's cache (an interactive query)."""
        return get_ident() != self._owner

    def foreign_entry(self, cache_key: bytes) -> CacheEntry | None:
        """For a thread other than the stream thread: a copy of the key's cache entry, or of its entry being
        evicted (still on its way to the store), without moving it in the LRU order; None: read the store.

        A copy, because the stream thread rewrites cached entries in place and the metered layer keeps the
        deserialized value in the entry it reads (`typed`): done on a shared entry that could pair an old value
        with a newer write."""
        named = self._named
        assert named is not None
        entry = named.entries.get(cache_key)
        if entry is None:
            entry = named.evicting.get(cache_key)
            if entry is None:
                return None
        copy = _NEW(CacheEntry)
        copy.value = entry.value
        copy.typed = entry.typed
        copy.dirty = entry.dirty
        copy.timestamp = entry.timestamp
        copy.offset = entry.offset
        copy.topic = entry.topic
        copy.partition = entry.partition
        copy.headers = entry.headers
        copy.size = entry.size
        return copy

    def foreign_items(self, reverse: bool = False,
                      keep: Callable[[bytes], bool] | None = None) -> list[tuple[bytes, bytes | None]]:
        """For a thread other than the stream thread: (cache key, value) of every entry in the cache or being
        evicted (`keep(key)` true, when given), sorted by key, from one snapshot taken before any store iterator:
        a key written down after the snapshot is in the store by the time the store is read."""
        named = self._named
        assert named is not None
        entries, evicting = named.entries, named.evicting
        for attempt in range(_SNAPSHOT_TRIES):
            try:
                # entries first: a key that left them was put in `evicting` before and stays there until written
                items = list(entries.items())
                leaving = list(evicting.items())
                break
            except RuntimeError:  # changed under the copy (see _SNAPSHOT_TRIES)
                if attempt == _SNAPSHOT_TRIES - 1:
                    raise
        values = {key: entry.value for key, entry in leaving}
        for key, entry in items:  # a cached entry is newer than one being evicted
            values[key] = entry.value
        pairs = list(values.items()) if keep is None else [(k, v) for k, v in values.items() if keep(k)]
        pairs.sort(reverse=reverse)
        return pairs

    def _put_entry(self, cache_key: bytes, value: bytes | None, typed: Any = NO_TYPED) -> None:
        """A write: a dirty entry stamped with the current record context (evicting if over budget)."""
        named = self._named
        cache = self._cache
        assert named is not None and cache is not None
        named.write(cache_key, value, self._context.record_context, typed)
        if cache.total > cache.max_bytes:
            cache.maybe_evict(named)

    def _forward_flushed(self, forwards: list[tuple[bytes, bytes | None, bytes | None, CacheEntry]]) -> None:
        """Hand (store key, new, old, entry) to the listener in order, each under its entry's record context."""
        listener = self._listener
        if listener is None:
            return
        ctx = self._context
        current = ctx.record_context
        # one context per flush, set to each entry's record context in turn (a flush nested in a forward, e.g. an
        # eviction downstream, makes its own); nothing keeps a record context past the forward it was made for
        rc = _NEW(EntryContext)
        try:
            for key, new, old, entry in forwards:
                rc.timestamp = entry.timestamp
                rc.offset = entry.offset
                rc.topic = entry.topic
                rc.partition = entry.partition
                rc.headers = headers = entry.headers
                ctx.record_context = rc
                listener(key, new, old, rc.timestamp, headers)
        finally:
            ctx.record_context = current

    def flush(self) -> None:
        if self._cache is not None:
            self._cache.flush(self._ns)
        self.wrapped.flush()

    def flush_cache(self) -> None:
        """Flush only the cache (Kafka's CachedStateStore#flushCache: forward before the stores flush)."""
        if self._cache is not None:
            self._cache.flush(self._ns)

    def close(self) -> None:
        try:
            if self._cache is not None and self.wrapped.is_open():
                self._cache.flush(self._ns)
        finally:
            if self._cache is not None:
                self._cache.close(self._ns)
            self.wrapped.close()


class EntryContext:
    """The record context saved in a cache entry, made current while the entry is written down."""

    __slots__ = ("timestamp", "offset", "topic", "partition", "headers")

    def __init__(self, entry: CacheEntry) -> None:
        self.timestamp = entry.timestamp
        self.offset = entry.offset
        self.topic = entry.topic
        self.partition = entry.partition
        self.headers = entry.headers
