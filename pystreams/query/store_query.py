"""One store partition runs one query (Kafka's StateStore#query with StoreQueryUtils' handlers): the position
bound first (NOT_UP_TO_BOUND), then the query kinds the store knows (else UNKNOWN_QUERY_TYPE); a store that
raises answers STORE_EXCEPTION.

Reads go through the metered store's own read paths, which on a thread other than the stream thread only look at
the record cache (CacheLayer.foreign_entry / foreign_items: no LRU move, fill, eviction or flush from the caller's
thread), as `streams.store(...)` views do. skip_cache reads the layer under the cache. Iterator results are read
out while the query runs and handed back as a KeyValueIterator over that list: a task migrating away later cannot
close the store under the caller's iteration."""
from __future__ import annotations

import time
from typing import Any

from pystreams.query.key_query import KeyQuery, TimestampedKeyQuery
from pystreams.query.position import Position, PositionBound, is_permitted
from pystreams.query.range_query import RangeQuery, TimestampedRangeQuery
from pystreams.query.result import QueryResult
from pystreams.query.result_order import ResultOrder
from pystreams.query.window_query import WindowKeyQuery, WindowRangeQuery
from pystreams.state.api import KeyValueIterator, ValueAndTimestamp


def query_store(store: Any, query: Any, bound: PositionBound, position: Position, partition: int,
                collect_execution_info: bool) -> QueryResult:
    """The QueryResult of query on one partition's store (position: the partition's, read before the store)."""
    if not is_permitted(position, bound, partition):
        return QueryResult.not_up_to_bound(position, bound, partition)
    started = time.perf_counter_ns()
    try:
        result = _run(store, query)
    except Exception as e:  # noqa: BLE001  # any store failure (e.g. closed by a migration): STORE_EXCEPTION
        from pystreams.query.failure_reason import FailureReason

        return QueryResult.for_failure(FailureReason.STORE_EXCEPTION,
                                       f"{type(store).__name__} {getattr(store, 'name', '')} raised "
                                       f"{type(e).__name__}: {e}")
    if result is None:
        return QueryResult.for_unknown_query_type(query, store)
    answer = QueryResult.for_result(result[0])
    answer.set_position(position.copy())
    if collect_execution_info:
        answer.add_execution_info(f"Handled in {type(store).__name__} with {type(query).__name__} "
                                  f"(skip_cache={getattr(query, 'skips_cache', False)}) in "
                                  f"{time.perf_counter_ns() - started}ns")
    return answer


def _run(store: Any, query: Any) -> tuple[Any] | None:
    """(result,) or None when this store kind does not know the query."""
    from pystreams.state.internals.metered import MeteredKeyValueStore
    from pystreams.state.internals.timestamped import TimestampedValues

    if isinstance(store, MeteredKeyValueStore):
        timestamped = isinstance(store, TimestampedValues)
        if type(query) is KeyQuery:
            return (_plain(_get(store, query.key, query.skips_cache)),)
        if type(query) is TimestampedKeyQuery and timestamped:
            return (_get(store, query.key, query.skips_cache),)
        if type(query) is RangeQuery or (type(query) is TimestampedRangeQuery and timestamped):
            descending = query.order is ResultOrder.DESCENDING
            read = store.reverse_range if descending else store.range
            it = read(query.lower, query.upper)
            try:
                pairs = [(k, v) for k, v in it]
            finally:
                close = getattr(it, "close", None)
                if callable(close):
                    close()
            if type(query) is RangeQuery:
                pairs = [(k, _plain(v)) for k, v in pairs]
            return (KeyValueIterator(iter(pairs)),)
        return None
    return _run_windowed(store, query)


def _run_windowed(store: Any, query: Any) -> tuple[Any] | None:
    from pystreams.state.session.layers import MeteredSessionStore
    from pystreams.state.window.metered import MeteredWindowStore

    if isinstance(store, MeteredWindowStore):
        if type(query) is WindowKeyQuery:
            pairs = [(start, _plain(v)) for start, v in store.fetch(query.key, query.time_from, query.time_to)]
            return (KeyValueIterator(iter(pairs)),)
        if type(query) is WindowRangeQuery and query.time_from is not None and query.time_to is not None:
            pairs = [(w, _plain(v)) for w, v in store.fetch_all(query.time_from, query.time_to)]
            return (KeyValueIterator(iter(pairs)),)
        return None  # Kafka: WindowStores only support WindowRangeQuery.withWindowStartRange
    if isinstance(store, MeteredSessionStore):
        if type(query) is WindowRangeQuery and query.key is not None:
            return (KeyValueIterator(iter(list(store.fetch(query.key)))),)
        return None  # Kafka: SessionStores only support WindowRangeQuery.withKey
    return None


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, ValueAndTimestamp) else value


def _get(store: Any, key: Any, skip_cache: bool) -> Any:
    """store.get(key), or with skip_cache the value in the layer under the record cache (flushed writes only;
    a store without a cache reads as usual)."""
    if skip_cache:
        from pystreams.state.internals.cache_layer import CacheLayer

        layer = store.wrapped
        while layer is not None:
            if isinstance(layer, CacheLayer):
                return store._value(layer.wrapped.get(store._raw_key(key)))
            layer = getattr(layer, "wrapped", None)
    return store.get(key)
