"""Logical graph nodes: one frozen dataclass per DSL operation family (Kafka's graph/*Node classes).

A node carries its final name (assigned by the DSL with Kafka's counter), its parents' names, and the
user's functions and options; it holds no runtime objects. The compiler turns each node into
processors, sinks, sources and stores of a physical Topology.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class GraphNode:
    """Base node: `name` is the processor name it compiles to; `parents` are parent node names."""

    name: str
    parents: tuple[str, ...] = ()
    key_changing: bool = False
    value_changing: bool = False

    @property
    def kind(self) -> str:
        """Short family name, for messages and renderers."""
        return type(self).__name__


@dataclass(frozen=True, eq=False)
class StoreSpec:
    """A key-value store the compiler must create (from Materialized / a generated name)."""

    name: str
    key_serde: Any = None
    value_serde: Any = None
    store_type: str | None = None          # "rocks_db" | "in_memory" | None (= default.dsl.store)
    logging_enabled: bool = True
    log_config: tuple[tuple[str, str], ...] = ()
    caching_enabled: bool = True
    supplier: Any = None                    # a user KeyValueBytesStoreSupplier, if given
    queryable: bool = False                 # the user named it (Materialized.as_ / supplier)


@dataclass(frozen=True, eq=False)
class StreamSourceNode(GraphNode):
    """builder.stream(): a source on topics or a pattern."""

    topics: tuple[str, ...] = ()
    pattern: str | None = None
    key_serde: Any = None
    value_serde: Any = None
    timestamp_extractor: Any = None
    offset_reset: str | None = None


@dataclass(frozen=True, eq=False)
class TableSourceNode(GraphNode):
    """builder.table()/global_table(): source `source_name` + KTABLE-SOURCE processor `name`."""

    source_name: str = ""
    topic: str = ""
    key_serde: Any = None
    value_serde: Any = None
    timestamp_extractor: Any = None
    offset_reset: str | None = None
    store: StoreSpec | None = None
    is_global: bool = False


@dataclass(frozen=True, eq=False)
class ProcessorGraphNode(GraphNode):
    """A stateless step (filter, map, ..., merge, branch, to_stream) or a user process()."""

    op: str = ""
    fn: Any = None
    options: tuple[tuple[str, Any], ...] = ()
    stores: tuple[str, ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        """One of the op's extra options."""
        return dict(self.options).get(key, default)


@dataclass(frozen=True, eq=False)
class SinkGraphNode(GraphNode):
    """to(): a sink on a fixed topic or a topic-name extractor."""

    topic: str | None = None
    extractor: Any = None
    key_serde: Any = None
    value_serde: Any = None
    partitioner: Any = None


@dataclass(frozen=True, eq=False)
class RepartitionNode(GraphNode):
    """A repartition topic: [filter ->] sink -> topic -> source. `name` is the source node's name."""

    topic: str = ""
    sink_name: str = ""
    filter_name: str | None = None          # None for KTable group_by (no filter processor)
    key_serde: Any = None
    value_serde: Any = None
    partitioner: Any = None
    partitions: int | None = None
    optimizable: bool = True                # False for user repartition()
    grouped_table: bool = False
    drop_null_keys: bool = False            # filter k != null (ahead of joins), else pass-all


@dataclass(frozen=True, eq=False)
class AggregateNode(GraphNode):
    """KGroupedStream count/reduce/aggregate: a stateful processor owning `store`."""

    op: str = ""
    store: StoreSpec | None = None
    initializer: Any = None
    aggregator: Any = None
    reducer: Any = None


@dataclass(frozen=True, eq=False)
class TableOpNode(GraphNode):
    """A KTable operation: filter, filter_not, map_values, select (group_by), to_table."""

    op: str = ""
    fn: Any = None
    store: StoreSpec | None = None          # materialized result, if any


@dataclass(frozen=True, eq=False)
class TableAggregateNode(GraphNode):
    """KGroupedTable count/reduce/aggregate (adder + subtractor)."""

    op: str = ""
    store: StoreSpec | None = None
    initializer: Any = None
    adder: Any = None
    subtractor: Any = None


@dataclass(frozen=True, eq=False)
class StateStoreNode(GraphNode):
    """builder.add_state_store(): a store for process() to use."""

    builder: Any = None


@dataclass(frozen=True, eq=False)
class GlobalStoreNode(GraphNode):
    """builder.add_global_store(): a global store fed by a user processor."""

    builder: Any = None
    source_name: str = ""
    topic: str = ""
    supplier: Any = None
    key_serde: Any = None
    value_serde: Any = None
    timestamp_extractor: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
