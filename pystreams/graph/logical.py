"""LogicalGraph: an immutable, ordered snapshot of the DSL's nodes (order = Kafka's build priority)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pystreams.errors import TopologyError
from pystreams.graph.nodes import GraphNode


@dataclass(frozen=True)
class LogicalGraph:
    """Nodes in creation order; a node's parents always come before it."""

    nodes: tuple[GraphNode, ...] = ()
    _index: dict[str, GraphNode] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for node in self.nodes:
            if node.name in self._index:
                raise TopologyError(f"Two operators are named {node.name!r}; names must be unique "
                                    "(change the Named/Grouped/Materialized name of one of them).")
            for parent in node.parents:
                if parent not in self._index:
                    raise TopologyError(f"Operator {node.name!r} has unknown parent {parent!r}.")
            self._index[node.name] = node

    def __iter__(self) -> Iterator[GraphNode]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, name: str) -> GraphNode:
        """The node called `name`."""
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def children(self, name: str) -> list[GraphNode]:
        """Nodes that have `name` as a parent, in creation order."""
        return [n for n in self.nodes if name in n.parents]

    def replace(self, nodes: tuple[GraphNode, ...]) -> LogicalGraph:
        """A new graph with other nodes (optimizations rewrite graphs, never mutate them)."""
        return LogicalGraph(nodes)
