"""Caching layer (Kafka's CachingKeyValueStore): writes go to the record cache, reach the store on flush.

Reads see the cache first. On flush each dirty entry is written to the wrapped store under the record context
of the write that produced it, and handed to the flush listener as (key, new, old, timestamp, headers) so a
KTable processor can forward the deduplicated update.
"""
from __future__ import annotations

from threading import get_ident
from typing import Any, Iterable, Iterator

from pystreams.state.internals.bytes_store import (BytesPairs, FlushedWrite, WrappedBytesStore, check_open,
                                                   invalid_range, write_flushed)
from pystreams.state.internals.cache import CacheEntry, DirtyEntry
from pystreams.state.internals.cache_layer import BytesFlushListener, CacheLayer, EntryContext

__all__ = ["BytesFlushListener", "CachingKeyValueStore", "EntryContext"]


class CachingKeyValueStore(CacheLayer, WrappedBytesStore):
    """Record cache in front of a bytes store; dedups repeated updates of a key between commits."""

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
        self._forward_flushed(forwards)

    def put_typed(self, key: bytes, value: bytes | None, typed: Any) -> None:
        """put(key, value) keeping `typed`, the deserialized form of value, for cached_entry() readers."""
        self._put_entry(key, value, typed)

    def cached_entry(self, key: bytes) -> CacheEntry | None:
        """The cache entry of key, read into the cache from the store on a miss; None if the key is in neither
        (an entry whose value is None is a delete not yet flushed).

        On a thread other than the stream thread (an interactive query) the cache is only looked at: a copy of
        the entry, else the stored value in an entry of its own that the cache never holds (Kafka's getInternal
        puts into the cache only on the stream thread: no eviction, flush or forward on the caller's thread)."""
        named = self._named
        assert named is not None and self._cache is not None
        if get_ident() != self._owner:
            entry = self.foreign_entry(key)
            if entry is not None:
                return entry
            raw = self.wrapped.get(key)
            return None if raw is None else CacheEntry(raw)
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
        self._put_entry(key, value)

    def put_if_absent(self, key: bytes, value: bytes | None) -> bytes | None:
        check_open(self)
        old = self._get_internal(key)
        if old is None:
            self._put_entry(key, value)
        return old

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        check_open(self)
        for key, value in entries:
            self._put_entry(key, value)

    def delete(self, key: bytes) -> bytes | None:
        check_open(self)
        old = self._get_internal(key)
        self._put_entry(key, None)
        return old

    def _merged(self, cached: Iterator[tuple[bytes, bytes | None]], stored: BytesPairs, reverse: bool) -> BytesPairs:
        """Merge cached (key, value) and stored pairs in key order; the cache wins, cached deletes (None) hide
        stored keys."""
        c = next(cached, None)
        s = next(stored, None)
        while c is not None or s is not None:
            if s is None or (c is not None and (c[0] > s[0] if reverse else c[0] < s[0])):
                assert c is not None
                if c[1] is not None:
                    yield c  # type: ignore[misc]
                c = next(cached, None)
            elif c is None or c[0] != s[0]:
                yield s
                s = next(stored, None)
            else:
                if c[1] is not None:
                    yield c  # type: ignore[misc]
                c = next(cached, None)
                s = next(stored, None)

    def _cached_pairs(self, from_key: bytes | None, to_key: bytes | None, prefix: bytes | None = None,
                      reverse: bool = False) -> Iterator[tuple[bytes, bytes | None]]:
        """The cache's (key, value) pairs in the range. On the stream thread: the cache's own iterator. On any
        other thread: a snapshot taken now, before the caller opens the store's iterator (foreign_items)."""
        if get_ident() != self._owner:
            def keep(k: bytes) -> bool:
                return ((from_key is None or k >= from_key) and (to_key is None or k <= to_key)
                        and (prefix is None or k.startswith(prefix)))
            return iter(self.foreign_items(reverse, keep))
        assert self._cache is not None
        return ((k, e.value) for k, e in self._cache.range(self._ns, from_key, to_key, prefix, reverse))

    def range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        check_open(self)
        if invalid_range(from_key, to_key):
            return iter(())
        cached = self._cached_pairs(from_key, to_key)
        return self._merged(cached, self.wrapped.range(from_key, to_key), False)

    def reverse_range(self, from_key: bytes | None, to_key: bytes | None) -> BytesPairs:
        check_open(self)
        if invalid_range(from_key, to_key):
            return iter(())
        cached = self._cached_pairs(from_key, to_key, reverse=True)
        return self._merged(cached, self.wrapped.reverse_range(from_key, to_key), True)

    def all(self) -> BytesPairs:
        return self.range(None, None)

    def reverse_all(self) -> BytesPairs:
        return self.reverse_range(None, None)

    def prefix_scan(self, prefix: bytes) -> BytesPairs:
        check_open(self)
        cached = self._cached_pairs(prefix, None, prefix=prefix)
        return self._merged(cached, self.wrapped.prefix_scan(prefix), False)
