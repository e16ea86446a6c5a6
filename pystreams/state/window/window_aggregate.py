"""The per-window update of Kafka's KStreamWindowAggregate on a cached timestamped window store, as one function per
processor: fetch(key, window start), aggregate, put(key, ValueAndTimestamp, window start) with the same reads,
writes, metrics and record-cache entries as those calls, but with everything a record needs bound once and the
cache entry of a window already cached rewritten in place (NamedCache.write's rewrite, inlined), as the key-value
aggregate does (state/internals/kv_aggregate.py).

This is the hot path of `windowed_by(TimeWindows...).count()`: a record costs one dict lookup for the read, no
call of the record cache's write() and, for count(), no call of the initializer or aggregator."""
from __future__ import annotations

import struct
import sys
from collections.abc import KeysView
from typing import Any, Callable

from pystreams.state.api import ValueAndTimestamp
from pystreams.state.internals.cache import NO_TYPED, CacheEntry
from pystreams.state.internals.timestamped import VAT_NEW, VAT_SET_TIMESTAMP, VAT_SET_VALUE
from pystreams.state.window.keys import SUFFIX
from pystreams.state.window.logging import ChangeLoggingWindowBytesStore

WindowUpdate = Callable[[Any, int, Any, int], None]
"""update(key, window start, value, record timestamp): one record's aggregation into one window."""

_TS_LONG = struct.Struct(">qq")  # Kafka's timestamped Long value: 8-byte timestamp + 8-byte long
_LONG_MAX = (1 << 63) - 1
_LONG_MIN = -(1 << 63)
_KEYS_KEPT = 16384  # keys whose last window's cache key is kept (cleared when full)


def cached_window_update(store: Any, initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any],
                         counting: bool = False, tumbling: bool = False) -> WindowUpdate:
    """The update function of an initialized MeteredTimestampedWindowStore whose caching layer (store._caching) is
    right below it; valid until the store is closed or initialized again (MeteredTimestampedWindowStore's
    window_updater() contract).

    counting: initializer and aggregator are count()'s (0, then +1), so the update adds one without calling them.
    Other aggregators are user code: the entry is rewritten in place only if it is still the window's entry after
    them. tumbling: each record updates one window (the caller's windows do not overlap), so a key's next update is
    most likely in the window of its last one (see the memo below; hopping windows would replace it at every
    update)."""
    caching = store._caching
    fast = store._key_fast
    raw_key_of, value_of, cached_value, raw_value_of = (store._raw_key, store._value, store._cached_value,
                                                        store._raw_value)
    affixes_of, window_affixes = caching._affixes.get, caching._window_affixes
    below = caching.wrapped
    if type(below).fetch is ChangeLoggingWindowBytesStore.fetch:  # a read goes straight through it
        below = below.wrapped
    fetch_stored = below.fetch
    # a RocksDB window store answers None for a window whose segment it does not hold (not written yet: a new
    # window before the commit that first flushes it, or expired) without a read: that test is made here, without
    # the call, on the store's live view of its segment ids (live_segment_ids(): valid for the store's life)
    live_segments: KeysView[int] | None = None
    interval = 1
    segmented = sys.modules.get("pystreams.state.window.segmented")  # loaded if below is one (no rocksdict import)
    if (segmented is not None and type(below) is segmented.RocksDBSegmentedWindowStore
            and not below.retain_duplicates):
        live_segments, interval = below.live_segment_ids(), below.segment_interval_ms
    ctx, cache = caching._context, caching._cache
    named = caching._named
    entries, write, resize, add_dirty = named.entries, named.write, named.resize, named.add_dirty
    lookup, move_to_end = entries.get, entries.move_to_end
    evict = cache.maybe_evict
    long_values, typed_ok = store._long_values, store._typed_ok
    pack, unpack = _TS_LONG.pack, _TS_LONG.unpack
    # UTF-8 String keys: equal str keys serialize to equal bytes, so each key's cache key in the window it was last
    # updated in is kept and reused while the key stays in that window (a tumbling window: until the next one
    # starts): no encode and no two concatenations per record, and the dict lookups and the dirty-order updates
    # hash a bytes object whose hash is already computed
    memo_ok = tumbling and fast is str.encode
    last_window: dict[str, tuple[int, bytes]] = {}

    def cache_key_of(key: Any, window_start: int) -> bytes:
        if fast is not None and store._open:
            try:
                raw_key = fast(key)
            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                raw_key = raw_key_of(key)
        else:
            raw_key = raw_key_of(key)  # raises when the store is closed
        affixes = affixes_of(window_start)
        if affixes is None:
            affixes = window_affixes(window_start)
        return affixes[0] + raw_key + affixes[1]

    def remembered(key: str, window_start: int) -> bytes:
        if len(last_window) >= _KEYS_KEPT:
            last_window.clear()
        cache_key = cache_key_of(key, window_start)
        last_window[key] = (window_start, cache_key)
        return cache_key

    def update(key: Any, window_start: int, value: Any, timestamp: int) -> None:
        store.fetches += 1
        if memo_ok and type(key) is str and store._open:
            last = last_window.get(key)
            if last is not None and last[0] == window_start:
                cache_key = last[1]
            else:
                cache_key = remembered(key, window_start)
        else:
            cache_key = cache_key_of(key, window_start)
        finish(key, window_start, value, timestamp, cache_key, lookup(cache_key))

    def count_long(key: Any, window_start: int, value: Any, timestamp: int) -> None:
        """update() of count() into Long values (the benchmark's and the common windowed count): a cached window
        is counted straight from its 16 bytes and rewritten in place; everything else goes to finish()."""
        store.fetches += 1
        if memo_ok and type(key) is str and store._open:
            last = last_window.get(key)
            if last is not None and last[0] == window_start:
                cache_key = last[1]
            else:  # remembered(), inlined: most often a key's first record in a new window
                if len(last_window) >= _KEYS_KEPT:
                    last_window.clear()
                affixes = affixes_of(window_start)
                if affixes is None:
                    affixes = window_affixes(window_start)
                try:
                    raw_key = fast(key)  # str.encode (memo_ok)
                except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                    raw_key = raw_key_of(key)
                cache_key = affixes[0] + raw_key + affixes[1]
                last_window[key] = (window_start, cache_key)
        else:
            cache_key = cache_key_of(key, window_start)
        entry = lookup(cache_key)
        if entry is None:
            if (live_segments is not None and not named.pinned
                    and window_start // interval not in live_segments):
                # finish() for a window neither cached nor stored (its segment is not in the store): count 1 at the
                # record's timestamp, a new dirty entry at the end of the LRU and dirty orders
                store.puts += 1
                add_dirty(cache_key, pack(timestamp, 1), ctx.record_context, NO_TYPED)
                if cache.total > cache.max_bytes:
                    evict(named)
                return
        elif not named.pinned:
            cached = entry.value
            if cached is not None and len(cached) == 16:
                old_timestamp, count = unpack(cached)
                if count < _LONG_MAX:  # else finish() decides what a count past Long's range becomes
                    if old_timestamp > timestamp:
                        timestamp = old_timestamp
                    store.puts += 1
                    raw = pack(timestamp, count + 1)
                    # NamedCache.write's in-place rewrite: old and new value are 16 bytes, so the size only
                    # changes with the topic or the headers
                    rc = ctx.record_context
                    topic, headers = rc.topic, rc.headers
                    if topic is not entry.topic or headers is not entry.headers:
                        resize(entry, raw, topic, headers)
                    entry.value = raw
                    entry.dirty = True
                    entry.timestamp = rc.timestamp
                    entry.offset = rc.offset
                    entry.partition = rc.partition
                    entry.typed = NO_TYPED
                    move_to_end(cache_key)
                    dirty = named.dirty  # replaced by each flush: read per record
                    dirty.pop(cache_key, None)  # moves to the end of the dirty order
                    dirty[cache_key] = None
                    if cache.total > cache.max_bytes:
                        evict(named)
                    return
        finish(key, window_start, value, timestamp, cache_key, entry)

    def finish(key: Any, window_start: int, value: Any, timestamp: int, cache_key: bytes,
               entry: CacheEntry | None) -> None:
        """The update after the cache lookup (entry: the window's cache entry, None when not cached)."""
        # the entry was read without NamedCache.get's move to the LRU end: the write below moves the entry there
        # anyway; only when no write follows (an error) is it moved, as fetch() would have moved it
        try:
            if entry is None:  # not cached: the store's value (a window store's read does not fill the cache)
                if live_segments is not None and window_start // interval not in live_segments:
                    stored = None
                else:
                    stored = fetch_stored(cache_key[8:-SUFFIX], window_start)
                old = None if stored is None else value_of(stored)
                if old is None:
                    agg = 1 if counting else aggregator(key, value, initializer())
                else:
                    agg = old.value + 1 if counting else aggregator(key, value, old.value)
                    if old.timestamp > timestamp:
                        timestamp = old.timestamp
            else:
                cached = entry.value
                if long_values and cached is not None and len(cached) == 16:
                    # a Long aggregate: timestamp and value straight from the 16 cached bytes
                    old_timestamp, old_agg = _TS_LONG.unpack(cached)
                    agg = old_agg + 1 if counting else aggregator(key, value, old_agg)
                    if old_timestamp > timestamp:
                        timestamp = old_timestamp
                else:
                    old = entry.typed
                    if old is NO_TYPED:
                        old = cached_value(entry)
                    if old is None:  # a delete not yet flushed
                        agg = 1 if counting else aggregator(key, value, initializer())
                    else:
                        agg = old.value + 1 if counting else aggregator(key, value, old.value)
                        if old.timestamp > timestamp:
                            timestamp = old.timestamp
            store.puts += 1
            new: Any = NO_TYPED
            if agg is None:
                raw: bytes | None = None
            elif long_values and type(agg) is int and _LONG_MIN <= agg <= _LONG_MAX:
                # no ValueAndTimestamp held in the entry: the bytes are read back as above, and one object less
                # per cached window for the cyclic GC to track
                raw = _TS_LONG.pack(timestamp, agg)
            else:
                new = VAT_NEW(ValueAndTimestamp)  # ValueAndTimestamp(agg, timestamp) without its __init__
                VAT_SET_VALUE(new, agg)
                VAT_SET_TIMESTAMP(new, timestamp)
                raw = raw_value_of(new)
                if not typed_ok:
                    new = NO_TYPED
        except BaseException:
            if entry is not None:
                named.get(cache_key)
            raise
        rc = ctx.record_context
        # the entry read above is rewritten in place (NamedCache.write's rewrite) unless there was none, a flush or
        # an iterator holds the cache, or the user's functions replaced the window's entry
        if entry is None and counting and not named.pinned:  # nothing wrote the window since the lookup
            add_dirty(cache_key, raw, rc, new if raw is not None else NO_TYPED)
        elif entry is None or named.pinned or (not counting and lookup(cache_key) is not entry):
            write(cache_key, raw, rc, new if raw is not None else NO_TYPED)
        else:
            topic, headers = rc.topic, rc.headers
            old_raw = entry.value
            # the size only changes with the value's length, the topic or the headers (a count's next write: none)
            if (topic is not entry.topic or headers is not entry.headers or raw is None or old_raw is None
                    or len(raw) != len(old_raw)):
                resize(entry, raw, topic, headers)
            entry.value = raw
            entry.dirty = True
            entry.timestamp = rc.timestamp
            entry.offset = rc.offset
            entry.partition = rc.partition
            entry.typed = new if raw is not None else NO_TYPED
            move_to_end(cache_key)
            dirty = named.dirty  # replaced by each flush: read per record
            dirty.pop(cache_key, None)  # moves to the end of the dirty order
            dirty[cache_key] = None
        if cache.total > cache.max_bytes:
            evict(named)
    return count_long if counting and long_values else update
