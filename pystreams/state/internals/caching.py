"""Caching layer (Kafka's CachingKeyValueStore): writes go to the record cache, reach the store on flush.

Reads see the cache first. On flush each dirty entry is written to the wrapped store under the record context
of the write that produced it, and handed to the flush listener as (key, new, old, timestamp, headers) so a
KTable processor can forward the deduplicated update.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from pystreams.state.internals.bytes_store import (BytesPairs, FlushedWrite, WrappedBytesStore, check_open,
                                                   invalid_range, write_flushed)
from pystreams.state.internals.cache import NO_TYPED, CacheEntry, DirtyEntry, NamedCache, ThreadCache

BytesFlushListener = Callable[[bytes, "bytes | None", "bytes | None", int, Any], None]


class CachingKeyValueStore(WrappedBytesStore):
    """Record cache in front of a bytes store; dedups repeated updates of a key between commits."""

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

    def _flush_entries(self, entries: list[DirtyEntry]) -> None:
        """Write every flushed entry down in one batch (changelog records, then one RocksDB WriteBatch), then
        forward them in flush order, each under its own record context.

        Old values are read before the batch is written; a forward sees the new values in the store (as Kafka's
        put-then-forward per entry does), and per topic the records are sent in the same order as Kafka's."""
        listener = self._listener
        send_old = self._send_old_values
        wrapped = self.wrapped
        writes: list[FlushedWrite] = []
        if listener is None:
            writes = [(key, entry.value, entry.timestamp) for key, entry in entries]
            write_flushed(wrapped, writes)
            return
        forwards = []
        get = wrapped.get
        for key, entry in entries:
            new = entry.value
            old = get(key) if new is None or send_old else None
            # key was absent in the store and deleted in the cache: nothing to write or forward
            if new is not None or old is not None:
                writes.append((key, new, entry.timestamp))
                forwards.append((key, new, old if send_old else None, entry))
        if not writes:
            return
        write_flushed(wrapped, writes)
        ctx = self._context
        current = ctx.record_context
        try:
            for key, new, old, entry in forwards:
                ctx.record_context = _EntryContext(entry)
                listener(key, new, old, entry.timestamp, entry.headers)
        finally:
            ctx.record_context = current

    def _put_internal(self, key: bytes, value: bytes | None, typed: Any = NO_TYPED) -> None:
        rc = self._context.record_context
        named = self._named
        assert named is not None and self._cache is not None
        named.put(key, CacheEntry(value, True, rc.timestamp, rc.offset, rc.topic, rc.partition, rc.headers, typed))
        self._cache.maybe_evict(named)

    def put_typed(self, key: bytes, value: bytes | None, typed: Any) -> None:
        """put(key, value) keeping `typed`, the deserialized form of value, for cached_entry() readers."""
        self._put_internal(key, value, typed)

    def cached_entry(self, key: bytes) -> CacheEntry | None:
        """The cache entry of key, read into the cache from the store on a miss; None if the key is in neither
        (an entry whose value is None is a delete not yet flushed)."""
        named = self._named
        assert named is not None and self._cache is not None
        entry = named.get(key)
        if entry is not None:
            return entry
        raw = self.wrapped.get(key)
        if raw is None:
            return None
        entry = CacheEntry(raw)
        named.put(key, entry)
        self._cache.maybe_evict(named)
        return entry

    def _get_internal(self, key: bytes) -> bytes | None:
        entry = self.cached_entry(key)
        return None if entry is None else entry.value

    def get(self, key: bytes) -> bytes | None:
        return self._get_internal(key)

    def put(self, key: bytes, value: bytes | None) -> None:
        self._put_internal(key, value)

    def put_if_absent(self, key: bytes, value: bytes | None) -> bytes | None:
        check_open(self)
        old = self._get_internal(key)
        if old is None:
            self._put_internal(key, value)
        return old

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        check_open(self)
        for key, value in entries:
            self._put_internal(key, value)

    def delete(self, key: bytes) -> bytes | None:
        check_open(self)
        old = self._get_internal(key)
        self._put_internal(key, None)
        return old

    def _merged(self, cached: Iterator[DirtyEntry], stored: BytesPairs, reverse: bool) -> BytesPairs:
        """Merge cache and store iterators in key order; the cache wins, cached deletes hide stored keys."""
        c = next(cached, None)
        s = next(stored, None)
        while c is not None or s is not None:
            if s is None or (c is not None and (c[0] > s[0] if reverse else c[0] < s[0])):
                assert c is not None
                if c[1].value is not None:
                    yield c[0], c[1].value
                c = next(cached, None)
            elif c is None or c[0] != s[0]:
                yield s
                s = next(stored, None)
            else:
                if c[1].value is not None:
                    yield c[0], c[1].value
                c = next(cached, None)
                s = next(stored, None)

    def range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        check_open(self)
        if invalid_range(from_key, to_key):
            return iter(())
        assert self._cache is not None
        return self._merged(self._cache.range(self._ns, from_key, to_key), self.wrapped.range(from_key, to_key),
                            False)

    def reverse_range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        check_open(self)
        if invalid_range(from_key, to_key):
            return iter(())
        assert self._cache is not None
        return self._merged(self._cache.range(self._ns, from_key, to_key, reverse=True),
                            self.wrapped.reverse_range(from_key, to_key), True)

    def all(self) -> BytesPairs:
        return self.range(None, None)

    def reverse_all(self) -> BytesPairs:
        return self.reverse_range(None, None)

    def prefix_scan(self, prefix: bytes) -> BytesPairs:
        check_open(self)
        assert self._cache is not None
        return self._merged(self._cache.range(self._ns, prefix, None, prefix=prefix),
                            self.wrapped.prefix_scan(prefix), False)

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


class _EntryContext:
    """The record context saved in a cache entry, made current while the entry is written down."""

    __slots__ = ("timestamp", "offset", "topic", "partition", "headers")

    def __init__(self, entry: CacheEntry) -> None:
        self.timestamp = entry.timestamp
        self.offset = entry.offset
        self.topic = entry.topic
        self.partition = entry.partition
        self.headers = entry.headers
