"""Caching layers for window and session stores (Kafka's CachingWindowStore / CachingSessionStore), on S3's
record cache (ThreadCache): writes stay in the cache until commit or eviction, then each dirty entry is written
down under its own record context and handed to the flush listener with (new, old) bytes.

Cache keys are Kafka's segmented cache keys: 8-byte segment id + the store key (window: key + start + seqnum 0,
segment id = start // segment interval, interval 1 for in-memory stores; session: key + end + start, segment id
from the end). Single reads look at the cache first (even past retention, as Kafka's do); range reads merge the
cache and the store in that order, the cache winning. Reads on a thread other than the stream thread
(interactive queries) leave the cache as it was: see cache_layer.py.
"""
from __future__ import annotations

import struct
from threading import get_ident
from typing import Any, Callable, Iterator

from pystreams.state.internals.bytes_store import FlushedWrite
from pystreams.state.internals.cache import CacheEntry
from pystreams.state.internals.cache_layer import CacheLayer, EntryContext
from pystreams.state.session.keys import split_session_key, to_session_key
from pystreams.state.window.keys import split_store_key, to_store_key

_SEG = struct.Struct(">q")
LONG_MAX = (1 << 63) - 1
_AFFIXES_KEPT = 1024  # distinct window starts whose cache-key bytes are kept (cleared when full)


class _CachingBase(CacheLayer):
    def __init__(self, wrapped: Any, segment_interval_ms: int) -> None:
        super().__init__(wrapped)
        self.segment_interval_ms = max(1, segment_interval_ms)

    def _cache_key(self, store_key: bytes, segment_ts: int) -> bytes:
        return _SEG.pack(segment_ts // self.segment_interval_ms) + store_key

    def _flush_entries(self, entries: list[Any]) -> None:
        batch = self._batch_writer()
        if batch is not None and not self._send_old_values and self._no_deletes(entries):
            self._flush_batch(batch, entries)
            return
        # old values are read entry by entry between the writes, as Kafka does: a write advances the store's
        # stream time, which can hide an older window from the next read
        ctx = self._context
        current = ctx.record_context
        try:
            for cache_key, entry in entries:
                store_key = cache_key[8:]
                new = entry.value
                old = self._fetch_raw(store_key) if (new is None or self._send_old_values) else None
                ctx.record_context = EntryContext(entry)
                if self._listener is None:
                    self._write(store_key, new)
                elif new is not None or old is not None:
                    self._write(store_key, new)
                    self._listener(store_key, new, old if self._send_old_values else None, entry.timestamp,
                                   entry.headers)
        finally:
            ctx.record_context = current

    def _no_deletes(self, entries: list[Any]) -> bool:
        """Whether no flushed entry is a delete (value None): as counted by the flush that handed them over."""
        named = self._named
        if named is not None and named.flushing is entries:
            return named.flushed_deletes == 0
        return all(entry.value is not None for _k, entry in entries)

    def _flush_batch(self, batch: Callable[[list[FlushedWrite]], None], entries: list[Any]) -> None:
        """No old value to read: write every entry down in one call (changelog records, then one batch per
        segment), then forward them in flush order, each under its own record context."""
        store_keys = [cache_key[8:] for cache_key, _entry in entries]
        batch([(key, entry.value, entry.timestamp) for key, (_ck, entry) in zip(store_keys, entries)])
        self._forward_flushed([(key, entry.value, None, entry) for key, (_ck, entry) in zip(store_keys, entries)])

    def _batch_writer(self) -> Callable[[list[FlushedWrite]], None] | None:
        """The wrapped store's write_flushed(entries) when it takes a flush as one batch."""
        return None

    def _merge(self, cached: list[tuple[bytes, bytes | None]], stored: list[tuple[bytes, bytes]],
               reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        """Merge two sorted lists of (cache key, value); the cache wins on equal keys, cached deletes hide."""
        i = j = 0
        while i < len(cached) or j < len(stored):
            if j >= len(stored) or (i < len(cached) and (cached[i][0] > stored[j][0] if reverse
                                                         else cached[i][0] < stored[j][0])):
                if cached[i][1] is not None:
                    yield cached[i]  # type: ignore[misc]
                i += 1
            elif i >= len(cached) or cached[i][0] != stored[j][0]:
                yield stored[j]
                j += 1
            else:
                if cached[i][1] is not None:
                    yield cached[i]  # type: ignore[misc]
                i += 1
                j += 1

    def _cached(self, reverse: bool) -> list[tuple[bytes, bytes | None]]:
        """(cache key, value) of the whole cache in key order; on a thread other than the stream thread (an
        interactive query) from a snapshot that leaves the cache as it was (CacheLayer.foreign_items)."""
        if get_ident() != self._owner:
            return self.foreign_items(reverse)
        assert self._cache is not None
        return [(k, e.value) for k, e in self._cache.range(self._ns, None, None, reverse=reverse)]

    # subclass hooks
    def _fetch_raw(self, store_key: bytes) -> bytes | None:
        raise NotImplementedError

    def _write(self, store_key: bytes, value: bytes | None) -> None:
        raise NotImplementedError


class CachingWindowStore(_CachingBase):
    """Record cache in front of a bytes window store (not for retain-duplicates stores, as in Kafka)."""

    def __init__(self, wrapped: Any, segment_interval_ms: int) -> None:
        super().__init__(wrapped, segment_interval_ms)
        # window start -> (8-byte segment id, 8-byte start + 4-byte seqnum 0): the bytes around a key in its cache
        # key, packed once per window start instead of twice per record
        self._affixes: dict[int, tuple[bytes, bytes]] = {}
        self._flushed_forwarder: Callable[[list[bytes], list[tuple[bytes, CacheEntry]]], None] | None = None

    def set_flush_listener(self, listener: Any, send_old_values: bool) -> bool:
        self._flushed_forwarder = None  # a forwarder belongs to the listener it was made for
        return super().set_flush_listener(listener, send_old_values)

    def set_flushed_forwarder(self, forward_all: Callable[[list[bytes], list[tuple[bytes, CacheEntry]]], None]
                              | None) -> None:
        """forward_all(store keys, [(cache key, entry), ...]) forwards a whole batch flush (new values only, no old
        ones) as the listener would, entry by entry under each entry's record context: the metered layer sets one
        when it can build the listener's records itself (see MeteredTimestampedWindowStore.set_flush_listener)."""
        self._flushed_forwarder = forward_all

    def _flush_batch(self, batch: Callable[[list[FlushedWrite]], None], entries: list[Any]) -> None:
        forward_all = self._flushed_forwarder
        if forward_all is None or self._listener is None:
            super()._flush_batch(batch, entries)
            return
        store_keys = [cache_key[8:] for cache_key, _entry in entries]
        write_entries = getattr(self.wrapped, "write_flushed_entries", None)
        if write_entries is not None:  # no (key, value, timestamp) tuple per entry: a flush is thousands of them
            write_entries(store_keys, entries)
        else:
            batch([(key, entry.value, entry.timestamp) for key, (_ck, entry) in zip(store_keys, entries)])
        forward_all(store_keys, entries)

    def put(self, key: bytes, value: bytes | None, window_start: int) -> None:
        self._put_entry(self.window_cache_key(key, window_start), value)

    def window_cache_key(self, key: bytes, window_start: int) -> bytes:
        """The cache key of (key, window start): segment id + Kafka's window store key with seqnum 0."""
        affixes = self._affixes.get(window_start)
        if affixes is None:
            affixes = self._window_affixes(window_start)
        return affixes[0] + key + affixes[1]

    def _window_affixes(self, window_start: int) -> tuple[bytes, bytes]:
        affixes = self._affixes
        if len(affixes) >= _AFFIXES_KEPT:
            affixes.clear()
        pair = affixes[window_start] = (_SEG.pack(window_start // self.segment_interval_ms),
                                        to_store_key(b"", window_start, 0))
        return pair

    def put_typed(self, key: bytes, value: bytes | None, window_start: int, typed: Any) -> None:
        """put() keeping `typed`, the deserialized form of value, for cached_entry() readers."""
        self._put_entry(self.window_cache_key(key, window_start), value, typed)

    def cached_entry(self, key: bytes, window_start: int) -> CacheEntry | None:
        """The cache entry of (key, window start), None when not cached (then fetch() reads the store).

        A window read never fills the cache (as Kafka's CachingWindowStore.fetch). On a thread other than the
        stream thread it does not move the entry in the LRU order either, and gives a copy (foreign_entry)."""
        named = self._named
        assert named is not None
        if get_ident() != self._owner:  # nor keeps the key's bytes in _affixes, a dict of the stream thread's
            return self.foreign_entry(self._cache_key(to_store_key(key, window_start, 0), window_start))
        return named.get(self.window_cache_key(key, window_start))

    def fetch(self, key: bytes, window_start: int) -> bytes | None:
        entry = self.cached_entry(key, window_start)
        if entry is None:
            return self.wrapped.fetch(key, window_start)  # type: ignore[no-any-return]
        return entry.value

    def _fetch_raw(self, store_key: bytes) -> bytes | None:
        key, start, _ = split_store_key(store_key)
        return self.wrapped.fetch(key, start)  # type: ignore[no-any-return]

    def _write(self, store_key: bytes, value: bytes | None) -> None:
        key, start, _ = split_store_key(store_key)
        self.wrapped.put(key, value, start)

    def _batch_writer(self) -> Callable[[list[FlushedWrite]], None] | None:
        return getattr(self.wrapped, "write_flushed", None)

    def _windowed(self, key_from: bytes | None, key_to: bytes | None, time_from: int, time_to: int,
                  forward: bool) -> Iterator[tuple[tuple[bytes, int], bytes]]:
        cached = []
        for cache_key, value in self._cached(not forward):
            key, start, _ = split_store_key(cache_key[8:])
            if time_from <= start <= time_to and (key_from is None or key >= key_from) and (
                    key_to is None or key <= key_to):
                cached.append((cache_key, value))
        stored = sorted(((self._cache_key(to_store_key(k, start, 0), start), v)
                         for (k, start), v in self.wrapped.fetch_keys(key_from, key_to, time_from, time_to, True)),
                        reverse=not forward)
        for cache_key, value in self._merge(cached, stored, not forward):
            key, start, _ = split_store_key(cache_key[8:])
            yield (key, start), value

    def fetch_range(self, key: bytes, time_from: int, time_to: int, forward: bool = True) -> Iterator[tuple[int, bytes]]:
        return ((start, v) for (k, start), v in self._windowed(key, key, time_from, time_to, forward))

    def fetch_keys(self, key_from: bytes | None, key_to: bytes | None, time_from: int, time_to: int,
                   forward: bool = True) -> Iterator[tuple[tuple[bytes, int], bytes]]:
        return self._windowed(key_from, key_to, time_from, time_to, forward)

    def fetch_all(self, time_from: int, time_to: int, forward: bool = True) -> Iterator[tuple[tuple[bytes, int], bytes]]:
        return self._windowed(None, None, time_from, time_to, forward)

    def all(self, forward: bool = True) -> Iterator[tuple[tuple[bytes, int], bytes]]:
        return self._windowed(None, None, 0, LONG_MAX, forward)


class CachingSessionStore(_CachingBase):
    """Record cache in front of a bytes session store; segment ids come from the session end."""

    def put(self, key: bytes, start: int, end: int, value: bytes | None) -> None:
        self._put_entry(self._cache_key(to_session_key(key, start, end), end), value)

    def fetch_session(self, key: bytes, start: int, end: int) -> bytes | None:
        assert self._cache is not None
        cache_key = self._cache_key(to_session_key(key, start, end), end)
        if get_ident() != self._owner:  # an interactive query: look, do not move the entry in the LRU order
            entry = self.foreign_entry(cache_key)
        else:
            entry = self._cache.get(self._ns, cache_key)
        if entry is None:
            return self.wrapped.fetch_session(key, start, end)  # type: ignore[no-any-return]
        return entry.value

    def _fetch_raw(self, store_key: bytes) -> bytes | None:
        key, start, end = split_session_key(store_key)
        return self.wrapped.fetch_session(key, start, end)  # type: ignore[no-any-return]

    def _write(self, store_key: bytes, value: bytes | None) -> None:
        key, start, end = split_session_key(store_key)
        self.wrapped.put(key, start, end, value)

    def find_sessions(self, key_from: bytes | None, key_to: bytes | None, earliest_end: int, latest_start: int,
                      forward: bool = True) -> Iterator[tuple[tuple[bytes, int, int], bytes]]:
        cached = []
        for cache_key, value in self._cached(not forward):
            key, start, end = split_session_key(cache_key[8:])
            if end >= earliest_end and start <= latest_start and (key_from is None or key >= key_from) and (
                    key_to is None or key <= key_to):
                cached.append((cache_key, value))
        stored = sorted(((self._cache_key(to_session_key(k, s, e), e), v) for (k, s, e), v in
                         self.wrapped.find_sessions(key_from, key_to, earliest_end, latest_start, True)),
                        reverse=not forward)
        for cache_key, value in self._merge(cached, stored, not forward):
            key, start, end = split_session_key(cache_key[8:])
            yield (key, start, end), value
