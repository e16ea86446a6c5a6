"""StreamsBuilder: the entry point of the DSL; it names every node with Kafka's shared counter.

Names follow InternalStreamsBuilder: newProcessorName(prefix) = prefix + %010d and
newStoreName(prefix) = prefix + "STATE-STORE-" + %010d, one counter for both, burned in exactly the
places Kafka burns it, so generated names equal the Java topology's.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pystreams.dsl.options import Consumed, Materialized
from pystreams.errors import TopologyError
from pystreams.graph import (GlobalStoreNode, GraphNode, LogicalGraph, StateStoreNode, StoreSpec,
                             StreamSourceNode, TableSourceNode)

if TYPE_CHECKING:
    from pystreams.dsl.kstream import KStream
    from pystreams.dsl.ktable import GlobalKTable, KTable

K = TypeVar("K")
V = TypeVar("V")

SOURCE_NAME = "KSTREAM-SOURCE-"
TABLE_SOURCE_NAME = "KTABLE-SOURCE-"
STATE_STORE_NAME = "STATE-STORE-"
TABLE_SOURCE_SUFFIX = "-source"

# The compiler registers itself here (pystreams.compiler imports pystreams.dsl, never the reverse).
_COMPILER: list[Callable[[LogicalGraph, dict[str, Any] | None], Any]] = []


def register_compiler(compile_fn: Callable[[LogicalGraph, dict[str, Any] | None], Any]) -> None:
    """Called by pystreams.compiler on import: the function StreamsBuilder.build() uses."""
    _COMPILER[:] = [compile_fn]


class StreamsBuilder:
    """Builds a topology with the DSL: stream(), table(), global_table(), add_state_store(), build()."""

    def __init__(self) -> None:
        self._index = 0
        self._nodes: list[GraphNode] = []
        self._names: dict[str, int] = {}
        self._priorities: list[int] = []
        self._next_priority = 0

    # ------------------------------------------------------------------ naming
    def new_processor_name(self, prefix: str) -> str:
        """prefix + the next index, zero-padded to 10 digits (Kafka's newProcessorName)."""
        name = f"{prefix}{self._index:010d}"
        self._index += 1
        return name

    def new_store_name(self, prefix: str) -> str:
        """prefix + "STATE-STORE-" + the next index (Kafka's newStoreName)."""
        name = f"{prefix}{STATE_STORE_NAME}{self._index:010d}"
        self._index += 1
        return name

    def named_or_generate(self, user_name: str | None, prefix: str) -> str:
        """Kafka's orElseGenerateWithPrefix: burns an index even when the user named the node."""
        generated = self.new_processor_name(prefix)
        return user_name if user_name is not None else generated

    def suffixed_or_generate(self, user_name: str | None, suffix: str, prefix: str) -> str:
        """Kafka's suffixWithOrElseGet: user name + suffix, burning an index either way."""
        generated = self.new_processor_name(prefix)
        return user_name + suffix if user_name is not None else generated

    # ------------------------------------------------------------------ graph
    def add_node(self, node: GraphNode) -> GraphNode:
        """Append a node (parents must exist); duplicate names fail here, naming the operator."""
        if node.name in self._names:
            raise TopologyError(f"Processor {node.name} is already added: two operators share the name "
                                f"{node.name!r}. Fix: give one of them another Named/Grouped/Materialized "
                                "name.")
        for parent in node.parents:
            if parent not in self._names:
                raise TopologyError(f"Operator {node.name} refers to unknown parent {parent}: streams "
                                    "and tables from another StreamsBuilder cannot be combined.")
        self._names[node.name] = len(self._nodes)
        self._nodes.append(node)
        self._priorities.append(self._bump(max(1, len(set(node.parents)) if node.parents else 1)))
        return node

    def _bump(self, times: int = 1) -> int:
        """Kafka's buildPriorityIndex: one increment per addGraphNode call (per parent)."""
        self._next_priority += times
        return self._next_priority - 1

    def add_again(self, name: str) -> None:
        """Kafka re-adds a reused node (a named grouping's repartition): it gets a later build priority."""
        self._priorities[self._names[name]] = self._bump()

    def replace_node(self, node: GraphNode) -> None:
        """Swap in an updated copy of a node (split() adds branches to its splitter this way)."""
        self._nodes[self._names[node.name]] = node

    def node(self, name: str) -> GraphNode:
        """The current version of the node called `name`."""
        return self._nodes[self._names[name]]

    def graph(self) -> LogicalGraph:
        """An immutable snapshot of everything built so far."""
        return LogicalGraph(tuple(self._nodes), tuple(self._priorities))

    # ------------------------------------------------------------------ sources
    @overload
    def stream(self, topics: str | list[str] | tuple[str, ...] | re.Pattern[str]) -> KStream[Any, Any]: ...

    @overload
    def stream(self, topics: str | list[str] | tuple[str, ...] | re.Pattern[str],
               consumed: Consumed[K, V]) -> KStream[K, V]: ...

    def stream(self, topics: str | list[str] | tuple[str, ...] | re.Pattern[str],
               consumed: Consumed[Any, Any] | None = None) -> KStream[Any, Any]:
        """A KStream from one topic, a list of topics, or a compiled regex pattern."""
        from pystreams.dsl.kstream import KStream

        consumed = consumed or Consumed()
        pattern: str | None = None
        topic_tuple: tuple[str, ...] = ()
        if isinstance(topics, re.Pattern):
            pattern = topics.pattern
        elif isinstance(topics, str):
            topic_tuple = (topics,)
        else:
            topic_tuple = tuple(topics)
            if not topic_tuple:
                raise TopologyError("stream(): give at least one topic (or a re.compile(...) pattern).")
        for topic in topic_tuple:
            if not isinstance(topic, str) or not topic:
                raise TopologyError(f"stream(): topic names must be non-empty strings, got {topic!r}.")
        name = self.named_or_generate(consumed.name, SOURCE_NAME)
        node = StreamSourceNode(name, (), topics=topic_tuple, pattern=pattern,
                                key_serde=consumed.key_serde, value_serde=consumed.value_serde,
                                timestamp_extractor=consumed.timestamp_extractor,
                                offset_reset=consumed.offset_reset)
        self.add_node(node)
        return KStream(self, name, consumed.key_serde, consumed.value_serde, repartition_required=False)

    @overload
    def table(self, topic: str) -> KTable[Any, Any]: ...

    @overload
    def table(self, topic: str, consumed: Consumed[K, V],
              materialized: Materialized[K, V] | None = None) -> KTable[K, V]: ...

    @overload
    def table(self, topic: str, *, materialized: Materialized[K, V]) -> KTable[K, V]: ...

    def table(self, topic: str, consumed: Consumed[Any, Any] | None = None,
              materialized: Materialized[Any, Any] | None = None) -> KTable[Any, Any]:
        """A KTable (changelog view) of a topic; materialized only when named or needed downstream."""
        from pystreams.dsl.ktable import KTable

        node = self._table_source(topic, consumed, materialized, is_global=False)
        return KTable(self, node.name, node.key_serde, node.value_serde)

    def global_table(self, topic: str, consumed: Consumed[K, V] | None = None,
                     materialized: Materialized[K, V] | None = None) -> GlobalKTable[K, V]:
        """A GlobalKTable: every instance reads all partitions of `topic` into a local store."""
        from pystreams.dsl.ktable import GlobalKTable

        node = self._table_source(topic, consumed, materialized, is_global=True)
        assert node.store is not None
        return GlobalKTable(self, node.name, node.store.name, node.key_serde, node.value_serde)

    def _table_source(self, topic: str, consumed: Consumed[Any, Any] | None,
                      materialized: Materialized[Any, Any] | None, is_global: bool) -> TableSourceNode:
        if not isinstance(topic, str) or not topic:
            raise TopologyError(f"table(): the topic must be a non-empty string, got {topic!r}.")
        if consumed is None and materialized is not None:
            consumed = Consumed(materialized.key_serde, materialized.value_serde)
        consumed = consumed or Consumed()
        # Kafka: the table's store always uses the Consumed serdes
        materialized = replace(materialized or Materialized(), key_serde=consumed.key_serde,
                               value_serde=consumed.value_serde)
        store = self.store_spec(materialized, f"{topic}-")
        if is_global:
            store = replace(store, logging_enabled=False, log_config=(), queryable=True)
        source_name = self.suffixed_or_generate(consumed.name, TABLE_SOURCE_SUFFIX, SOURCE_NAME)
        name = self.named_or_generate(consumed.name, TABLE_SOURCE_NAME)
        node = TableSourceNode(name, (), source_name=source_name, topic=topic,
                               key_serde=consumed.key_serde, value_serde=consumed.value_serde,
                               timestamp_extractor=consumed.timestamp_extractor,
                               offset_reset=consumed.offset_reset, store=store, is_global=is_global)
        self.add_node(node)
        return node

    def store_spec(self, materialized: Materialized[Any, Any], generated_prefix: str | None) -> StoreSpec:
        """Kafka's MaterializedInternal: a user name makes the store queryable; else a generated name
        (burning the counter) when `generated_prefix` is given."""
        user_name = materialized.store_name
        if user_name is None:
            if generated_prefix is None:
                raise TopologyError("internal: a store needs a name")
            name = self.new_store_name(generated_prefix)
        else:
            name = user_name
        return StoreSpec(name=name, key_serde=materialized.key_serde,
                         value_serde=materialized.value_serde, store_type=materialized.store_type,
                         logging_enabled=materialized.logging_enabled,
                         log_config=tuple(sorted(dict(materialized.log_config).items())),
                         caching_enabled=materialized.caching_enabled,
                         supplier=materialized.store_supplier, queryable=user_name is not None)

    # ------------------------------------------------------------------ stores
    def add_state_store(self, store_builder: Any) -> StreamsBuilder:
        """Register a store (a StoreBuilder) that process()/process_values() can name."""
        name = getattr(store_builder, "name", None)
        if not isinstance(name, str):
            raise TopologyError("add_state_store(): expected a StoreBuilder (with a .name), e.g. "
                                "Stores.key_value_store_builder(Stores.persistent_key_value_store('s'), ...).")
        for existing in self._nodes:
            if isinstance(existing, StateStoreNode) and existing.builder.name == name:
                raise TopologyError(f"add_state_store(): a store named {name!r} was already added; store "
                                    "names must be unique.")
        self._nodes.append(StateStoreNode(f"$store:{name}", (), builder=store_builder))
        self._names[f"$store:{name}"] = len(self._nodes) - 1
        self._priorities.append(self._bump())
        return self

    def add_global_store(self, store_builder: Any, topic: str, state_update_supplier: Any,
                         consumed: Consumed[Any, Any] | None = None) -> StreamsBuilder:
        """A global store fed from `topic` by a processor from `state_update_supplier`."""
        consumed = consumed or Consumed()
        source_name = self.suffixed_or_generate(consumed.name, TABLE_SOURCE_SUFFIX, SOURCE_NAME)
        processor_name = self.named_or_generate(consumed.name, TABLE_SOURCE_NAME)
        self.add_node(GlobalStoreNode(processor_name, (), builder=store_builder, source_name=source_name,
                                      topic=topic, supplier=state_update_supplier,
                                      key_serde=consumed.key_serde, value_serde=consumed.value_serde,
                                      timestamp_extractor=consumed.timestamp_extractor))
        return self

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """Jupyter: show the topology built so far (see Topology._repr_mimebundle_)."""
        return self.build()._repr_mimebundle_(include, exclude)

    # ------------------------------------------------------------------ build
    def build(self, props: dict[str, Any] | None = None) -> Any:
        """Compile the graph to a pystreams.Topology; props may set topology.optimization ("all")."""
        if not _COMPILER:
            raise TopologyError("No compiler registered: import pystreams (or pystreams.compiler) "
                                "before calling build().")
        return _COMPILER[0](self.graph(), dict(props) if props else None)
