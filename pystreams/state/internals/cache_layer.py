"""What Kafka's caching stores (key-value, window, session) share: their named cache in the thread's record cache,
the flush listener, writes as dirty cache entries stamped with the record context, forwarding flushed entries
under the context of the write that produced them, and flush/close that empty the cache first."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.state.internals.bytes_store import Layer
from pystreams.state.internals.cache import NO_TYPED, CacheEntry, NamedCache, ThreadCache

_NEW = object.__new__

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

    def set_flush_listener(self, listener: BytesFlushListener, send_old_values: bool) -> bool:
        """Forward (key, new, old, ts, headers) for each flushed entry; True: caching is on."""
        self._listener = listener
        self._send_old_values = send_old_values
        return True

    def _flush_entries(self, entries: list[tuple[bytes, CacheEntry]]) -> None:
        raise NotImplementedError

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
