"""Metered window layers: the typed WindowStore processors get from get_state_store() (Kafka's
MeteredWindowStore / MeteredTimestampedWindowStore). Keys of range results are Windowed(key, TimeWindow)."""
from __future__ import annotations

import struct
from typing import Any, Callable, Iterator

from pystreams.serdes.primitives import LongSerde
from pystreams.serdes.windowed import TimeWindow, Windowed, time_window_for_size
from pystreams.state.api import KeyValueIterator, ValueAndTimestamp
from pystreams.state.internals.cache import NO_TYPED, CacheEntry
from pystreams.state.internals.cache_layer import EntryContext
from pystreams.state.internals.timestamped import TimestampedValues, timestamped_restore
from pystreams.state.window.caching import CachingWindowStore
from pystreams.state.window.keys import SUFFIX, split_store_key
from pystreams.state.window.metered_layer import MeteredWindowedLayer
from pystreams.state.window.window_aggregate import cached_window_update

LONG_MAX = (1 << 63) - 1
_TS_LONG = struct.Struct(">qq")
_START = struct.Struct(">q")  # Kafka's timestamped Long value: 8-byte timestamp + 8-byte long
_WINDOWS_KEPT = 1024  # distinct window starts whose TimeWindow is reused (cleared when full)
# Windowed built in C calls on the flush path (the frozen dataclass' generated __init__ sets each field with
# object.__setattr__ from Python): the same object
_NEW = object.__new__
_SET_KEY, _SET_WINDOW = Windowed.__dict__["key"].__set__, Windowed.__dict__["window"].__set__


class MeteredWindowStore(MeteredWindowedLayer):
    """WindowStore[K, V]: put(key, value, window_start), fetch by key and time (range), fetch_all, backward."""

    _caching_type = CachingWindowStore

    def __init__(self, wrapped: Any, metrics_scope: str, window_size_ms: int, key_serde: Any,
                 value_serde: Any) -> None:
        super().__init__(wrapped, metrics_scope, key_serde, value_serde)
        self.window_size_ms = window_size_ms
        self.puts = self.fetches = 0
        self._windows: dict[int, TimeWindow] = {}  # window start -> its (immutable) TimeWindow, shared by results

    def _window(self, start: int) -> TimeWindow:
        window = self._windows.get(start)
        if window is None:
            if len(self._windows) >= _WINDOWS_KEPT:
                self._windows.clear()
            window = self._windows[start] = time_window_for_size(start, self.window_size_ms)
        return window

    def _typed_key(self, store_key: bytes) -> Windowed[Any]:
        n = len(store_key) - SUFFIX
        if n < 0:
            split_store_key(store_key)  # raises: says what is wrong
        start = _START.unpack_from(store_key, n)[0]
        window = self._windows.get(start)
        return Windowed(self._key(store_key[:n]), self._window(start) if window is None else window)

    # ---- serdes
    def _raw_value(self, value: Any) -> bytes | None:
        return None if value is None else self._vs.serialize(self._topic, value)

    def _windowed(self, pairs: Iterator[tuple[tuple[bytes, int], bytes]]) -> KeyValueIterator:
        key, window, value = self._key, self._window, self._value
        return KeyValueIterator((Windowed(key(k), window(start)), value(v)) for (k, start), v in pairs)

    def _timed(self, pairs: Iterator[tuple[int, bytes]]) -> KeyValueIterator:
        value = self._value
        return KeyValueIterator((start, value(v)) for start, v in pairs)

    # ---- WindowStore
    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Store value for key in the window starting at window_start; None deletes."""
        self.puts += 1
        raw_key = self._raw_key(key)
        raw = self._raw_value(value)
        caching = self._caching
        if caching is None:
            self.wrapped.put(raw_key, raw, window_start)
        else:  # a value that serialized with an exact serde is what a read would deserialize
            caching.put_typed(raw_key, raw, window_start, self._for_cache(value, raw))

    def fetch(self, key: Any, time_from: int, time_to: int | None = None) -> Any:
        """fetch(key, window_start) -> value or None; fetch(key, from, to) -> iterator of (start, value)."""
        self.fetches += 1
        if time_to is not None:
            return self._timed(self.wrapped.fetch_range(self._raw_key(key), time_from, time_to, True))
        raw_key = self._raw_key(key)
        caching = self._caching
        if caching is not None:
            entry = caching.cached_entry(raw_key, time_from)
            if entry is not None:
                return self._cached_value(entry)
        return self._value(self.wrapped.fetch(raw_key, time_from))

    def backward_fetch(self, key: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._timed(self.wrapped.fetch_range(self._raw_key(key), time_from, time_to, False))

    def fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_keys(self._bound(key_from), self._bound(key_to),
                                                      time_from, time_to, True))

    def backward_fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_keys(self._bound(key_from), self._bound(key_to),
                                                      time_from, time_to, False))

    def _bound(self, key: Any) -> bytes | None:
        return None if key is None else self._raw_key(key)

    def fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_all(time_from, time_to, True))

    def backward_fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_all(time_from, time_to, False))

    def all(self) -> KeyValueIterator:
        return self._windowed(self.wrapped.all(True))

    def backward_all(self) -> KeyValueIterator:
        return self._windowed(self.wrapped.all(False))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class MeteredTimestampedWindowStore(TimestampedValues, MeteredWindowStore):  # type: ignore[misc]
    """TimestampedWindowStore[K, V]: values are ValueAndTimestamp (stored as 8-byte timestamp + value)."""

    _long_values = False  # the value serde is Kafka's Long serde (set at init)
    # (initializer, aggregator, window_updater(initializer, aggregator)) of the last aggregate_window() call
    _updater: tuple[Any, Any, Callable[[Any, int, Any, int], None]] | None = None

    def _restore_callback(self) -> Callable[[list[Any]], None]:
        return timestamped_restore(self._innermost().restore_batch)

    def init(self, context: Any, root: Any) -> None:
        self._updater = None
        super().init(context, root)
        self._long_values = type(self._vs) is LongSerde

    def close(self) -> None:
        self._updater = None
        super().close()

    def set_flush_listener(self, listener: Callable[[Any], None], send_old_values: bool) -> bool:
        enabled = super().set_flush_listener(listener, send_old_values)
        caching = self.wrapped
        if enabled and isinstance(caching, CachingWindowStore):
            caching.set_flushed_forwarder(self._flushed_forwarder(listener))
        return enabled

    def _flushed_forwarder(self, listener: Any) -> Callable[[list[bytes], list[tuple[bytes, CacheEntry]]],
                                                            None] | None:
        """For a listener with forward_plain (the DSL's TimestampedCacheFlushListener): a forwarder of whole batch
        flushes that hands it each entry's Windowed key, plain new value (from the 16 Long bytes, the held
        ValueAndTimestamp, or the value bytes), the value's timestamp and the entry's headers, under the entry's
        record context, instead of a Record of a Change of ValueAndTimestamps per entry that the listener unwraps."""
        forward_plain = getattr(listener, "forward_plain", None)
        if not callable(forward_plain):
            return None
        caching = self.wrapped
        key_of, window_of, windows, value_of = self._key, self._window, self._windows, self._value
        long_values = self._long_values
        # the listener's plain path to what follows (to_stream() fused with its sink): no Change and no Record per
        # entry, for an entry whose value timestamp is its record context's (else forward_plain, which re-stamps)
        plain_fields = getattr(listener, "plain_fields", None)
        fields = plain_fields() if callable(plain_fields) else None

        store = self

        def forward_all(store_keys: list[bytes], flushed: list[tuple[bytes, CacheEntry]]) -> None:
            ctx = caching._context
            current = ctx.record_context
            fast_decode = store._key_fast_decode  # set by init(): read per flush
            # one context per flush, set to each entry's record context in turn (as the key-value cache layer's
            # _forward_flushed): nothing keeps a record context past the forward it was made for
            rc = _NEW(EntryContext)
            try:
                for store_key, (_cache_key, entry) in zip(store_keys, flushed):
                    rc.timestamp = entry.timestamp
                    rc.offset = entry.offset
                    rc.topic = entry.topic
                    rc.partition = entry.partition
                    rc.headers = headers = entry.headers
                    ctx.record_context = rc
                    raw = entry.value  # never None here: a flush with deletes takes the entry-by-entry path
                    if long_values and raw is not None and len(raw) == 16:
                        timestamp, plain = _TS_LONG.unpack(raw)
                    else:
                        vat = entry.typed
                        if vat is NO_TYPED:
                            vat = value_of(raw)
                        timestamp, plain = vat.timestamp, vat.value
                    n = len(store_key) - SUFFIX
                    if n < 0:
                        split_store_key(store_key)  # raises: says what is wrong
                    start = _START.unpack_from(store_key, n)[0]
                    window = windows.get(start)
                    raw_key = store_key[:n]
                    if fast_decode is not None:  # _key(), inlined
                        try:
                            key = fast_decode(raw_key)
                        except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                            key = key_of(raw_key)
                    else:
                        key = key_of(raw_key)
                    windowed = _NEW(Windowed)
                    _SET_KEY(windowed, key)
                    _SET_WINDOW(windowed, window_of(start) if window is None else window)
                    if fields is not None and timestamp == rc.timestamp:
                        fields(windowed, plain, timestamp, headers)
                    else:
                        forward_plain(windowed, plain, None, timestamp, headers)
            finally:
                ctx.record_context = current
        return forward_all

    def aggregate_window(self, key: Any, window_start: int, value: Any, timestamp: int,
                         initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any]) -> None:
        """Kafka's KStreamWindowAggregate update of one window: fetch(key, window_start), new aggregate =
        aggregator(key, value, old aggregate or initializer()) at max(timestamp, old timestamp), put() it (None
        deletes). Same reads, writes, metrics and cache entries as fetch then put, but with the record cache
        right below it serializes the key and builds the cache key once and reads the cache entry directly."""
        memo = self._updater
        if memo is None or memo[0] is not initializer or memo[1] is not aggregator:
            memo = self._updater = (initializer, aggregator, self.window_updater(initializer, aggregator))
        memo[2](key, window_start, value, timestamp)

    def window_updater(self, initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any],
                       counting: bool = False, tumbling: bool = False) -> Callable[[Any, int, Any, int], None]:
        """update(key, window_start, value, timestamp): aggregate_window() with these user functions and the
        store's layers bound once (the processor's direct path calls it per window). Valid until the store is
        closed or initialized again. counting: the functions are count()'s (0, then +1), which the cached update
        then does without calling them; tumbling: the caller's windows do not overlap, so the cache key of a key's
        last window is worth keeping (window_aggregate.cached_window_update)."""
        caching = self._caching
        if caching is None or self.sensors is not None:  # DEBUG/TRACE: through the measured fetch and put
            def uncached(key: Any, window_start: int, value: Any, timestamp: int) -> None:
                old = self.fetch(key, window_start)
                if old is None:
                    agg = aggregator(key, value, initializer())
                else:
                    agg = aggregator(key, value, old.value)
                    if old.timestamp > timestamp:
                        timestamp = old.timestamp
                self.put(key, None if agg is None else ValueAndTimestamp(agg, timestamp), window_start)
            return uncached
        return cached_window_update(self, initializer, aggregator, counting, tumbling)
