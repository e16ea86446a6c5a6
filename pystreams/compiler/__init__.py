"""Compiler: logical graph -> physical Topology (sub-topologies, stores, internal topics).

May import graph, dsl, processor, state, serdes and errors; never runtime, testing or cli.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from pystreams.compiler.build import compile_graph, store_builder
from pystreams.compiler.description import TopologyDescription
from pystreams.compiler.topology import (
    InternalTopic,
    Node,
    ProcessorNode,
    SinkNode,
    SourceNode,
    SubTopology,
    Topology,
    TopologyException,
)
from pystreams.dsl import windowed as _windowed
from pystreams.dsl.builder import register_compiler
from pystreams.errors import TopologyError

register_compiler(compile_graph)

#: The windowed/join node kinds (issue 5) and the modules whose import registers their writers. They load when a
#: topology first has such a node (a stateless app never imports window/session stores and RocksDB through them);
#: tests/unit/test_import_time.py checks this table against what the modules register.
EXTENSION_MODULES: dict[str, tuple[str, ...]] = dict.fromkeys(
    ("WindowedAggregateNode", "SuppressNode", "JoinWindowedNode", "StreamStreamJoinNode", "StreamTableJoinNode",
     "TableTableJoinNode", "ForeignKeyJoinNode"),
    ("pystreams.compiler.extensions", "pystreams.compiler.fk_join_extension"))


def _deferred(kind: str, modules: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], Callable[[Any, Any], None]]:
    """(replay, write) for kind that import its writers' modules on first call, then hand over to the real ones."""
    def real(step: int) -> Callable[[Any, Any], None]:
        for module in modules:
            importlib.import_module(module)  # registers the real writers over these stand-ins
        writers = _windowed._writer(kind)
        if writers[step] is stand_ins[step]:
            raise TopologyException(f"{', '.join(modules)} registered no writer for {kind} nodes")
        return writers[step]

    stand_ins = (lambda node, compiler: real(0)(node, compiler), lambda node, compiler: real(1)(node, compiler))
    return stand_ins


for _kind, _modules in EXTENSION_MODULES.items():
    try:
        _windowed._writer(_kind)  # already registered (its module was imported first): keep the real writers
    except TopologyError:
        _windowed.register_writer(_kind, *_deferred(_kind, _modules))

__all__ = ["InternalTopic", "Node", "ProcessorNode", "SinkNode", "SourceNode", "SubTopology",
           "Topology", "TopologyDescription", "TopologyException", "compile_graph", "store_builder"]
