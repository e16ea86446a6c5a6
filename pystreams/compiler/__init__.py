"""Compiler: logical graph -> physical Topology (sub-topologies, stores, internal topics).

May import graph, dsl, processor, state, serdes and errors; never runtime, testing or cli.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pystreams.compiler.build import compile_graph as _compile_graph
from pystreams.compiler.build import store_builder
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
from pystreams.dsl.builder import register_compiler
from pystreams.errors import TopologyError
from pystreams.graph import LogicalGraph

if TYPE_CHECKING:
    from pystreams.compiler.description import TopologyDescription

#: The windowed/join node kinds (issue 5) and the modules whose import registers their writers. They load when a
#: topology first has such a node (a stateless app never imports window/session stores and RocksDB through them);
#: tests/unit/test_import_time.py checks this table against what the modules register.
EXTENSION_MODULES: dict[str, tuple[str, ...]] = dict.fromkeys(
    ("WindowedAggregateNode", "SuppressNode", "JoinWindowedNode", "StreamStreamJoinNode", "StreamTableJoinNode",
     "TableTableJoinNode", "ForeignKeyJoinNode"),
    ("pystreams.compiler.extensions", "pystreams.compiler.fk_join_extension"))
#: where the DSL keeps its writer registry and the ExtensionNode class every windowed/join node derives from
_WINDOWED = "pystreams.dsl.windowed"


def _deferred(kind: str, modules: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], Callable[[Any, Any], None]]:
    """(replay, write) for kind that import its writers' modules on first call, then hand over to the real ones."""
    def real(step: int) -> Callable[[Any, Any], None]:
        for module in modules:
            importlib.import_module(module)  # registers the real writers over these stand-ins
        writers = sys.modules[_WINDOWED]._writer(kind)
        if writers[step] is stand_ins[step]:
            raise TopologyException(f"{', '.join(modules)} registered no writer for {kind} nodes")
        return writers[step]  # type: ignore[no-any-return]

    stand_ins = (lambda node, compiler: real(0)(node, compiler), lambda node, compiler: real(1)(node, compiler))
    return stand_ins


def _register_deferred_writers() -> None:
    """Stand-ins for the extension writers not registered yet. Without pystreams.dsl.windowed loaded no windowed or
    join node can exist (their classes are defined in it, or in dsl.joins, which imports it): nothing to do, and the
    DSL's windowed module (with dsl.windows and serdes.windowed, ~7 ms) is not imported for an app that never uses
    windows or joins."""
    windowed = sys.modules.get(_WINDOWED)
    if windowed is None:
        return
    for kind, modules in EXTENSION_MODULES.items():
        try:
            windowed._writer(kind)  # already registered (its module was imported): keep the real writers
        except TopologyError:
            windowed.register_writer(kind, *_deferred(kind, modules))


def compile_graph(graph: LogicalGraph, props: dict[str, Any] | None = None) -> Topology:
    """Logical graph -> Topology (pystreams.compiler.build.compile_graph), the windowed/join writers loaded on
    demand; what StreamsBuilder.build() calls."""
    _register_deferred_writers()
    return _compile_graph(graph, props)


register_compiler(compile_graph)

__all__ = ["InternalTopic", "Node", "ProcessorNode", "SinkNode", "SourceNode", "SubTopology",
           "Topology", "TopologyDescription", "TopologyException", "compile_graph", "store_builder"]


def __getattr__(name: str) -> Any:
    """TopologyDescription loads with the first describe() or on first use of the name (an app that never
    describes its topology skips pystreams.compiler.description)."""
    if name == "TopologyDescription":
        from pystreams.compiler.description import TopologyDescription

        globals()[name] = TopologyDescription
        return TopologyDescription
    raise AttributeError(f"module 'pystreams.compiler' has no attribute {name!r}")
