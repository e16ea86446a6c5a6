"""Compiler side of the foreign-key table join (pystreams.dsl.joins.ForeignKeyJoinNode): suppliers in DSL order,
then each part written where Kafka's doJoinOnForeignKey puts it in the graph (KTableImpl), so node names,
topics, stores and describe() equal Kafka's."""
from __future__ import annotations

from typing import Any

from pystreams.compiler import copartition
from pystreams.compiler.processors.fkjoin.processors import (ForeignTableJoinProcessorSupplier,
                                                             ResponseJoinProcessorSupplier,
                                                             SubscriptionJoinProcessorSupplier,
                                                             SubscriptionReceiveProcessorSupplier,
                                                             SubscriptionSendProcessorSupplier)
from pystreams.compiler.processors.fkjoin.wrappers import (CombinedKeySchema, SubscriptionResponseWrapperSerde,
                                                           SubscriptionWrapperSerde)
from pystreams.dsl import joins as dj
from pystreams.dsl import windowed as dw
from pystreams.graph import RepartitionNode, StoreSpec, StreamSourceNode, TableSourceNode
from pystreams.serdes.primitives import BytesSerde


class _Parts:
    """Per-join objects shared by the parts: serdes, key schema and suppliers."""

    def __init__(self, spec: dj.ForeignKeyJoinSpec, compiler: Any) -> None:
        from pystreams.compiler.processors.stateful import KTableHandle, KTableSource

        topic = spec.subscription_topic
        this, foreign = compiler.handle(spec.this_table), compiler.handle(spec.foreign_table)
        foreign.enable_sending_old_values(True)
        this.enable_sending_old_values(True)
        self.wrapper_serde = SubscriptionWrapperSerde(spec.key_serde, topic + "-pk")
        self.response_serde = SubscriptionResponseWrapperSerde(spec.foreign_value_serde)
        schema = CombinedKeySchema(spec.foreign_key_serde, spec.key_serde, topic + "-fk", topic + "-pk")
        self.send = SubscriptionSendProcessorSupplier(spec.extractor, spec.foreign_key_serde, spec.value_serde,
                                                      spec.left_join, topic + "-fk", topic + "-vh")
        self.receive = SubscriptionReceiveProcessorSupplier(spec.store_name, schema)
        foreign_getter = foreign.value_getter_supplier()
        self.join_foreign = SubscriptionJoinProcessorSupplier(foreign_getter)
        self.foreign_join = ForeignTableJoinProcessorSupplier(spec.store_name, schema)
        this_getter = this.value_getter_supplier()
        self.resolver = ResponseJoinProcessorSupplier(this_getter, spec.value_serde, topic + "-vh", spec.joiner,
                                                      spec.left_join)
        store = spec.result_store
        self.result = KTableSource(store.name, store.name if store.queryable else None)
        compiler.suppliers[spec.result_name] = self.result
        compiler.handles[spec.result_name] = KTableHandle(self.result, spec.result_name)




def _replay(node: dj.ForeignKeyJoinNode, compiler: Any) -> None:
    spec = node.spec
    assert spec is not None
    if node.part == "send":
        if not hasattr(compiler, "fk_join_parts"):
            compiler.fk_join_parts = {}
        compiler.fk_join_parts[id(spec)] = _Parts(spec, compiler)


def _parts(node: dj.ForeignKeyJoinNode, compiler: Any) -> _Parts:
    parts: _Parts = compiler.fk_join_parts[id(node.spec)]
    return parts


def _sources(graph: Any, name: str) -> set[str]:
    """Kafka's subTopologySourceNodes: a foreign-key join result's are the left table's plus the response
    source (the walk stops at this join's internal sources instead of crossing to the foreign side)."""
    node = graph.node(name)
    if isinstance(node, dj.ForeignKeyJoinNode):
        if node.part in ("source", "response_source"):
            return {node.name}
        if node.part in ("resolver", "result") and node.spec is not None:
            return _sources(graph, node.spec.this_table) | {node.spec.response_source_name}
        found: set[str] = set()
        for parent in node.parents:
            found |= _sources(graph, parent)
        return found
    if isinstance(node, (StreamSourceNode, RepartitionNode, TableSourceNode)) or not node.parents:
        return copartition.source_nodes(graph, name)
    found = set()
    for parent in node.parents:
        found |= _sources(graph, parent)
    return found


def _user_partitioner(partitioner: Any) -> Any:
    """TableJoined's partitioners are asked with a null value, as Kafka does."""
    if partitioner is None:
        return None
    fn = next((getattr(partitioner, a) for a in ("partitions", "partition") if callable(getattr(partitioner, a, None))),
              partitioner)

    def partition(topic: str, key: Any, value: Any, num_partitions: int) -> Any:
        return fn(topic, key, None, num_partitions)
    return partition


def _back_to_subscriber(topic: str, key: Any, value: Any, num_partitions: int) -> Any:
    """Kafka's default response partitioner: the partition the subscribing row was read from."""
    partition = getattr(value, "primary_partition", None)
    return None if partition is None or partition < 0 else {partition}


def _write(node: dj.ForeignKeyJoinNode, compiler: Any) -> None:
    spec = node.spec
    assert spec is not None
    parts, t, part = _parts(node, compiler), compiler.topology, node.part
    if part == "send":
        t.add_processor(node.name, parts.send, *node.parents)
    elif part == "sink":
        t.add_internal_topic(spec.subscription_topic)
        t.add_sink(node.name, spec.subscription_topic, *node.parents, key_serde=spec.foreign_key_serde,
                   value_serde=parts.wrapper_serde, partitioner=_user_partitioner(spec.other_partitioner))
        compiler.explain(node.name, "KTable.join(KTable, foreign_key_extractor, joiner)",
                         "Consumed(key_serde=...) to the foreign table and the left table")
    elif part == "source":
        t.add_source(node.name, spec.subscription_topic, key_serde=spec.foreign_key_serde,
                     value_serde=parts.wrapper_serde)
        sources = _sources(compiler.graph, spec.foreign_table) | {node.name}
        t.copartition_sources(sorted(sources))
    elif part == "store":
        store = StoreSpec(spec.store_name, key_serde=BytesSerde(), value_serde=parts.wrapper_serde,
                          caching_enabled=False)
        t.add_state_store(compiler.store_builder(store))
    elif part == "receive":
        t.add_processor(node.name, parts.receive, *node.parents)
        t.connect_processor_and_state_stores(node.name, spec.store_name)
    elif part == "join_foreign":
        t.add_processor(node.name, parts.join_foreign, *node.parents)
        t.connect_processor_and_state_stores(node.name, *parts.join_foreign.foreign_getter.store_names())
    elif part == "foreign_join":
        t.add_processor(node.name, parts.foreign_join, *node.parents)
        t.connect_processor_and_state_stores(node.name, spec.store_name)
    elif part == "response_sink":
        t.add_internal_topic(spec.response_topic)
        partitioner = _user_partitioner(spec.partitioner) or _back_to_subscriber
        t.add_sink(node.name, spec.response_topic, *node.parents, key_serde=spec.key_serde,
                   value_serde=parts.response_serde, partitioner=partitioner)
    elif part == "response_source":
        t.add_source(node.name, spec.response_topic, key_serde=spec.key_serde, value_serde=parts.response_serde)
        sources = _sources(compiler.graph, spec.this_table) | {node.name}
        t.copartition_sources(sorted(sources))
    elif part == "resolver":
        t.add_processor(node.name, parts.resolver, *node.parents)
        t.connect_processor_and_state_stores(node.name, *parts.resolver.this_getter.store_names())
    elif part == "result":
        t.add_processor(node.name, parts.result, *node.parents)
        if parts.result.materialized:
            t.add_state_store(compiler.store_builder(spec.result_store), node.name)


dw.register_writer("ForeignKeyJoinNode", _replay, _write)
