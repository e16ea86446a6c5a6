"""LogicalGraph: an immutable, ordered snapshot of the DSL's nodes (order = Kafka's build priority)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pystreams.errors import TopologyError
from pystreams.graph.nodes import GraphNode
from pystreams.graph.order import write_order


@dataclass(frozen=True)
class LogicalGraph:
    """Nodes in creation order; a node's parents always come before it. `priorities` are Kafka's build
    priorities (default: creation order); a node the DSL adds again (a reused repartition) gets a
    later one, which changes the order the compiler writes nodes in, as in Kafka."""

    nodes: tuple[GraphNode, ...] = ()
    priorities: tuple[int, ...] = ()
    _index: dict[str, GraphNode] = field(default_factory=dict, init=False, repr=False, compare=False)
    _positions: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for node in self.nodes:
            if node.name in self._index:
                raise TopologyError(f"Two operators are named {node.name!r}; names must be unique "
                                    "(change the Named/Grouped/Materialized name of one of them).")
            for parent in node.parents:
                if parent not in self._index:
                    raise TopologyError(f"Operator {node.name!r} has unknown parent {parent!r}.")
            self._index[node.name] = node
        if self.priorities and len(self.priorities) != len(self.nodes):
            raise TopologyError("internal: one build priority per node")
        self._positions.update({node.name: i for i, node in enumerate(self.nodes)})

    def __iter__(self) -> Iterator[GraphNode]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, name: str) -> GraphNode:
        """The node called `name`."""
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def priority(self, name: str) -> int:
        """Kafka's build priority of a node (the compiler writes lower priorities first)."""
        position = self._positions[name]
        return self.priorities[position] if self.priorities else position

    def write_order(self) -> list[GraphNode]:
        """Nodes in the order Kafka writes them into the topology (see compiler.write_order)."""
        children: dict[str, list[str]] = {n.name: [] for n in self.nodes}
        for node in self.nodes:
            for parent in node.parents:
                if node.name not in children[parent]:
                    children[parent].append(node.name)
        order = write_order([n.name for n in self.nodes], {n.name: n.parents for n in self.nodes}, children,
                          {n.name: self.priority(n.name) for n in self.nodes})
        return [self._index[name] for name in order]

    def children(self, name: str) -> list[GraphNode]:
        """Nodes that have `name` as a parent, in creation order."""
        return [n for n in self.nodes if name in n.parents]

    def replace(self, nodes: tuple[GraphNode, ...]) -> LogicalGraph:
        """A new graph with rewritten nodes (optimizations never mutate a graph); nodes keep their
        build priorities by name."""
        return LogicalGraph(nodes, tuple(self.priority(n.name) if n.name in self._positions else i
                                         for i, n in enumerate(nodes)))

