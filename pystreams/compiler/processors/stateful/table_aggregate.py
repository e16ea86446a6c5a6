"""KTableAggregate / KTableReduce: KGroupedTable.count/reduce/aggregate with adder and subtractor."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import change, value_or_none
from pystreams.compiler.processors.stateful.errors import StatefulProcessingError
from pystreams.compiler.processors.stateful.forwarding import TimestampedStore, TimestampedTupleForwarder
from pystreams.compiler.processors.stateful.suppliers import KTableProcessorSupplier, KTableValueGetterSupplier
from pystreams.compiler.processors.stateful.value_getters import KTableMaterializedValueGetterSupplier
from pystreams.processor import Processor, ProcessorContext, Record

Initializer = Callable[[], Any]
Aggregator = Callable[[Any, Any, Any], Any]
Reducer = Callable[[Any, Any], Any]


def count_subtractor(key: Any, value: Any, aggregate: int) -> int:
    """KGroupedTable.count() removes one per retracted value (Kafka's countSubtractor)."""
    return aggregate - 1


class _TableAggregateBase(KTableProcessorSupplier):
    def __init__(self, store_name: str) -> None:
        if not store_name:
            raise ValueError("store_name can't be null")
        self.store_name = store_name
        self.send_old_values = False

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        self.send_old_values = True
        return True

    def view(self) -> KTableValueGetterSupplier:
        return KTableMaterializedValueGetterSupplier(self.store_name)


class KTableAggregate(_TableAggregateBase):
    """Supplier of KTABLE-AGGREGATE over the re-keyed Changes of a table group_by.

    Per input Change: if it carries an old value and an aggregate exists, `subtractor(key, old, agg)`;
    then if it carries a new value, `adder(key, new, agg or initializer())`; one Change per input
    (Kafka >= 3.5). count() is KTableAggregate(store, count_initializer, count_aggregator, count_subtractor).
    A None key is an error (the repartition topic never carries one).
    """

    def __init__(self, store_name: str, initializer: Initializer, adder: Aggregator, subtractor: Aggregator) -> None:
        super().__init__(store_name)
        self.initializer = initializer
        self.adder = adder
        self.subtractor = subtractor

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _TableAggProcessor(self.store_name, self.send_old_values, "aggregate", self._remove, self._add)

    def _remove(self, key: Any, old_value: Any, agg: Any) -> Any:
        return self.subtractor(key, old_value, agg)

    def _add(self, key: Any, new_value: Any, agg: Any) -> Any:
        return self.adder(key, new_value, self.initializer() if agg is None else agg)

    def __repr__(self) -> str:
        return f"KTableAggregate(store_name={self.store_name!r}, send_old_values={self.send_old_values})"


class KTableReduce(_TableAggregateBase):
    """Supplier of KTABLE-REDUCE: `adder(agg, new)` / `subtractor(agg, old)`; the first value is the aggregate."""

    def __init__(self, store_name: str, adder: Reducer, subtractor: Reducer) -> None:
        super().__init__(store_name)
        self.adder = adder
        self.subtractor = subtractor

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _TableAggProcessor(self.store_name, self.send_old_values, "reduce", self._remove, self._add)

    def _remove(self, key: Any, old_value: Any, agg: Any) -> Any:
        return self.subtractor(agg, old_value)

    def _add(self, key: Any, new_value: Any, agg: Any) -> Any:
        return new_value if agg is None else self.adder(agg, new_value)

    def __repr__(self) -> str:
        return f"KTableReduce(store_name={self.store_name!r}, send_old_values={self.send_old_values})"


class _TableAggProcessor(Processor[Any, Any, Any, Any]):
    """Shared body of Kafka's KTableAggregateProcessor and KTableReduceProcessor."""

    def __init__(self, store_name: str, send_old_values: bool, operator: str,
                 remove: Aggregator, add: Aggregator) -> None:
        self._store_name = store_name
        self._send_old_values = send_old_values
        self._operator = operator
        self._remove = remove
        self._add = add

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context
        self._store = TimestampedStore(context, self._store_name)
        self._forwarder = TimestampedTupleForwarder(self._store.store, context, self._send_old_values)

    def process(self, record: Record[Any, Any]) -> None:
        key, chg = record.key, record.value
        if key is None:
            raise StatefulProcessingError(
                f"Record key for KTable {self._operator} operator with state {self._store_name} should not be null.")
        old = self._store.get(key)
        old_agg = value_or_none(old)
        timestamp = record.timestamp
        agg = old_agg
        if chg.old_value is not None and old_agg is not None:
            agg = self._remove(key, chg.old_value, old_agg)
            timestamp = max(record.timestamp, old.timestamp)
        if chg.new_value is not None:
            # Kafka: with an existing aggregate the timestamp includes its timestamp, even after a removal
            if old is not None and (agg is not None or self._operator == "aggregate"):
                timestamp = max(record.timestamp, old.timestamp)
            agg = self._add(key, chg.new_value, agg)
        self._store.put(key, agg, timestamp)
        self._forwarder.maybe_forward(
            record.with_value(change(agg, old_agg if self._send_old_values else None)).with_timestamp(timestamp))
