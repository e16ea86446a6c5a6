"""The per-record update of Kafka's KStreamAggregate / KStreamReduce on a cached timestamped key-value store, as one
function per processor: get(key), aggregate, put(key, ValueAndTimestamp) with the same reads, writes, metrics and
record-cache entries as those calls, but with everything a record needs bound once (the key encoder, the named
cache and its dict, the metrics, the value serde's fast path) and the cache entry read and rewritten in place.

This is the hot path of `group_by_key().count()`: the metered layer's get and put each went through three layers
(metered -> caching -> record cache) and serialized the key; here a record costs one dict lookup for the read and
the in-place rewrite NamedCache.write does, inlined."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.serdes.primitives import LongSerde
from pystreams.state.api import ValueAndTimestamp
from pystreams.state.internals.cache import NO_TYPED
from pystreams.state.internals.timestamped import LONG_RANGE, TS_LONG

Update = Callable[[Any, Any, int], None]
"""update(key, value, record timestamp): one record's aggregation into the store."""


def cached_update(store: Any, initializer: Callable[[], Any] | None, aggregator: Callable[[Any, Any, Any], Any],
                  counting: bool = False) -> Update:
    """The update function of an initialized MeteredTimestampedKeyValueStore whose caching layer is right below
    it (store._caching). Bound to the store's incarnation: after a close it raises as get() would, after a new
    init it goes through a fresh update function (correct but slow: ask the store again after init).

    counting: initializer and aggregator are count()'s (0, then +1), so the update adds one without calling them.
    Other aggregators are user code: the entry is rewritten in place only if it is still the key's entry after
    them."""
    caching = store._caching
    named = caching._named
    cache = caching._cache
    ctx = caching._context
    entries = named.entries
    lookup = entries.get
    move_to_end = entries.move_to_end
    cached_entry = caching.cached_entry
    write = named.write
    resize = named.resize
    metrics = store.metrics
    key_fast = store._key_fast
    raw_key_of = store._raw_key
    cached_value = store._cached_value
    raw_value = store._raw_value
    typed_ok = store._typed_ok
    long_values = type(store._vs) is LongSerde
    incarnation = store._incarnation

    def update(key: Any, value: Any, timestamp: int) -> None:
        if store._incarnation is not incarnation:  # the store was closed, maybe initialized again, since
            if not store._open:
                raw_key_of(key)  # raises: the store is closed
            store.updater(initializer, aggregator, counting)(key, value, timestamp)
            return
        metrics.get += 1
        if key_fast is not None:
            try:
                raw_key = key_fast(key)
            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                raw_key = raw_key_of(key)
        else:
            raw_key = raw_key_of(key)
        # read without NamedCache.get's move to the LRU end: the write below moves the entry there anyway; only
        # when no write follows (an error) is it moved, as get() would have moved it
        entry = lookup(raw_key)
        hit = entry is not None
        if not hit:  # a miss reads the stored value into the cache, as get() does (it may evict)
            entry = cached_entry(raw_key)
        try:
            found = entry is not None
            if found:
                typed = entry.typed
                if type(typed) is tuple:  # (aggregate, timestamp), as this function writes it
                    old_agg, old_timestamp = typed
                else:
                    if typed is NO_TYPED:
                        typed = cached_value(entry)
                    if typed is None:  # a delete not yet flushed
                        found = False
                    else:
                        old_agg, old_timestamp = typed.value, typed.timestamp
            if not found:
                if counting:
                    agg = 1
                else:
                    agg = aggregator(key, value, None if initializer is None else initializer())
            else:
                if counting:
                    agg = old_agg + 1
                else:
                    agg = aggregator(key, value, old_agg)
                if old_timestamp > timestamp:
                    timestamp = old_timestamp
            metrics.put += 1
            if agg is None:
                raw: bytes | None = None
                new: Any = NO_TYPED
            else:
                if long_values and type(agg) is int and agg in LONG_RANGE:
                    raw = TS_LONG.pack(timestamp, agg)
                else:
                    raw = raw_value(ValueAndTimestamp(agg, timestamp))
                # the entry holds (aggregate, timestamp), not a ValueAndTimestamp: a tuple costs a third of one to
                # make and free; get() makes the ValueAndTimestamp (MeteredTimestampedKeyValueStore._cached_value)
                new = (agg, timestamp) if typed_ok and raw is not None else NO_TYPED
        except BaseException:
            if hit:
                named.get(raw_key)
            raise
        rc = ctx.record_context
        # the entry read above is rewritten in place (NamedCache.write's rewrite, inlined) unless it was read in on
        # a miss (which may have evicted it), a flush or an iterator holds the cache, or the user's functions
        # replaced the key's entry
        if not hit or named.pinned or (not counting and lookup(raw_key) is not entry):
            write(raw_key, raw, rc, new)
        else:
            topic, headers = rc.topic, rc.headers
            old_raw = entry.value
            if (topic is not entry.topic or headers is not entry.headers or raw is None or old_raw is None
                    or len(raw) != len(old_raw)):
                resize(entry, raw, topic, headers)
            entry.value = raw
            entry.dirty = True
            entry.timestamp = rc.timestamp
            entry.offset = rc.offset
            entry.partition = rc.partition
            entry.typed = new
            move_to_end(raw_key)
            dirty = named.dirty  # replaced by each flush: read per record
            dirty.pop(raw_key, None)  # moves to the end of the dirty order
            dirty[raw_key] = None
        if cache.total > cache.max_bytes:
            cache.maybe_evict(named)
    return update
