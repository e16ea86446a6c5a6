"""The immutable logical graph the DSL builds: frozen dataclass nodes with stable Kafka-style names.

Bottom layer: imports nothing from pystreams but errors (never dsl/compiler/runtime/testing/cli).
"""
from pystreams.graph.logical import LogicalGraph
from pystreams.graph.nodes import (AggregateNode, GlobalStoreNode, GraphNode, ProcessorGraphNode,
                                   RepartitionNode, SinkGraphNode, StateStoreNode, StoreSpec,
                                   StreamSourceNode, TableAggregateNode, TableOpNode, TableSourceNode)

__all__ = ["AggregateNode", "GlobalStoreNode", "GraphNode", "LogicalGraph", "ProcessorGraphNode",
           "RepartitionNode", "SinkGraphNode", "StateStoreNode", "StoreSpec", "StreamSourceNode",
           "TableAggregateNode", "TableOpNode", "TableSourceNode"]
