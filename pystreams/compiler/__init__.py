"""Compiler: logical graph -> physical Topology (sub-topologies, stores, internal topics).

May import graph, dsl, processor, state, serdes and errors; never runtime, testing or cli.
"""
from pystreams.compiler.description import TopologyDescription
from pystreams.compiler.topology import (InternalTopic, Node, ProcessorNode, SinkNode, SourceNode,
                                         SubTopology, Topology, TopologyException)

__all__ = ["InternalTopic", "Node", "ProcessorNode", "SinkNode", "SourceNode", "SubTopology",
           "Topology", "TopologyDescription", "TopologyException"]
