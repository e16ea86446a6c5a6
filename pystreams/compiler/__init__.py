"""Compiler: logical graph -> physical Topology (sub-topologies, stores, internal topics).

May import graph, dsl, processor, state, serdes and errors; never runtime, testing or cli.
"""
from pystreams.compiler.description import TopologyDescription
from pystreams.compiler.topology import (InternalTopic, Node, ProcessorNode, SinkNode, SourceNode,
                                         SubTopology, Topology, TopologyException)
from pystreams.compiler.build import compile_graph, store_builder  # noqa: E402  (needs Topology)
from pystreams.dsl.builder import register_compiler

register_compiler(compile_graph)

try:  # windows and joins (issue 5) register their node writers on import
    import pystreams.compiler.extensions  # noqa: F401
    import pystreams.compiler.fk_join_extension  # noqa: F401  (foreign-key table join, issue 5)
except ImportError:  # pragma: no cover - only while that room is being built
    pass

__all__ = ["InternalTopic", "Node", "ProcessorNode", "SinkNode", "SourceNode", "SubTopology",
           "Topology", "TopologyDescription", "TopologyException", "compile_graph", "store_builder"]
