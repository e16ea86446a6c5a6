"""KStreamAggregate / KStreamReduce: KGroupedStream.count/reduce/aggregate into a timestamped store."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import ValueAndTimestamp, change
from pystreams.compiler.processors.stateful.forwarding import (
    TimestampedStore,
    TimestampedTupleForwarder,
    direct_path,
    log_skipped,
    record_dropped,
)
from pystreams.compiler.processors.stateful.suppliers import KStreamAggProcessorSupplier, KTableValueGetterSupplier
from pystreams.compiler.processors.stateful.value_getters import KTableMaterializedValueGetterSupplier
from pystreams.errors import PystreamsError
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.state.internals.metered import MeteredTimestampedKeyValueStore

Initializer = Callable[[], Any]
Aggregator = Callable[[Any, Any, Any], Any]
Reducer = Callable[[Any, Any], Any]


def count_initializer() -> int:
    """count() starts at 0 (Kafka's countInitializer, 0L)."""
    return 0


def count_aggregator(key: Any, value: Any, aggregate: int) -> int:
    """count() adds one per record (Kafka's countAggregator)."""
    return aggregate + 1


class _AggregateBase(KStreamAggProcessorSupplier):
    def __init__(self, store_name: str) -> None:
        if not store_name:
            raise ValueError("store_name can't be null")
        self.store_name = store_name
        self.send_old_values = False

    def enable_sending_old_values(self) -> None:
        self.send_old_values = True

    def view(self) -> KTableValueGetterSupplier:
        return KTableMaterializedValueGetterSupplier(self.store_name)


class KStreamAggregate(_AggregateBase):
    """Supplier of KSTREAM-AGGREGATE: `aggregator(key, value, aggregate)` from `initializer()`; count() is
    KStreamAggregate(store, count_initializer, count_aggregator). Records with a None key or value are
    skipped (logged, dropped-records metric); the result timestamp is max(record, previous aggregate)."""

    def __init__(self, store_name: str, initializer: Initializer, aggregator: Aggregator) -> None:
        super().__init__(store_name)
        self.initializer = initializer
        self.aggregator = aggregator

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _StreamAggProcessor(self.store_name, self.send_old_values, self.initializer, self.aggregator)

    def __repr__(self) -> str:
        return f"KStreamAggregate(store_name={self.store_name!r}, send_old_values={self.send_old_values})"


class KStreamReduce(_AggregateBase):
    """Supplier of KSTREAM-REDUCE: the first value is the aggregate, then `reducer(aggregate, value)`."""

    def __init__(self, store_name: str, reducer: Reducer) -> None:
        super().__init__(store_name)
        self.reducer = reducer

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _StreamAggProcessor(self.store_name, self.send_old_values, None, self._aggregate)

    def _aggregate(self, key: Any, value: Any, aggregate: Any) -> Any:
        return value if aggregate is None else self.reducer(aggregate, value)

    def __repr__(self) -> str:
        return f"KStreamReduce(store_name={self.store_name!r}, send_old_values={self.send_old_values})"


class _StreamAggProcessor(Processor[Any, Any, Any, Any]):
    """Shared body of Kafka's KStreamAggregateProcessor and KStreamReduceProcessor."""

    def __init__(self, store_name: str, send_old_values: bool, initializer: Initializer | None,
                 aggregator: Aggregator) -> None:
        self._store_name = store_name
        self._send_old_values = send_old_values
        self._initializer = initializer
        self._aggregator = aggregator
        self.dropped_records = 0
        self._fused: Callable[..., None] | None = None

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context
        self._store = TimestampedStore(context, self._store_name)
        self._forwarder = TimestampedTupleForwarder(self._store.store, context, self._send_old_values)
        # without the fused update: the typed store's get and put; with caching on the store's cache forwards on
        # flush, so no Change/Record is built per record
        self._get = self._store.store.get
        self._put = self._store.store.put
        self._forward_now = not self._forwarder.caching_enabled
        # with caching the cache forwards on flush, so nothing per record needs the old and new aggregates:
        # the store's fused get-aggregate-put does the update (MeteredTimestampedKeyValueStore.updater)
        store = self._store.store
        if isinstance(store, MeteredTimestampedKeyValueStore) and not self._forward_now:
            counting = self._initializer is count_initializer and self._aggregator is count_aggregator
            self._fused = store.updater(self._initializer, self._aggregator, counting)
        else:
            self._fused = None

    def direct_process(self, children: Any, by_name: Any, on_error: Callable[[Exception, Any], None]
                       ) -> Callable[[Any], None]:
        """The engine's direct path (one frame less per record); forwards still go through context.forward,
        which sets the record context for the aggregate's own timestamp. With the fused store update the
        whole per-record step is one function here plus the store's update function (updater())."""
        slow = direct_path(self.process, on_error)
        skip, proc = self._skip, self

        def run(record: Any) -> None:
            fused = proc._fused  # set by init(), which runs after the engine asked for this path
            if fused is None:
                slow(record)
                return
            try:
                key = record.key
                value = record.value
                if key is None or value is None:
                    skip()
                else:
                    fused(key, value, record.timestamp)
            except PystreamsError:
                raise
            except Exception as e:
                on_error(e, record)  # the engine's handler makes a Record of it when needed

        def run_fields(key: Any, value: Any, timestamp: int, headers: Any) -> None:
            """run() of the record's fields: what the record queue's drain and a fused chain call instead of building
            a Record (chain.fields_of); a Record is made only for the plain path or an error handler."""
            fused = proc._fused
            if fused is None:
                slow(Record(key, value, timestamp, headers))
                return
            try:
                if key is None or value is None:
                    skip()
                else:
                    fused(key, value, timestamp)
            except PystreamsError:
                raise
            except Exception as e:
                on_error(e, Record(key, value, timestamp, headers))
        run._pystreams_fields = run_fields  # type: ignore[attr-defined]
        return run

    def _skip(self) -> None:
        log_skipped(self._context, "null key or value")
        self.dropped_records += 1
        record_dropped(self._context)

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        value = record.value
        if key is None or value is None:
            self._skip()
            return
        if self._fused is not None:
            self._fused(key, value, record.timestamp)
            return
        old = self._get(key)
        timestamp = record.timestamp
        if old is None:
            old_agg = self._initializer() if self._initializer is not None else None
            # aggregate(): the initial aggregate is also what Kafka forwards as the old value
        else:
            old_agg = old.value
            if old.timestamp > timestamp:
                timestamp = old.timestamp
        new_agg = self._aggregator(key, value, old_agg)
        self._put(key, None if new_agg is None else ValueAndTimestamp(new_agg, timestamp))
        if self._forward_now:
            self._forwarder.maybe_forward(record.with_value(
                change(new_agg, old_agg if self._send_old_values else None)).with_timestamp(timestamp))
