"""compile_graph: logical graph -> Topology, writing nodes in build-priority order as Kafka does.

Two passes, like Kafka: first every table supplier is created and the DSL's side effects on tables
(old values, materialization) are replayed in the order the user made the calls; then each node
writes its sources, processors, sinks, stores and internal topics into the Topology.
"""
from __future__ import annotations

from typing import Any

from pystreams.compiler import optimize
from pystreams.compiler.naming import check_unprovided_names
from pystreams.compiler.processors import stateless as sl
from pystreams.compiler.topology import Topology
from pystreams.errors import ConfigError, TopologyError
from pystreams.graph import (AggregateNode, GlobalStoreNode, GraphNode, LogicalGraph, ProcessorGraphNode,
                             RepartitionNode, SinkGraphNode, StateStoreNode, StoreSpec, StreamSourceNode,
                             TableAggregateNode, TableOpNode, TableSourceNode)

DEFAULT_DSL_STORE = "default.dsl.store"


def _stateful() -> Any:
    from pystreams.compiler.processors import stateful

    return stateful


def store_builder(spec: StoreSpec, default_store_type: str = "rocks_db") -> Any:
    """Kafka's KeyValueStoreMaterializer: a timestamped key-value store builder from a StoreSpec."""
    from pystreams.state import Stores

    store_type = (spec.store_type or default_store_type).lower().replace("_", "")
    if spec.supplier is not None:
        supplier = spec.supplier
    elif store_type == "inmemory":
        supplier = Stores.in_memory_key_value_store(spec.name)
    elif store_type == "rocksdb":
        supplier = Stores.persistent_timestamped_key_value_store(spec.name)
    else:
        raise ConfigError(f"Unknown store type {spec.store_type or default_store_type!r} for store "
                          f"{spec.name}: use 'rocks_db' or 'in_memory' ({DEFAULT_DSL_STORE}).")
    builder = Stores.timestamped_key_value_store_builder(supplier, spec.key_serde, spec.value_serde)
    if spec.logging_enabled:
        builder.with_logging_enabled(dict(spec.log_config))
    else:
        builder.with_logging_disabled()
    if spec.caching_enabled:
        builder.with_caching_enabled()
    return builder


class _Compiler:
    def __init__(self, graph: LogicalGraph, props: dict[str, Any]) -> None:
        self.graph = graph
        self.props = props
        self.topology = Topology()
        self.topology.logical_graph = graph
        self.suppliers: dict[str, Any] = {}
        self.handles: dict[str, Any] = {}
        self.default_store_type = str(props.get(DEFAULT_DSL_STORE, "rocks_db"))
        self.reuse_source_topics = optimize.enabled(props, optimize.REUSE_KTABLE_SOURCE_TOPICS)

    # -------------------------------------------------- pass 1: table bookkeeping
    def _handle(self, parent: str, child: str) -> Any:
        try:
            return self.handles[parent]
        except KeyError:
            raise TopologyError(f"{child}: its parent {parent} is not a KTable.") from None

    def replay_tables(self, dsl_graph: LogicalGraph) -> None:
        for node in dsl_graph:
            if node.name not in self.graph:
                continue  # removed by a rewrite (merged duplicate source)
            if isinstance(node, (TableSourceNode, TableOpNode, AggregateNode, TableAggregateNode)):
                self._replay(node)
            elif callable(replay := getattr(node, "replay_tables", None)):
                # extension point: a node that creates KTable suppliers (windowed aggregates, joins)
                # registers them in self.suppliers / self.handles, in DSL call order
                replay(self)

    def handle(self, name: str) -> Any:
        """The KTableHandle of the table produced by node `name` (for extension nodes)."""
        return self._handle(name, "extension")

    def store_builder(self, spec: StoreSpec) -> Any:
        """A store builder for a StoreSpec with this compile's default store type."""
        return store_builder(spec, self.default_store_type)

    def explain(self, name: str, origin: str, serde_fix: str) -> None:
        """Give a written node the DSL origin and serde hint used in error messages."""
        self._explain(name, origin, serde_fix)

    def _replay(self, node: GraphNode) -> None:
        st = _stateful()
        supplier: Any
        if isinstance(node, TableSourceNode):
            assert node.store is not None
            if node.is_global:
                self.suppliers[node.name] = st.KTableSource(node.store.name, node.store.name)
                return
            queryable = node.store.name if node.store.queryable else None
            supplier = st.KTableSource(node.store.name, queryable)
        elif isinstance(node, AggregateNode):
            assert node.store is not None
            if node.op == "count":
                supplier = st.KStreamAggregate(node.store.name, st.count_initializer, st.count_aggregator)
            elif node.op == "reduce":
                supplier = st.KStreamReduce(node.store.name, node.reducer)
            else:
                supplier = st.KStreamAggregate(node.store.name, node.initializer, node.aggregator)
        elif isinstance(node, TableAggregateNode):
            assert node.store is not None
            if node.op == "count":
                supplier = st.KTableAggregate(node.store.name, st.count_initializer, st.count_aggregator,
                                              st.count_subtractor)
            elif node.op == "reduce":
                supplier = st.KTableReduce(node.store.name, node.adder, node.subtractor)
            else:
                supplier = st.KTableAggregate(node.store.name, node.initializer, node.adder, node.subtractor)
        else:
            assert isinstance(node, TableOpNode)
            queryable = node.store.name if node.store is not None else None
            if node.op == "to_table":
                assert node.store is not None
                supplier = st.KTableSource(node.store.name, node.store.name if node.store.queryable else None)
            elif node.op in ("filter", "filter_not"):
                parent = self._handle(node.parents[0], node.name)
                supplier = st.KTableFilter(parent, node.fn, node.op == "filter_not", queryable)
            elif node.op == "map_values":
                parent = self._handle(node.parents[0], node.name)
                supplier = st.KTableMapValues(parent, node.fn, queryable)
            elif node.op == "to_stream":
                self.suppliers[node.name] = st.KTableToStream()
                return
            elif node.op == "select":
                parent = self._handle(node.parents[0], node.name)
                self.suppliers[node.name] = st.KTableRepartitionMap(parent, node.fn)
                parent.enable_sending_old_values(True)
                return
            else:
                raise TopologyError(f"{node.name}: unknown KTable operation {node.op!r}.")
        self.suppliers[node.name] = supplier
        self.handles[node.name] = st.KTableHandle(supplier, node.name)

    # -------------------------------------------------- pass 2: write the topology
    def write(self) -> Topology:
        for node in self.graph.write_order():
            self._write(node)
        return self.topology

    def _write(self, node: GraphNode) -> None:
        t = self.topology
        if isinstance(node, StreamSourceNode):
            t.add_source(node.name, *node.topics, pattern=node.pattern, key_serde=node.key_serde,
                         value_serde=node.value_serde, timestamp_extractor=node.timestamp_extractor,
                         offset_reset=node.offset_reset)
            where = f"/{node.pattern}/" if node.pattern is not None else ", ".join(map(repr, node.topics))
            self._explain(node.name, f"builder.stream({where})",
                          "Consumed(key_serde=..., value_serde=...) to builder.stream()")
        elif isinstance(node, TableSourceNode):
            self._write_table_source(node)
        elif isinstance(node, ProcessorGraphNode):
            self._write_processor(node)
        elif isinstance(node, SinkGraphNode):
            t.add_sink(node.name, node.topic if node.topic is not None else node.extractor, *node.parents,
                       key_serde=node.key_serde, value_serde=node.value_serde, partitioner=node.partitioner)
            self._explain(node.name, f"KStream.to({node.topic!r})" if node.topic else "KStream.to(extractor)",
                          "Produced(key_serde=..., value_serde=...) to KStream.to()")
        elif isinstance(node, RepartitionNode):
            self._write_repartition(node)
        elif isinstance(node, (AggregateNode, TableAggregateNode)):
            assert node.store is not None
            t.add_processor(node.name, self.suppliers[node.name], *node.parents)
            t.add_state_store(store_builder(node.store, self.default_store_type), node.name)
        elif isinstance(node, TableOpNode):
            t.add_processor(node.name, self.suppliers[node.name], *node.parents)
            supplier = self.suppliers[node.name]
            if node.op == "to_table":
                assert node.store is not None
                if supplier.materialized:
                    t.add_state_store(store_builder(node.store, self.default_store_type), node.name)
            elif node.store is not None:
                t.add_state_store(store_builder(node.store, self.default_store_type), node.name)
        elif isinstance(node, StateStoreNode):
            t.add_state_store(node.builder)
        elif isinstance(node, GlobalStoreNode):
            node.builder.with_logging_disabled()
            t.add_global_store(node.builder, node.source_name, node.topic, node.name, node.supplier,
                               key_serde=node.key_serde, value_serde=node.value_serde,
                               timestamp_extractor=node.timestamp_extractor)
        elif callable(write := getattr(node, "write_to_topology", None)):
            # extension point (windows, joins): the node writes its own processors/stores/topics
            write(self)
        else:
            raise TopologyError(f"{node.name}: the compiler does not know {type(node).__name__} yet.")

    def _explain(self, name: str, origin: str, serde_fix: str) -> None:
        node = self.topology.node(name)
        node.origin, node.serde_fix = origin, serde_fix

    def _write_table_source(self, node: TableSourceNode) -> None:
        t = self.topology
        assert node.store is not None
        supplier = self.suppliers[node.name]
        if node.is_global:
            builder = store_builder(node.store, self.default_store_type)
            builder.with_logging_disabled()
            t.add_global_store(builder, node.source_name, node.topic, node.name, supplier,
                               key_serde=node.key_serde, value_serde=node.value_serde,
                               timestamp_extractor=node.timestamp_extractor)
            return
        t.add_source(node.source_name, node.topic, key_serde=node.key_serde, value_serde=node.value_serde,
                     timestamp_extractor=node.timestamp_extractor, offset_reset=node.offset_reset)
        self._explain(node.source_name, f"builder.table({node.topic!r})",
                      "Consumed(key_serde=..., value_serde=...) to builder.table()")
        t.add_processor(node.name, supplier, node.source_name)
        if supplier.materialized:
            builder = store_builder(node.store, self.default_store_type)
            t.add_state_store(builder, node.name)
            if self.reuse_source_topics:
                builder.with_logging_disabled()
                t.connect_source_store_and_topic(node.store.name, node.topic)

    def _write_repartition(self, node: RepartitionNode) -> None:
        t = self.topology
        t.add_internal_topic(node.topic, node.partitions)
        key_serde, value_serde = node.key_serde, node.value_serde
        sink_value_serde = source_value_serde = value_serde
        if node.grouped_table:
            st = _stateful()
            sink_value_serde, source_value_serde = st.ChangedSerde(value_serde), st.ChangedSerde(value_serde)
        parents: tuple[str, ...] = node.parents
        if node.filter_name is not None:
            predicate = sl.key_not_null if node.drop_null_keys else sl.pass_all
            t.add_processor(node.filter_name, sl.KStreamFilter(predicate), *node.parents)
            parents = (node.filter_name,)
        t.add_sink(node.sink_name, node.topic, *parents, key_serde=key_serde, value_serde=sink_value_serde,
                   partitioner=node.partitioner)
        t.add_source(node.name, node.topic, key_serde=key_serde, value_serde=source_value_serde)
        if node.grouped_table:
            origin, fix = "KTable.group_by", "Grouped(key_serde=..., value_serde=...) to KTable.group_by()"
        elif not node.optimizable:
            origin, fix = "KStream.repartition()", "Repartitioned(key_serde=..., value_serde=...)"
        else:
            origin = "group_by/group_by_key (or to_table) after a key change"
            fix = "Grouped(key_serde=..., value_serde=...) to group_by()/group_by_key()"
        for name in (node.sink_name, node.name):
            self._explain(name, f"repartition topic {node.topic!r} of {origin}", fix)

    def _write_processor(self, node: ProcessorGraphNode) -> None:
        t = self.topology
        supplier = self._stateless_supplier(node)
        t.add_processor(node.name, supplier, *node.parents)
        if node.op in ("process", "process_values"):
            # Kafka's ConnectedStoreProvider: a supplier object may bring its own store builders
            provided = None if isinstance(node.fn, type) else getattr(node.fn, "stores", None)
            if callable(provided):
                for builder in provided() or ():
                    t.add_state_store(builder, node.name)
            if node.stores:
                missing = [s for s in node.stores if s not in t.store_builders()]
                if missing:
                    raise TopologyError(
                        f"KStream.{node.op} ({node.name}) uses store(s) {missing} that were never added. "
                        "Fix: builder.add_state_store(Stores.key_value_store_builder(...)) before "
                        f"{node.op}(), or return the builder from the supplier's stores().")
                t.connect_processor_and_state_stores(node.name, *node.stores)

    def _stateless_supplier(self, node: ProcessorGraphNode) -> Any:
        op, fn = node.op, node.fn
        if op == "filter":
            return sl.KStreamFilter(fn)
        if op == "filter_not":
            return sl.KStreamFilter(fn, filter_not=True)
        if op == "select_key":
            return sl.KStreamSelectKey(fn)
        if op == "map":
            return sl.KStreamMap(fn)
        if op == "map_values":
            return sl.KStreamMapValues(fn, bool(node.option("with_key")))
        if op == "flat_map":
            return sl.KStreamFlatMap(fn)
        if op == "flat_map_values":
            return sl.KStreamFlatMapValues(fn, bool(node.option("with_key")))
        if op == "peek":
            return sl.KStreamPeek(fn)
        if op == "foreach":
            return sl.ForeachProcessorSupplier(fn)
        if op == "print":
            return sl.KStreamPrint(node.option("label"), fn, node.option("file_path"))
        if op in ("merge", "passthrough"):
            return sl.PassThrough()
        if op == "branch":
            return sl.KStreamBranch(tuple(node.option("predicates", ())), tuple(node.option("children", ())))
        if op in ("process", "process_values"):
            return fn
        raise TopologyError(f"{node.name}: unknown stream operation {op!r}.")


def compile_graph(graph: LogicalGraph, props: dict[str, Any] | None = None) -> Topology:
    """Compile a logical graph (from StreamsBuilder) into a Topology; props: topology.optimization,
    default.dsl.store."""
    props = dict(props or {})
    optimized = optimize.optimize(graph, props)
    compiler = _Compiler(optimized, props)
    compiler.replay_tables(graph)  # in DSL call order, as Kafka mutates tables while the DSL is built
    topology = compiler.write()
    # Kafka's buildAndOptimizeTopology ends with checkUnprovidedNames (KIP-1111): fail or warn
    check_unprovided_names(topology, props)
    return topology
