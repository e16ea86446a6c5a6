"""Metered layer (Kafka's MeteredKeyValueStore): the typed face of a store — serdes on top of bytes, metrics.

Serdes are called with the store's changelog topic name, as Kafka's StateSerdes do, so topic-aware serdes
(schema registries) see the same topic in Python and Java.

Metrics: operation totals always (StoreMetrics); Kafka's stream-state-metrics rates and latencies and the record
cache's hit-ratio only at metrics.recording.level DEBUG/TRACE, where init installs measured operations on the
instance (store_metrics.py). At INFO the operations are the plain methods below and the aggregate fast path stays.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterable, Iterator

from pystreams.errors import StateStoreError
from pystreams.processor.record import Record
from pystreams.state.api import (Change, KeyValueIterator, KeyValueStore, TimestampedKeyValueStore,
                                 ValueAndTimestamp)
from pystreams.state.internals.bytes_store import check_open
from pystreams.state.internals.caching import CachingKeyValueStore
from pystreams.state.internals.kv_aggregate import cached_update
from pystreams.state.internals.store_metrics import KV_ITERATORS, KV_METRIC_OPERATIONS, KV_OPERATIONS, SensedStore
from pystreams.state.internals.timestamped import TimestampedValues, timestamped_restore
from pystreams.state.internals.typed_layer import TypedLayer


class StoreMetrics:
    """Operation counters of one store (Kafka's put/get/delete/range/flush/restore metrics, as totals)."""

    __slots__ = ("put", "get", "put_if_absent", "put_all", "delete", "range", "prefix_scan", "flush",
                 "restore", "all")

    def __init__(self) -> None:
        self.put = self.get = self.put_if_absent = self.put_all = self.delete = 0
        self.range = self.prefix_scan = self.flush = self.restore = self.all = 0

    def as_dict(self) -> dict[str, int]:
        return {f"{slot.replace('_', '-')}-total": getattr(self, slot) for slot in self.__slots__}


class MeteredKeyValueStore(SensedStore, TypedLayer, KeyValueStore[Any, Any]):
    """Typed KeyValueStore over a bytes store stack; what processors get from get_state_store()."""

    _caching_type = CachingKeyValueStore

    def __init__(self, wrapped: Any, metrics_scope: str, key_serde: Any, value_serde: Any) -> None:
        super().__init__(wrapped, metrics_scope, key_serde, value_serde)
        self.metrics = StoreMetrics()

    # ---- StateStore
    def init(self, context: Any, root: Any) -> None:
        """Open the stack; at DEBUG/TRACE also Kafka's store sensors (restore: this init's latency, as Kafka's
        MeteredKeyValueStore times its init) and the measured operations."""
        sensors = self._init_sensed(partial(super().init, context, root), context, KV_METRIC_OPERATIONS,
                                    isinstance(self.wrapped, self._caching_type))
        if sensors is not None:
            self._install_sensed(sensors, KeyValueIterator, {"get": self._sensed_get, "put": self._sensed_put,
                                                             "put_if_absent": self._sensed_put_if_absent},
                                 KV_OPERATIONS, KV_ITERATORS)

    def close(self) -> None:
        self._close_sensed()
        super().close()

    def _sensed_get(self, key: Any) -> Any:
        """get() counting the record cache's hits and misses (Kafka's NamedCache hit-ratio)."""
        caching, sensors = self._caching, self.sensors
        if caching is not None and sensors is not None and self._open:
            named = caching._named
            if named is not None:
                sensors.record_cache_read(self._raw_key(key) in named.entries)
        return type(self).get(self, key)

    def _record_e2e(self) -> None:
        """TRACE: the store's record-e2e-latency after a put (Kafka's maybeRecordE2ELatency)."""
        sensors = self.sensors
        if sensors is not None:
            sensors.e2e_after_put(self._store_context)

    def _sensed_put(self, key: Any, value: Any) -> None:
        type(self).put(self, key, value)
        self._record_e2e()

    def _sensed_put_if_absent(self, key: Any, value: Any) -> Any:
        old = type(self).put_if_absent(self, key, value)
        self._record_e2e()
        return old

    def _restore_callback(self) -> Callable[[list[Any]], None]:
        inner = self.wrapped.innermost() if hasattr(self.wrapped, "innermost") else self.wrapped
        restore = inner.restore_batch

        def counted(records: list[Any]) -> None:
            self.metrics.restore += len(records)
            restore(records)
        return counted

    def flush(self) -> None:
        self.metrics.flush += 1
        self.wrapped.flush()

    def _not_open(self) -> StateStoreError:
        check_open(self)  # raises: says what to do
        return StateStoreError(f"State store {self.name} is closed")

    # ---- serdes
    def _raw_value(self, value: Any) -> bytes | None:
        return None if value is None else self._vs.serialize(self._topic, value)

    def _pairs(self, pairs: Iterator[tuple[bytes, bytes]]) -> KeyValueIterator:
        key, value = self._key, self._value
        return KeyValueIterator((key(k), value(v)) for k, v in pairs)

    # ---- KeyValueStore
    def get(self, key: Any) -> Any:
        self.metrics.get += 1
        caching = self._caching
        if caching is None:
            return self._value(self.wrapped.get(self._raw_key(key)))
        entry = caching.cached_entry(self._raw_key(key))
        return None if entry is None else self._cached_value(entry)

    def put(self, key: Any, value: Any) -> None:
        self.metrics.put += 1
        raw_key = self._raw_key(key)
        raw = self._raw_value(value)
        caching = self._caching
        if caching is None:
            self.wrapped.put(raw_key, raw)
        else:
            caching.put_typed(raw_key, raw, self._for_cache(value, raw))

    def put_if_absent(self, key: Any, value: Any) -> Any:
        self.metrics.put_if_absent += 1
        return self._value(self.wrapped.put_if_absent(self._raw_key(key), self._raw_value(value)))

    def put_all(self, entries: Iterable[tuple[Any, Any]]) -> None:
        self.metrics.put_all += 1
        self.wrapped.put_all([(self._raw_key(k), self._raw_value(v)) for k, v in entries])

    def delete(self, key: Any) -> Any:
        self.metrics.delete += 1
        return self._value(self.wrapped.delete(self._raw_key(key)))

    def _bound(self, key: Any) -> bytes | None:
        return None if key is None else self._raw_key(key)

    def range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        self.metrics.range += 1
        return self._pairs(self.wrapped.range(self._bound(from_key), self._bound(to_key)))

    def reverse_range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        self.metrics.range += 1
        return self._pairs(self.wrapped.reverse_range(self._bound(from_key), self._bound(to_key)))

    def all(self) -> KeyValueIterator:
        self.metrics.all += 1
        check_open(self)
        return self._pairs(self.wrapped.all())

    def reverse_all(self) -> KeyValueIterator:
        self.metrics.all += 1
        check_open(self)
        return self._pairs(self.wrapped.reverse_all())

    def prefix_scan(self, prefix: Any, prefix_serializer: Any) -> KeyValueIterator:
        self.metrics.prefix_scan += 1
        check_open(self)
        raw = prefix_serializer.serialize(self._topic, prefix)
        if raw is None:
            raise StateStoreError(f"State store {self.name}: prefix {prefix!r} serialized to None")
        return self._pairs(self.wrapped.prefix_scan(raw))

    def approximate_num_entries(self) -> int:
        check_open(self)
        return int(self.wrapped.approximate_num_entries())

    # ---- caching
    def set_flush_listener(self, listener: Callable[[Record[Any, Change[Any]]], None], send_old_values: bool) -> bool:
        """Get deduplicated updates as Record(key, Change(new, old)) on every cache flush; False: no cache."""
        setter = getattr(self.wrapped, "set_flush_listener", None)
        if setter is None:
            return False
        self._ks_deserializer()  # refuses a listener before init()
        typed_key, value = self._key, self._value

        def typed(key: bytes, new: bytes | None, old: bytes | None, timestamp: int, headers: Any) -> None:
            listener(Record(typed_key(key), Change(value(new), value(old)), timestamp, headers))
        return bool(setter(typed, send_old_values))

    def _ks_deserializer(self) -> Callable[[str, bytes], Any]:
        if self._ks is None:
            raise StateStoreError(f"State store {self.name}: set_flush_listener() before init()")
        return self._ks.deserialize  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class MeteredTimestampedKeyValueStore(TimestampedValues, MeteredKeyValueStore,  # type: ignore[misc]
                                       TimestampedKeyValueStore[Any, Any]):
    """Values are ValueAndTimestamp, stored as 8-byte big-endian timestamp + serialized value (Kafka's format)."""

    def _restore_callback(self) -> Callable[[list[Any]], None]:
        return timestamped_restore(super()._restore_callback())

    _incarnation: Any = None  # a new object per init(), None when closed: what updater() functions belong to

    def init(self, context: Any, root: Any) -> None:
        self._incarnation = None
        super().init(context, root)
        self._incarnation = object()

    def close(self) -> None:
        self._incarnation = None
        super().close()

    def _cached_value(self, entry: Any) -> Any:
        typed = entry.typed
        if type(typed) is tuple:  # (value, timestamp) as the aggregate updater keeps it (kv_aggregate)
            return ValueAndTimestamp(typed[0], typed[1])
        return super()._cached_value(entry)

    def set_flush_listener(self, listener: Callable[[Record[Any, Change[Any]]], None], send_old_values: bool) -> bool:
        """As MeteredKeyValueStore's; a listener with forward_plain(key, new value, old value, timestamp, headers)
        (the DSL's TimestampedCacheFlushListener) gets the parts of the flushed ValueAndTimestamps instead: the
        values and the new value's timestamp (the entry's for a delete), with no ValueAndTimestamp, Change or
        Record made for it per flushed entry."""
        plain = getattr(listener, "forward_plain", None)
        if plain is None:
            return super().set_flush_listener(listener, send_old_values)
        setter = getattr(self.wrapped, "set_flush_listener", None)
        if setter is None:
            return False
        self._ks_deserializer()  # refuses a listener before init()
        typed_key, parts = self._key, self._value_parts

        def forward(key: bytes, new: bytes | None, old: bytes | None, timestamp: int, headers: Any) -> None:
            if new is not None:
                new, timestamp = parts(new)
            plain(typed_key(key), new, None if old is None else parts(old)[0], timestamp, headers)
        return bool(setter(forward, send_old_values))

    def updater(self, initializer: Callable[[], Any] | None, aggregator: Callable[[Any, Any, Any], Any],
                counting: bool = False) -> Callable[[Any, Any, int], None]:
        """update(key, value, timestamp): Kafka's KStreamAggregate update of one key, for an initialized store:
        get(key), new aggregate = aggregator(key, value, old aggregate, or initializer() / None without one) at
        max(timestamp, old timestamp), put() it (None deletes). The same reads, writes, metrics and cache entries
        as get then put; with the record cache right below, one function with the cache entry read and rewritten
        in place (kv_aggregate.cached_update). counting: the functions are count()'s. A function made before the
        store was closed raises as get() does; one made before the store was initialized again makes a new one
        per call (correct, but slow: ask again after init)."""
        if self._caching is not None and self.sensors is None:  # DEBUG: the measured get and put below
            return cached_update(self, initializer, aggregator, counting)
        get, put = self.get, self.put

        def update(key: Any, value: Any, timestamp: int) -> None:
            old = get(key)
            if old is None:
                agg = aggregator(key, value, None if initializer is None else initializer())
            else:
                agg = aggregator(key, value, old.value)
                if old.timestamp > timestamp:
                    timestamp = old.timestamp
            put(key, None if agg is None else ValueAndTimestamp(agg, timestamp))
        return update
