"""KGroupedStream / KGroupedTable: count, reduce, aggregate (Kafka's KGrouped*Impl naming and wiring)."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from pystreams.dsl import arity
from pystreams.dsl.options import Grouped, Materialized, Named, materialized_and_name
from pystreams.dsl.repartition import REPARTITION_TOPIC_SUFFIX, SINK_NAME, SOURCE_NAME, repartition_node
from pystreams.graph import AggregateNode, RepartitionNode, StoreSpec, TableAggregateNode

if TYPE_CHECKING:
    from pystreams.dsl.builder import StreamsBuilder
    from pystreams.dsl.ktable import KTable

K = TypeVar("K")
V = TypeVar("V")
VA = TypeVar("VA")

STREAM_REDUCE_NAME = "KSTREAM-REDUCE-"
STREAM_AGGREGATE_NAME = "KSTREAM-AGGREGATE-"
TABLE_AGGREGATE_NAME = "KTABLE-AGGREGATE-"
TABLE_REDUCE_NAME = "KTABLE-REDUCE-"


def _long_serde() -> Any:
    from pystreams.serdes import Serdes

    return Serdes.Long()


def _store_spec(builder: StreamsBuilder, materialized: Materialized[Any, Any], prefix: str,
                key_serde: Any, value_default: Any) -> StoreSpec:
    """The aggregation's store; serdes the user left unset fall back to the grouping's key serde
    and the operation's value serde (None: left for the compiler's defaults)."""
    store = builder.store_spec(materialized, prefix)
    if store.key_serde is None:
        store = replace(store, key_serde=key_serde)
    if store.value_serde is None and value_default is not None:
        store = replace(store, value_serde=value_default)
    return store


class KGroupedStream(Generic[K, V]):
    """A stream grouped by key, ready for count/reduce/aggregate."""

    def __init__(self, builder: StreamsBuilder, name: str, grouped: Grouped[K, V],
                 repartition_required: bool) -> None:
        self._builder = builder
        self.name = name
        self.key_serde = grouped.key_serde
        self.value_serde = grouped.value_serde
        self._repartition_name = grouped.name
        self.repartition_required = repartition_required
        self._repartition: RepartitionNode | None = None

    def count(self, materialized: Materialized[K, int] | Named | str | None = None,
              named: Named | str | None = None) -> KTable[K, int]:
        """Records per key, as a KTable[K, int] (store values are Long)."""
        mat, name = materialized_and_name(materialized, named)
        if mat is not None and mat.store_name is None:
            self._builder.new_store_name(STREAM_AGGREGATE_NAME)  # Kafka burns a name here
        default = Materialized(key_serde=self.key_serde, value_serde=_long_serde())
        store = self._store(mat or default, STREAM_AGGREGATE_NAME, value_default=_long_serde())
        processor = self._builder.named_or_generate(name, STREAM_AGGREGATE_NAME)
        return self._build(processor, AggregateNode(processor, (), op="count", store=store))

    def reduce(self, reducer: Callable[[V, V], V], materialized: Materialized[K, V] | Named | str | None = None,
               named: Named | str | None = None) -> KTable[K, V]:
        """Combine values per key with reducer(aggregate, value)."""
        arity.check(reducer, 2, "KGroupedStream.reduce", "reducer(aggregate, value) -> aggregate")
        mat, name = materialized_and_name(materialized, named)
        default = Materialized(key_serde=self.key_serde, value_serde=self.value_serde)
        store = self._store(mat or default, STREAM_REDUCE_NAME, value_default=self.value_serde)
        processor = self._builder.named_or_generate(name, STREAM_REDUCE_NAME)
        return self._build(processor, AggregateNode(processor, (), op="reduce", store=store, reducer=reducer))

    def aggregate(self, initializer: Callable[[], VA], aggregator: Callable[[K, V, VA], VA],
                  materialized: Materialized[K, VA] | Named | str | None = None,
                  named: Named | str | None = None) -> KTable[K, VA]:
        """Fold values per key: initializer() then aggregator(key, value, aggregate)."""
        arity.check(initializer, 0, "KGroupedStream.aggregate", "initializer() -> aggregate")
        arity.check(aggregator, 3, "KGroupedStream.aggregate", "aggregator(key, value, aggregate) -> aggregate")
        mat, name = materialized_and_name(materialized, named)
        store = self._store(mat or Materialized(key_serde=self.key_serde), STREAM_AGGREGATE_NAME, None)
        processor = self._builder.named_or_generate(name, STREAM_AGGREGATE_NAME)
        return self._build(processor, AggregateNode(processor, (), op="aggregate", store=store,
                                                    initializer=initializer, aggregator=aggregator))

    def windowed_by(self, windows: Any) -> Any:
        """Aggregate per window: TimeWindows/SlidingWindows -> TimeWindowedKStream, SessionWindows ->
        SessionWindowedKStream (pystreams.dsl.windowed)."""
        from pystreams.dsl import windowed

        return windowed.windowed_by(self, windows)

    def _store(self, materialized: Materialized[Any, Any], prefix: str, value_default: Any) -> StoreSpec:
        return _store_spec(self._builder, materialized, prefix, self.key_serde, value_default)

    def _build(self, processor: str, node: AggregateNode) -> KTable[K, Any]:
        from pystreams.dsl.ktable import KTable

        assert node.store is not None
        parent = self.name
        if self.repartition_required:
            prefix = self._repartition_name or node.store.name
            fresh = repartition_node(self._builder, self.name, prefix, self.key_serde, self.value_serde)
            if self._repartition is None or self._repartition_name is None:
                self._repartition = fresh
                self._builder.add_node(fresh)
            else:
                self._builder.add_again(self._repartition.name)
            parent = self._repartition.name
        self._builder.add_node(replace(node, parents=(parent,)))
        return KTable(self._builder, processor, node.store.key_serde, node.store.value_serde)


class KGroupedTable(Generic[K, V]):
    """A table re-grouped by group_by: aggregations apply adds and subtracts (Kafka's KGroupedTable)."""

    def __init__(self, builder: StreamsBuilder, name: str, grouped: Grouped[K, V]) -> None:
        self._builder = builder
        self.name = name
        self.key_serde = grouped.key_serde
        self.value_serde = grouped.value_serde
        self._repartition_name = grouped.name
        self._repartition: RepartitionNode | None = None

    def count(self, materialized: Materialized[K, int] | Named | str | None = None,
              named: Named | str | None = None) -> KTable[K, int]:
        """Rows per new key (adds on new rows, subtracts on replaced/deleted ones)."""
        mat, name = materialized_and_name(materialized, named)
        default = Materialized(key_serde=self.key_serde, value_serde=_long_serde())
        store = self._store(mat or default, _long_serde())
        return self._do(name, TABLE_AGGREGATE_NAME, TableAggregateNode("", (), op="count", store=store))

    def reduce(self, adder: Callable[[V, V], V], subtractor: Callable[[V, V], V],
               materialized: Materialized[K, V] | Named | str | None = None,
               named: Named | str | None = None) -> KTable[K, V]:
        """adder(aggregate, new_value) / subtractor(aggregate, old_value)."""
        arity.check(adder, 2, "KGroupedTable.reduce", "adder(aggregate, value) -> aggregate")
        arity.check(subtractor, 2, "KGroupedTable.reduce", "subtractor(aggregate, value) -> aggregate")
        mat, name = materialized_and_name(materialized, named)
        default = Materialized(key_serde=self.key_serde, value_serde=self.value_serde)
        store = self._store(mat or default, self.value_serde)
        return self._do(name, TABLE_REDUCE_NAME, TableAggregateNode("", (), op="reduce", store=store,
                                                                    adder=adder, subtractor=subtractor))

    def aggregate(self, initializer: Callable[[], VA], adder: Callable[[K, V, VA], VA],
                  subtractor: Callable[[K, V, VA], VA],
                  materialized: Materialized[K, VA] | Named | str | None = None,
                  named: Named | str | None = None) -> KTable[K, VA]:
        """initializer(), adder(key, value, agg), subtractor(key, old_value, agg)."""
        arity.check(initializer, 0, "KGroupedTable.aggregate", "initializer() -> aggregate")
        arity.check(adder, 3, "KGroupedTable.aggregate", "adder(key, value, aggregate) -> aggregate")
        arity.check(subtractor, 3, "KGroupedTable.aggregate", "subtractor(key, value, aggregate) -> aggregate")
        mat, name = materialized_and_name(materialized, named)
        store = self._store(mat or Materialized(key_serde=self.key_serde), None)
        return self._do(name, TABLE_AGGREGATE_NAME,
                        TableAggregateNode("", (), op="aggregate", store=store, initializer=initializer,
                                           adder=adder, subtractor=subtractor))

    def _store(self, materialized: Materialized[Any, Any], value_default: Any) -> StoreSpec:
        return _store_spec(self._builder, materialized, TABLE_AGGREGATE_NAME, self.key_serde,
                           value_default)

    def _do(self, named: str | None, prefix: str, node: TableAggregateNode) -> KTable[K, Any]:
        from pystreams.dsl.ktable import KTable

        assert node.store is not None
        sink = self._builder.suffixed_or_generate(named, "-sink", SINK_NAME)
        source = self._builder.suffixed_or_generate(named, "-source", SOURCE_NAME)
        processor = self._builder.named_or_generate(named, prefix)
        topic = (self._repartition_name or node.store.name) + REPARTITION_TOPIC_SUFFIX
        if self._repartition is None or self._repartition_name is None:
            self._repartition = RepartitionNode(source, (self.name,), topic=topic, sink_name=sink,
                                                filter_name=None, key_serde=self.key_serde,
                                                value_serde=self.value_serde, optimizable=False,
                                                grouped_table=True)
            self._builder.add_node(self._repartition)
        else:
            self._builder.add_again(self._repartition.name)
        self._builder.add_node(replace(node, name=processor, parents=(self._repartition.name,)))
        return KTable(self._builder, processor, node.store.key_serde, node.store.value_serde)
